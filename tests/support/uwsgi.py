"""Run the app under a real uWSGI master with several workers, for serving tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[2]
UWSGI = shutil.which("uwsgi", path=str(Path(sys.executable).parent)) or "uwsgi"


class UWSGIServer:
    """`uwsgi --http-socket` on a free loopback port, with a stats server to see each worker."""

    def __init__(self, environ: dict[str, str], processes: int = 4, extra_args=()):
        self.port = free_port()
        self.stats_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.environ = {**os.environ, **environ}
        self.args = [
            UWSGI,
            "--module", "wsgi:app",
            "--master",
            "--lazy-apps",
            "--need-app",
            "--die-on-term",
            "--processes", str(processes),
            "--http-socket", f"127.0.0.1:{self.port}",
            "--stats", f"127.0.0.1:{self.stats_port}",
            "--disable-logging",
            "--add-header", "Connection: close",  # http-socket does not keep connections alive
            *extra_args,
        ]  # fmt: skip
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> UWSGIServer:
        self.log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"uwsgi-{self.port}.log", "w+")
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, env=self.environ, stdout=self.log, stderr=subprocess.STDOUT
        )
        self._wait_ready()
        return self

    def __exit__(self, *exc) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uWSGI exited early:\n{self.output()}")
            try:
                healthy = requests.get(f"{self.url}/health", timeout=1).status_code == 200
                if healthy and all(w["status"] != "cheap" for w in self.workers()):
                    return
            except (requests.ConnectionError, requests.Timeout, OSError, ValueError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"uWSGI did not become ready:\n{self.output()}")

    def workers(self) -> list[dict]:
        """Per-worker statistics from the stats server (pid, requests served, ...)."""
        with socket.create_connection(("127.0.0.1", self.stats_port), timeout=5) as sock:
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return json.loads(b"".join(chunks))["workers"]

    def requests_per_worker(self) -> dict[int, int]:
        return {worker["pid"]: worker["requests"] for worker in self.workers()}
