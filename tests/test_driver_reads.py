"""Reads sent straight to the pooled psycopg connection (`database.fetch_rows`, a list's
page on PostgreSQL): the rows, and the driver's errors raised as SQLAlchemy raises them, a
connection that may be broken never handed out again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError

from my_app.database import DriverStatement, fetch_rows
from my_app.extensions import db

pytestmark = pytest.mark.parametrize(
    "stack", [pytest.param(("postgresql", "redis"), id="postgresql")]
)


def statement(text: str) -> DriverStatement:
    return DriverStatement(sa.text(text), db.engine)


def backend(app) -> int:
    with app.app_context():
        return fetch_rows(db.engine, statement("SELECT pg_backend_pid()"), {})[0][0]


def test_rows_come_back_as_tuples_outside_any_transaction(app):
    with app.app_context():
        read = statement("SELECT n, n * :factor FROM generate_series(1, 3) AS n ORDER BY n")
        assert fetch_rows(db.engine, read, {"factor": 10}) == [(1, 10), (2, 20), (3, 30)]
        assert fetch_rows(db.engine, statement("SELECT 2 = ANY(:ids)"), {"ids": [1, 2]}) == [
            (True,)
        ]
    pid = backend(app)
    with app.app_context():
        other = sa.create_engine(db.engine.url, poolclass=sa.NullPool)  # not the pool's
    with other.connect() as connection:
        state = connection.scalar(
            sa.text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        )
    other.dispose()
    assert state == "idle"  # not "idle in transaction": nothing was left open


def test_a_refused_statement_is_sqlalchemys_error_and_the_connection_stays(app):
    pid = backend(app)
    with app.app_context():
        with pytest.raises(DBAPIError) as raised:
            fetch_rows(db.engine, statement("SELECT 1 / 0"), {})
        assert not raised.value.connection_invalidated
        assert raised.value.orig.sqlstate == "22012"
    assert backend(app) == pid  # the same connection, back in the pool, in good order


def test_a_lost_connection_is_a_503_error_and_is_replaced(app):
    pid = backend(app)
    with app.app_context():
        # The server ends this very connection mid-statement (as a fail-over's shutdown does).
        with pytest.raises(OperationalError) as raised:
            fetch_rows(db.engine, statement("SELECT pg_terminate_backend(pg_backend_pid())"), {})
        assert raised.value.connection_invalidated
    assert backend(app) != pid  # never handed out again: a fresh connection serves the next
