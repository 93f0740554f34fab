"""The models and the migrations at head describe one schema, on SQLite and on PostgreSQL.

Alembic's autogenerate compares tables, columns, types, server defaults, keys and
indexes. What it cannot see (check and exclusion constraints, extensions, SQLite's
expression indexes and triggers) is compared in the database's own words against a
database that the models create.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from my_app import models  # noqa: F401  (registers every table with the metadata)
from my_app.extensions import db
from tests.support import services

DATABASES = [
    pytest.param(("sqlite", "database"), id="sqlite"),
    pytest.param(("postgresql", "database"), id="postgresql"),
]

PG_CATALOG = """
    SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'index', tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL
    SELECT 'extension', '', extname, extversion FROM pg_extension
"""
SQLITE_CATALOG = """
    SELECT type, tbl_name, name, sql FROM sqlite_master
    WHERE type IN ('index', 'trigger') AND sql IS NOT NULL
"""


@pytest.mark.parametrize("stack", DATABASES)
def test_models_match_the_migrations_at_head(database_url):
    with _connect(database_url) as connection, warnings.catch_warnings():
        # SQLite cannot reflect lower(name)-style indexes; the catalog test below compares them.
        warnings.filterwarnings(
            "ignore",
            "(Skipped unsupported reflection of|autogenerate skipping metadata-specified) "
            "expression-based index",
        )
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, db.metadata) == []


@pytest.mark.parametrize("stack", DATABASES)
def test_the_models_create_the_migrated_schema(stack, database_url, tmp_path):
    with _database_from_models(stack[0], tmp_path) as created:
        assert _catalog(created) == _catalog(database_url)


@contextmanager
def _connect(url: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


@contextmanager
def _database_from_models(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'from_models.sqlite'}"
        with _connect(url) as connection:
            db.metadata.create_all(connection)
            connection.commit()
        yield url
        return
    with services.throwaway_database("my_app_models") as url:
        with _connect(url) as connection:
            db.metadata.create_all(connection)
            connection.commit()
        yield url


def _catalog(url: str) -> set[tuple[str, ...]]:
    """Every constraint, index, trigger and extension, as the database itself writes it."""
    with _connect(url) as connection:
        query = SQLITE_CATALOG if connection.dialect.name == "sqlite" else PG_CATALOG
        rows = connection.execute(sa.text(query)).all()
    # Alembic's own bookkeeping is the one thing the models do not describe.
    return {
        (kind, table, name, " ".join(sql.split()))
        for kind, table, name, sql in rows
        if table != "alembic_version"
    }
