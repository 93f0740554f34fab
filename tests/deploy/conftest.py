"""Fixtures for the serving tests: an empty PostgreSQL database and a private Redis prefix."""

from collections.abc import Iterator

import pytest

from tests.support import services


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A new PostgreSQL database with no tables (migrations not applied), dropped after."""
    services.require(services.postgres_reachable)
    with services.throwaway_database("my_app_serve") as url:
        yield url


@pytest.fixture
def private_redis_prefix() -> Iterator[str]:
    """A random key prefix in the test Redis; its keys are deleted after."""
    services.require(services.redis_reachable)
    prefix = services.unique_name("my_app_serve") + ":"
    yield prefix
    services.delete_redis_prefix(prefix)
