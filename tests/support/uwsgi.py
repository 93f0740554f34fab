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

    def __init__(
        self,
        environ: dict[str, str],
        processes: int = 4,
        uwsgi_socket: bool = False,
        ini: Path | None = None,
        http_router: bool = False,
    ):
        """With `ini` (e.g. the shipped deploy/uwsgi.ini), that file sets everything but the
        listeners and the stats server, which come from the environment and arguments.
        `http_router` (with `ini`) listens the way `make serve` does: UWSGI_HTTP, the ini's
        keep-alive HTTP router, instead of a plain `--http-socket`."""
        self.port = free_port()
        self.socket_port = free_port() if uwsgi_socket else None
        self.stats_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        # A developer's own UWSGI_* variables would silently become options.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("UWSGI_")}
        self.environ = {**inherited, **environ}
        listeners = [
            "--http-socket", f"127.0.0.1:{self.port}",
            "--stats", f"127.0.0.1:{self.stats_port}",
            "--add-header", "Connection: close",  # http-socket does not keep connections alive
        ]  # fmt: skip
        if ini and http_router:
            self.environ["UWSGI_HTTP"] = f"127.0.0.1:{self.port}"
            listeners = ["--stats", f"127.0.0.1:{self.stats_port}"]
        if ini:
            self.environ["UWSGI_PROCESSES"] = str(processes)
            if self.socket_port:
                self.environ["UWSGI_SOCKET"] = f"127.0.0.1:{self.socket_port}"
            self.args = [UWSGI, "--ini", str(ini), *listeners]
            return
        self.args = [
            UWSGI,
            "--module", "wsgi:app",
            "--master",
            "--lazy-apps",
            "--need-app",
            "--die-on-term",
            "--processes", str(processes),
            "--disable-logging",
            *listeners,
        ]  # fmt: skip
        if self.socket_port:  # the uwsgi protocol, for nginx's uwsgi_pass
            self.args += ["--socket", f"127.0.0.1:{self.socket_port}"]

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


def environ_for(app) -> dict[str, str]:
    """The environment that makes a uWSGI-served app use `app`'s database, store and mail."""
    config = app.config
    environ = {
        "APP_ENV": "testing",
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "BLACKLIST_BACKEND": config["BLACKLIST_BACKEND"],
        "BLACKLIST_REDIS_PREFIX": config["BLACKLIST_REDIS_PREFIX"],
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(config["MAIL_PORT"]),
        "PUBLIC_BASE_URL": config["PUBLIC_BASE_URL"],
    }
    if config["REDIS_URL"]:
        environ["REDIS_URL"] = config["REDIS_URL"]
    return environ


def hit_every_worker(server: UWSGIServer, url: str, headers: dict, rounds: int = 10) -> list[int]:
    """GET `url` on `server` from 8 threads until each worker has answered; the statuses seen."""
    from concurrent.futures import ThreadPoolExecutor

    before = server.requests_per_worker()

    def get(_):
        return requests.get(f"{server.url}{url}", headers=headers, timeout=10).status_code

    statuses: list[int] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(rounds):  # bounded
            statuses += pool.map(get, range(40))
            after = server.requests_per_worker()
            if all(after[pid] > before[pid] for pid in before):
                return statuses
    raise AssertionError(f"not every worker answered: {before} -> {after}")
