"""Readiness: is the database reachable and its schema at the migrations' head?

Alembic is not imported here: it would add about 10 MB to every worker that answers
`/ping`. The heads are read from the revision scripts' `revision` and `down_revision`
assignments, the two names Alembic itself links them by (tests/test_health.py checks the
result against Alembic's), and the database's revision from Alembic's version table.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from my_app.extensions import db

VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps


def _revision_links(script: Path) -> tuple[str, tuple[str, ...]]:
    """A revision script's own id and the ids it revises."""
    found: dict[str, object] = {}
    for statement in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                found[target.id] = ast.literal_eval(statement.value)
    down = found.get("down_revision")
    parents = () if down is None else (down,) if isinstance(down, str) else tuple(down)
    return str(found["revision"]), parents


@lru_cache(maxsize=4)
def migration_heads(directory: str) -> frozenset[str]:
    """The revisions no other revision revises."""
    links = dict(_revision_links(p) for p in sorted(Path(directory, "versions").glob("*.py")))
    revised = {parent for parents in links.values() for parent in parents}
    return frozenset(links) - revised


def _current_heads(connection) -> frozenset[str]:
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    rows = connection.execute(
        sa.select(sa.column("version_num")).select_from(sa.table(VERSION_TABLE))
    )
    return frozenset(row[0] for row in rows)


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
            current = _current_heads(connection)
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
