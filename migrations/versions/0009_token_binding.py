"""tokens bound to their account: random token versions, ids never handed out twice

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

A token names its account by id and carries the account's token version. On
SQLite a table without AUTOINCREMENT gives the highest id again once that row is
deleted, so a new account could inherit a deleted one's id; with versions that all
began at 1 it accepted the deleted account's tokens. Versions now begin at a
random number (the models draw it; no server default), and on SQLite the tables
whose ids leave the database (accounts, sessions, booking requests) get
AUTOINCREMENT, which only a rebuilt table can gain. PostgreSQL's sequences never
hand an id out twice; there only the column's type changes.

The rebuild (batch mode) copies the table; its indexes and triggers, which
reflection cannot all read (expression indexes), are set aside and made again.
migrations/env.py runs SQLite migrations with foreign-key enforcement off, so
that dropping the old table does not cascade to the rows that reference it.
"""

from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NEVER_REUSED_IDS = ("users", "sessions", "booking_requests")


@contextmanager
def _altered(table: str, autoincrement: bool):
    """Alter `table`; on SQLite by rebuilding it, with or without AUTOINCREMENT."""
    if op.get_bind().dialect.name != "sqlite":
        with op.batch_alter_table(table) as batch:
            yield batch
        return
    kept = _indexes_and_triggers(table)
    for kind, name, _ in kept:  # reflection cannot read them all: set aside, made again after
        op.execute(f'DROP {kind.upper()} "{name}"')
    options = {"sqlite_autoincrement": autoincrement}
    with op.batch_alter_table(
        table, recreate="always", table_kwargs=options, reflect_kwargs={"resolve_fks": False}
    ) as batch:
        yield batch
    for _, _, sql in kept:
        op.execute(sql)


def _indexes_and_triggers(table: str) -> list[tuple[str, str, str]]:
    query = sa.text(
        "SELECT type, name, sql FROM sqlite_master "
        "WHERE tbl_name = :table AND type IN ('index', 'trigger') AND sql IS NOT NULL"
    )
    return list(op.get_bind().execute(query, {"table": table}).all())


def upgrade():
    for table in NEVER_REUSED_IDS:
        with _altered(table, autoincrement=True) as batch:
            if table == "users":
                batch.alter_column(
                    "token_version", existing_type=sa.Integer(), type_=sa.BigInteger(),
                    server_default=None, existing_nullable=False,
                )  # fmt: skip


def downgrade():
    for table in NEVER_REUSED_IDS:
        with _altered(table, autoincrement=False) as batch:
            if table == "users":
                batch.alter_column(
                    "token_version", existing_type=sa.BigInteger(), type_=sa.Integer(),
                    server_default="1", existing_nullable=False,
                )  # fmt: skip
