"""A throwaway live server for the notebook and the fuzzer.

Starts `flask run` on a free loopback port with a fresh, migrated SQLite
database, SMTP mail to a server in this process, and an admin and a
requester ready to log in. Used by `make fuzz`, `make notebook` and tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.environ import app_environment
from tests.support.services import Mailbox, SMTPServer, free_port
from tests.support.waiting import wait_until_ready

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).parent / "flask")
ADMIN = ("admin", "admin@example.com", "admin password 1")
REQUESTER = ("requester", "requester@example.com", "requester password 1")


@dataclass
class LiveServer:
    url: str
    environ: dict[str, str]
    mailbox: Mailbox

    def register_and_confirm(self, username: str, email: str, password: str) -> None:
        body = {"username": username, "email": email, "password": password}
        requests.post(f"{self.url}/register", json=body, timeout=10).raise_for_status()
        requests.get(self.mailbox.confirmation_link(email), timeout=10).raise_for_status()

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
def live_server(extra_env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    with tempfile.TemporaryDirectory() as tmp, SMTPServer(Path(tmp) / "maildir") as smtp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        environ = {
            **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
            **app_environment(f"sqlite:///{tmp}/live.sqlite", smtp.port, public_base_url=url),
            "RATELIMIT_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            # What the notebook reads: where the server is, its mail, its admin.
            "MY_APP_BASE_URL": url,
            "MY_APP_MAILDIR": str(Path(tmp) / "maildir"),
            "MY_APP_ADMIN_USERNAME": ADMIN[0],
            "MY_APP_ADMIN_PASSWORD": ADMIN[2],
            **(extra_env or {}),
        }
        _flask(["db", "upgrade"], environ)
        username, email, password = ADMIN
        _flask(["create-admin", "--username", username, "--email", email,
                "--password", password], environ)  # fmt: skip
        with open(Path(tmp) / "server.log", "w+") as log:
            server = subprocess.Popen(
                [FLASK, "--app", "wsgi", "run", "--port", str(port), "--with-threads"],
                cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            live = LiveServer(url, environ, smtp.mailbox)
            try:
                wait_until_ready(f"{url}/ping", server, output=lambda: _read(log))
                live.register_and_confirm(*REQUESTER)
                yield live
            finally:
                server.terminate()
                server.wait(timeout=10)


def _read(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()
