"""Statements sent straight to psycopg: reads on a pooled connection (`database.fetch_rows`,
a list's page on PostgreSQL) and a unit of work's statements on its own connection
(`database.run_rows`, a submit's and a decision's): the rows, and the driver's errors raised
as SQLAlchemy raises them, a connection that may be broken never handed out again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError

from my_app.database import (
    DriverStatement,
    array_items,
    array_parameter,
    fetch_rows,
    run_rows,
)
from my_app.extensions import db
from my_app.services.transaction import transaction

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


def test_a_unit_of_works_statements_are_heard_like_sqlalchemys(app):
    """The engine's statement events (SQL logging, tracing) hear them, before and after."""
    heard = []
    with app.app_context():
        engine = db.engine

        @sa.event.listens_for(engine, "before_cursor_execute")
        def before(connection, cursor, statement, parameters, context, executemany):
            heard.append(("before", statement, parameters))

        @sa.event.listens_for(engine, "after_cursor_execute")
        def after(connection, cursor, statement, parameters, context, executemany):
            heard.append(("after", statement, parameters))

        try:
            with transaction():
                read = statement("SELECT :n * 2")
                assert run_rows(db.session.connection(), read, {"n": 21}, last=True) == [(42,)]
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)
            sa.event.remove(engine, "after_cursor_execute", after)
        db.session.remove()
    assert heard[-2:] == [
        ("before", "SELECT %(n)s * 2", {"n": 21}),
        ("after", "SELECT %(n)s * 2", {"n": 21}),
    ]


def test_a_connection_lost_in_a_unit_of_work_is_lost_and_the_pool_is_renewed(app):
    """The server ends the transaction's connection (as a fail-over's shutdown does): the
    unit of work fails as for a lost server (a 503), and the connections the pool made
    before are replaced too: the server they lead to may be gone or no longer the primary."""
    with app.app_context():
        with db.engine.connect() as other:  # checked out: the unit of work gets another
            before = other.scalar(sa.text("SELECT pg_backend_pid()"))
            with pytest.raises(OperationalError) as raised, transaction():
                kill = statement("SELECT pg_terminate_backend(pg_backend_pid())")
                run_rows(db.session.connection(), kill, {}, last=False)
            assert raised.value.connection_invalidated
        db.session.remove()
    assert before not in {backend(app), backend(app)}


@pytest.mark.parametrize("through", ["driver", "sqlalchemy"])
def test_a_unit_of_work_begins_with_its_bounds_in_its_first_statements_round_trip(app, through):
    """The BEGIN and the bounds are not sent on their own: they go with the first statement,
    whichever way it is sent, and that statement runs inside the transaction, bounded."""
    bound = str(int(app.config["DATABASE_TIMEOUT_SECONDS"] * 1000))  # in milliseconds
    settings = (
        "SELECT (SELECT setting FROM pg_settings WHERE name = 'statement_timeout'),"
        " (SELECT setting FROM pg_settings WHERE name = 'lock_timeout')"
    )
    with app.app_context():
        with transaction():
            connection = db.session.connection()
            driver = connection.connection.driver_connection
            assert driver.info.transaction_status.name == "IDLE"  # nothing sent yet
            if through == "driver":
                (row,) = run_rows(connection, statement(settings), {}, last=False)
            else:
                row = db.session.execute(sa.text(settings)).one()
            assert tuple(row) == (bound, bound)
            assert driver.info.transaction_status.name == "INTRANS"
        db.session.remove()


def test_an_array_sent_as_text_is_a_constant_to_the_planner(app):
    """`array_items` + `array_parameter`: numbers in one text parameter arrive as the array,
    and the planner sees a constant of known size (folded when the statement is planned),
    as for a list, so that a move by ids is planned as probes of the primary key."""
    read = sa.select(array_parameter("ids", sa.Integer).label("ids"))
    with app.app_context(), transaction():
        statement = DriverStatement(read, db.engine)
        connection = db.session.connection()
        assert run_rows(connection, statement, {"ids": array_items([3, 1, 2])}, False) == [
            ([3, 1, 2],)
        ]
        assert run_rows(connection, statement, {"ids": array_items([])}, False) == [([],)]
        with connection.connection.driver_connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN (VERBOSE, COSTS OFF) " + statement.sql, {"ids": array_items([3, 1, 2])}
            )
            plan = " ".join(row[0] for row in cursor.fetchall())
    assert "'{3,1,2}'::integer[]" in plan, plan
