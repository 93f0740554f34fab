"""Fixtures for the serving tests: an empty PostgreSQL database and a private Redis prefix."""

from collections.abc import Iterator

import pytest

from tests.support import services


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A new PostgreSQL database with no tables (migrations not applied), dropped after."""
    reason = services.postgres_reachable()
    if reason:
        services.unavailable(reason)
    name = services.unique_name("my_app_serve")
    url = services.create_database(name)
    try:
        yield url
    finally:
        services.drop_database(name)


@pytest.fixture
def private_redis_prefix() -> Iterator[str]:
    """A random key prefix in the test Redis; its keys are deleted after."""
    reason = services.redis_reachable()
    if reason:
        services.unavailable(reason)
    prefix = services.unique_name("my_app_serve") + ":"
    yield prefix
    services.delete_redis_prefix(prefix)
