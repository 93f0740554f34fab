"""Run the app under a real uWSGI master with several workers, for serving tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

from tests.support.environ import app_environment
from tests.support.services import free_port
from tests.support.waiting import wait_until_ready

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

    def _wait_ready(self) -> None:
        def every_worker_up(response) -> bool:
            return response.status_code == 200 and all(
                worker["status"] != "cheap" for worker in self.workers()
            )

        wait_until_ready(f"{self.url}/health", self.process, every_worker_up, output=self.output)

    def workers(self) -> list[dict]:
        """Per-worker statistics from the stats server (pid, requests served, ...)."""
        return stats(self.stats_port)["workers"]

    def requests_per_worker(self) -> dict[int, int]:
        return {worker["pid"]: worker["requests"] for worker in self.workers()}


def stats(port: int) -> dict:
    """What uWSGI's stats server on `port` reports (`--stats` / `UWSGI_STATS`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return json.loads(b"".join(chunks))


def environ_for(app) -> dict[str, str]:
    """The environment that makes a uWSGI-served app use `app`'s database, store and mail."""
    config = app.config
    return app_environment(
        config["SQLALCHEMY_DATABASE_URI"],
        config["MAIL_PORT"],
        config["BLACKLIST_BACKEND"],
        config["BLACKLIST_REDIS_PREFIX"],
        config["PUBLIC_BASE_URL"],
    )


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
