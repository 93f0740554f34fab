"""Readiness: is the database reachable and its schema at the migrations' head?"""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from my_app.extensions import db


@lru_cache(maxsize=4)
def migration_heads(directory: str) -> frozenset[str]:
    config = AlembicConfig()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def readiness() -> tuple[dict[str, str | None], bool]:
    heads = migration_heads(current_app.config["MIGRATIONS_DIR"])
    report: dict[str, str | None] = {
        "status": "error",
        "database": "unreachable",
        "migrations": "unknown",
        "revision": None,
    }
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            report["database"] = "ok"
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError:
        return report, False
    report["revision"] = ",".join(sorted(current)) or None
    if not current:
        report["migrations"] = "not applied"
    elif current == heads:
        report["migrations"] = "current"
        report["status"] = "ok"
    else:
        report["migrations"] = (
            "behind" if current < heads or current.isdisjoint(heads) else "diverged"
        )
    return report, report["status"] == "ok"
