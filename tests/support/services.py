"""Real services for tests: throwaway PostgreSQL databases, Redis prefixes, an SMTP server.

When a service is missing, tests skip saying why; with REQUIRE_SERVICES=1 (set by
.ci/run) they fail instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import mailbox
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import psycopg
import pytest
import redis
from aiosmtpd.controller import Controller

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
POSTGRES_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(reason: str):
    """Skip, or fail when the run requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unique_name(prefix: str = "my_app_test") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with psycopg.connect(POSTGRES_DSN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable at {POSTGRES_DSN}: {exc.__class__.__name__}"


def redis_reachable() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return None
    except redis.RedisError as exc:
        return f"Redis is not reachable at {REDIS_URL}: {exc.__class__.__name__}"


def require(reachable) -> None:
    """Skip (or fail) unless `reachable()` (postgres_reachable, redis_reachable) finds it."""
    reason = reachable()
    if reason:
        unavailable(reason)


def _admin_execute(sql: str) -> None:
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(sql)


def create_database(name: str, template: str | None = None) -> str:
    """Create database `name` (optionally copied from `template`); return its SQLAlchemy URL."""
    clause = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
    _admin_execute(f'CREATE DATABASE "{name}"{clause}')
    base = POSTGRES_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def drop_database(name: str) -> None:
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_database(prefix: str = "my_app_test", template: str | None = None) -> Iterator[str]:
    """A new database (empty, or a copy of the one at URL `template`), dropped after; its URL."""
    name = unique_name(prefix)
    url = create_database(name, template.rsplit("/", 1)[1] if template else None)
    try:
        yield url
    finally:
        drop_database(name)


def delete_redis_prefix(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


class Mailbox:
    """Messages received by the in-process SMTP server (also kept in `maildir`, when given,
    for other processes to read)."""

    def __init__(self, maildir: Path | None = None):
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._maildir = mailbox.Maildir(maildir, create=True) if maildir else None
        # Waits until mail handed off by an app in this process has been sent (set by the
        # `mailbox` fixture): reading the box then shows everything the requests so far sent.
        self.settle: Callable[[], object] = lambda: None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
            if self._maildir is not None:
                self._maildir.add(envelope.content)
        return "250 OK"

    def clear(self) -> None:
        self.settle()
        with self._lock:
            self.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        self.settle()
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    def last_body(self, address: str) -> str:
        messages = self.to(address)
        assert messages, f"no mail was sent to {address}"
        return messages[-1].get_content()

    def wait_for(self, address: str, subject: str, count: int = 1, timeout: float = 10):
        """The messages to `address` titled `subject`, once there are `count` (sent off-request)."""
        deadline = time.monotonic() + timeout
        while True:
            messages = [m for m in self.to(address) if m["Subject"] == subject]
            if len(messages) >= count:
                return messages
            assert time.monotonic() < deadline, (
                f"{count} mail(s) {subject!r} to {address} never came"
            )
            time.sleep(0.02)

    def reset_link(self, address: str, count: int = 1) -> str:
        """The link of the `count`-th password-reset mail to `address`, waiting for it."""
        body = self.wait_for(address, "Reset your password", count)[count - 1].get_content()
        for line in body.splitlines():
            if "token=" in line:
                return line.strip()
        raise AssertionError(f"no reset link in the mail to {address}")

    def confirmation_link(self, address: str) -> str:
        for line in self.last_body(address).splitlines():
            if "/user_confirm/" in line:
                return line.strip()
        raise AssertionError(f"no confirmation link in the mail to {address}")


class SMTPServer:
    def __init__(self, maildir: Path | None = None):
        self.mailbox = Mailbox(maildir)
        self.port = free_port()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SMTPServer:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()
