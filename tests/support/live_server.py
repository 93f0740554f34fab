"""A throwaway live server for the notebook and the fuzzer.

Starts `flask run` on a free loopback port with a fresh, migrated SQLite
database, SMTP mail to a catcher in this process, and an admin and a
requester ready to log in. Used by `make fuzz`, `make notebook` and tests.
"""

from __future__ import annotations

import mailbox
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

import requests
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[1]
FLASK = str(Path(sys.executable).parent / "flask")
ADMIN = ("admin", "admin@example.com", "admin password 1")
REQUESTER = ("requester", "requester@example.com", "requester password 1")


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Catcher:
    """An SMTP server keeping every message it receives, also in a Maildir for other processes."""

    def __init__(self, maildir: Path):
        self.messages = []
        self.maildir = mailbox.Maildir(maildir, create=True)
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.maildir.add(envelope.content)
        return "250 OK"

    def last_link(self, address: str, marker: str = "/user_confirm/") -> str:
        for message in reversed(self.messages):
            if message["To"] == address:
                for line in message.get_content().splitlines():
                    if marker in line:
                        return line.strip()
        raise LookupError(f"no mail with {marker} to {address}")


@dataclass
class LiveServer:
    url: str
    environ: dict[str, str]
    catcher: Catcher

    def register_and_confirm(self, username: str, email: str, password: str) -> None:
        body = {"username": username, "email": email, "password": password}
        requests.post(f"{self.url}/register", json=body, timeout=10).raise_for_status()
        requests.get(self.catcher.last_link(email), timeout=10).raise_for_status()

    def login(self, username: str, password: str) -> str:
        response = requests.post(
            f"{self.url}/login", json={"username": username, "password": password}, timeout=10
        )
        response.raise_for_status()
        return response.json()["access_token"]


def _flask(args: list[str], environ: dict[str, str]) -> None:
    subprocess.run([FLASK, "--app", "wsgi", *args], cwd=ROOT, env=environ, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


@contextmanager
def live_server(extra_env: dict[str, str] | None = None):
    with tempfile.TemporaryDirectory() as tmp:
        catcher = Catcher(Path(tmp) / "maildir")
        catcher.controller.start()
        port = free_port()
        environ = {
            **os.environ,
            "APP_ENV": "testing",
            "DATABASE_URL": f"sqlite:///{tmp}/live.sqlite",
            "BLACKLIST_BACKEND": "database",
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(catcher.port),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "RATELIMIT_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            # What the notebook reads: where the server is, its mail, its admin.
            "MY_APP_BASE_URL": f"http://127.0.0.1:{port}",
            "MY_APP_MAILDIR": str(Path(tmp) / "maildir"),
            "MY_APP_ADMIN_USERNAME": ADMIN[0],
            "MY_APP_ADMIN_PASSWORD": ADMIN[2],
            **(extra_env or {}),
        }
        environ.pop("REDIS_URL", None)
        _flask(["db", "upgrade"], environ)
        username, email, password = ADMIN
        _flask(["create-admin", "--username", username, "--email", email,
                "--password", password], environ)  # fmt: skip
        log = open(Path(tmp) / "server.log", "w+")  # noqa: SIM115
        server = subprocess.Popen(
            [FLASK, "--app", "wsgi", "run", "--port", str(port), "--with-threads"],
            cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        live = LiveServer(f"http://127.0.0.1:{port}", environ, catcher)
        try:
            _wait(live.url, server, log)
            live.register_and_confirm(*REQUESTER)
            yield live
        finally:
            server.terminate()
            server.wait(timeout=10)
            catcher.controller.stop()
            log.close()


def _wait(url: str, server: subprocess.Popen, log, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited:\n{log.read()}")
        try:
            if requests.get(f"{url}/ping", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready")
