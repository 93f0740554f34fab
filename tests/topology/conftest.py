"""Fixtures for the topology tests: an app, migrated, on whatever servers a test started."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask_migrate import upgrade

from config import MIGRATIONS_DIR, TestingConfig
from my_app import create_app, replica
from my_app.extensions import db
from tests.support.api import ApiClient
from tests.support.environ import app_environment


@pytest.fixture
def topology_app(smtp_server, redis_prefix) -> Iterator[Callable[..., Flask]]:
    """`topology_app(database_url, redis_url=None, migrate=False, **overrides)`: an app on
    those servers (the Redis blacklist when `redis_url` is given), disposed of after."""
    apps: list[Flask] = []

    def factory(database_url: str, redis_url: str | None = None, migrate=False, **overrides):
        environ = app_environment(
            database_url, smtp_server.port, "redis" if redis_url else "database", redis_prefix
        )
        if redis_url:
            environ["REDIS_URL"] = redis_url
        environ.update({k: str(v) for k, v in overrides.pop("environ", {}).items()})
        app = create_app(TestingConfig(environ), overrides)
        apps.append(app)
        if migrate:
            with app.app_context():
                upgrade(directory=str(MIGRATIONS_DIR))
                db.engine.dispose()
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        replica.dispose(app)


def api_for(app: Flask, mailbox) -> ApiClient:
    return ApiClient(app.test_client(), app.test_cli_runner(), mailbox)
