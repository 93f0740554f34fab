"""Fixtures: an app per test on a fresh, migrated database, its client, and real services.

`app` runs every test twice where services allow: on SQLite with the database
blacklist, and on PostgreSQL with the Redis blacklist.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from config import MIGRATIONS_DIR, TestingConfig
from my_app import create_app
from my_app.extensions import db
from tests.support import services
from tests.support.api import ApiClient

PUBLIC_BASE_URL = "http://bookings.test"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[services.SMTPServer]:
    with services.SMTPServer() as server:
        yield server


@pytest.fixture
def mailbox(smtp_server):
    smtp_server.mailbox.clear()
    return smtp_server.mailbox


def _environ(database_url: str, blacklist: str, smtp_port: int, redis_prefix: str) -> dict:
    environ = {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "BLACKLIST_BACKEND": blacklist,
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
    }
    if blacklist == "redis":
        environ["REDIS_URL"] = services.REDIS_URL
        environ["BLACKLIST_REDIS_PREFIX"] = redis_prefix
        environ["RATELIMIT_KEY_PREFIX"] = redis_prefix + "limits"
    return environ


def _migrate(app: Flask) -> None:
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, smtp_server) -> Path:
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite"
    environ = _environ(f"sqlite:///{path}", "database", smtp_server.port, "")
    _migrate(create_app(TestingConfig(environ)))
    return path


@pytest.fixture(scope="session")
def postgres_template(smtp_server) -> Iterator[str]:
    """A migrated PostgreSQL database, used as the template of each test's database."""
    reason = services.postgres_reachable()
    if reason:
        yield ""  # tests asking for PostgreSQL skip (or fail) with this reason
        return
    name = services.unique_name("my_app_tmpl")
    url = services.create_database(name)
    try:
        _migrate(create_app(TestingConfig(_environ(url, "database", smtp_server.port, ""))))
        yield name
    finally:
        services.drop_database(name)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own: its cached accounts match its own database."""
    prefix = services.unique_name("my_app_test") + ":"
    yield prefix
    if services.redis_reachable() is None:
        services.delete_redis_prefix(prefix)


# The stacks every behaviour is checked on: (database, blacklist store). A test
# can pin one with `@pytest.mark.parametrize("stack", [("postgresql", "database")])`.
STACKS = [
    pytest.param(("sqlite", "database"), id="sqlite"),
    pytest.param(("postgresql", "redis"), id="postgresql-redis"),
]
ALL_STACKS = [*STACKS, pytest.param(("postgresql", "database"), id="postgresql-database")]


@pytest.fixture(params=STACKS)
def stack(request) -> tuple[str, str]:
    return request.param


@pytest.fixture
def database_url(stack, tmp_path, sqlite_template, postgres_template) -> Iterator[str]:
    """A fresh migrated database of the stack's kind."""
    if stack[0] == "sqlite":
        path = tmp_path / "app.sqlite"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    reason = services.postgres_reachable()
    if reason:
        services.unavailable(reason)
    name = services.unique_name()
    url = services.create_database(name, template=postgres_template)
    try:
        yield url
    finally:
        services.drop_database(name)


@pytest.fixture
def make_app(database_url, smtp_server, redis_prefix) -> Iterator[Callable[..., Flask]]:
    """Build an app on this test's database: `make_app(blacklist="redis", TESTING=False)`."""
    apps: list[Flask] = []

    def factory(blacklist: str = "database", **overrides) -> Flask:
        if blacklist == "redis":
            reason = services.redis_reachable()
            if reason:
                services.unavailable(reason)
        environ = _environ(database_url, blacklist, smtp_server.port, redis_prefix)
        app = create_app(TestingConfig(environ), overrides)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(stack, make_app) -> Flask:
    return make_app(blacklist=stack[1])


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def api(client, runner, mailbox) -> ApiClient:
    return ApiClient(client, runner, mailbox)
