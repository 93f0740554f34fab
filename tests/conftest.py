"""Fixtures: an app per test on a fresh, migrated database, its client, and real services.

`app` runs every test twice where services allow: on SQLite with the database
blacklist, and on PostgreSQL with the Redis blacklist.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from config import MIGRATIONS_DIR, TestingConfig
from my_app import create_app
from my_app.extensions import db
from my_app.services import mail
from tests.support import services
from tests.support.api import ApiClient
from tests.support.environ import app_environment


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[services.SMTPServer]:
    with services.SMTPServer() as server:
        yield server


def _mail_sent(timeout: float = 10.0) -> bool:
    """Whether all mail this process handed to `send_mail_later` has left its sender thread."""
    done = threading.Event()
    messages = mail._sender._queue
    threading.Thread(target=lambda: (messages.join(), done.set()), daemon=True).start()
    return done.wait(timeout)


@pytest.fixture
def mailbox(smtp_server):
    smtp_server.mailbox.settle = _mail_sent
    smtp_server.mailbox.clear()
    return smtp_server.mailbox


def _migrate(app: Flask) -> None:
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, smtp_server) -> Path:
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite"
    environ = app_environment(f"sqlite:///{path}", smtp_server.port)
    _migrate(create_app(TestingConfig(environ)))
    return path


@pytest.fixture(scope="session")
def postgres_template(smtp_server) -> Iterator[str]:
    """A migrated PostgreSQL database, used as the template of each test's database."""
    if services.postgres_reachable():
        yield ""  # tests asking for PostgreSQL skip (or fail) in `database_url`
        return
    with services.throwaway_database("my_app_tmpl") as url:
        _migrate(create_app(TestingConfig(app_environment(url, smtp_server.port))))
        yield url


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
    services.require(services.postgres_reachable)
    with services.throwaway_database(template=postgres_template) as url:
        yield url


@pytest.fixture
def make_app(database_url, smtp_server, redis_prefix) -> Iterator[Callable[..., Flask]]:
    """Build an app on this test's database: `make_app(blacklist="redis", TESTING=False)`."""
    apps: list[Flask] = []

    def factory(blacklist: str = "database", **overrides) -> Flask:
        if blacklist == "redis":
            services.require(services.redis_reachable)
        environ = app_environment(database_url, smtp_server.port, blacklist, redis_prefix)
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
