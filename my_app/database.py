"""Engine behaviour that the models rely on, and the bound on every wait for the database.

On PostgreSQL a request never waits longer than DATABASE_TIMEOUT_SECONDS for one thing:
a pool slot (`pool_timeout`), a new connection (libpq `connect_timeout`, at least 2 s),
one statement (`statement_timeout` and `lock_timeout`, set by the transaction's
beginning, which goes with its first statement in one round trip) and, because a server
that has stopped reading never runs `statement_timeout`, the client's own wait for each
answer (psycopg's `wait(timeout=)`).
A connection that timed out on the client side is closed, which SQLAlchemy treats as a
disconnect: it is discarded, the 503 goes through errors.py, and the next request gets a
fresh connection. TCP keepalives and `tcp_user_timeout` notice a vanished peer.

A pooler (PgBouncer in transaction mode, RDS Proxy) may sit in front: nothing is sent
as a startup option, no setting outlives its transaction (`set_config(…, true)` is
`SET LOCAL`), a unit of work's last statement may carry its COMMIT in the same pipeline
(`COMMIT_ALONG`), and no statement is prepared unless the URL asks (`?prepare_threshold=5`,
for a server reached directly). A primary that turns read-only or shuts down (a
fail-over) counts as a disconnect: the pool is emptied, the request is a 503, and new
connections go, with several hosts in the URL, to the one that accepts writes.

A hot statement may skip SQLAlchemy's execution and go to the psycopg connection beneath,
compiled once (`DriverStatement`): a read outside any unit of work (a list's page) on a
pooled connection (`fetch_rows`), a write's statements on its transaction's connection
(`run_rows`). The same pool, checkout check, bounds, conversions, error handling and
statement events, a third of the Python work.

Migrations have no statement bound; the CLI jobs have their own, JOB_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import logging
import math
import select
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg
from flask import Flask, current_app
from sqlalchemy import (
    Connection,
    Engine,
    Text,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    literal_column,
    make_url,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.sql import ClauseElement, ColumnElement
from sqlalchemy.types import TypeEngine

from my_app.extensions import db

if TYPE_CHECKING:
    import sqlite3  # a server on PostgreSQL never loads it

log = logging.getLogger(__name__)
JOB_TIMEOUT_SECONDS = 600.0
RECYCLE_SECONDS = 1800
SQLITE_BUSY_SHARE = 0.8
SQLITE_IMMEDIATE = "sqlite_begin_immediate"  # set by services/transaction.py
# Execution options. COMMIT_ALONG: the statement is its unit of work's last, and its COMMIT
# goes with it in one round trip (services/transaction.py, `LAST`). WRITES: a SELECT that
# writes through data-modifying CTEs (my_app/replica.py pins its caller to the primary).
COMMIT_ALONG = "commit_along"
WRITES = "writes"
COMMITTED_ALONG = "committed_along"  # in a Connection's info: its transaction has ended
WROTE = "wrote"  # in a Session's info: it wrote (my_app/replica.py pins its caller)
# Each PostgreSQL engine's current bound per statement (None: unbounded).
_statement_seconds: weakref.WeakKeyDictionary[Engine, float | None] = weakref.WeakKeyDictionary()


class BoundedConnection(psycopg.Connection):
    """A psycopg connection that gives up on an answer after `wait_timeout` seconds."""

    wait_timeout: float | None = None
    # The transaction's BEGIN and bounds, to send with its first statement (`send`).
    begin_pending: tuple[bytes, ...] | None = None

    def wait(self, gen, interval: float = 0.1, timeout: float | None = None):
        try:
            return super().wait(gen, interval, self.wait_timeout if timeout is None else timeout)
        except psycopg.errors._WaitTimeout:
            # Mid-protocol, the connection's state is unknown: close it, so that
            # SQLAlchemy sees a disconnect and never hands it out again.
            self.close()
            raise


def configure_engine(app: Flask) -> None:
    """Engine options from DATABASE_TIMEOUT_SECONDS; call before `db.init_app`."""
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.pop("pool_pre_ping", None)  # a round trip per checkout; see _on_checkout instead
    options.setdefault("hide_parameters", True)  # no SQL parameter in an error, hence a log
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")):
        # (An in-memory SQLite database has one connection per thread, and no queue.)
        options.setdefault("pool_timeout", app.config["DATABASE_TIMEOUT_SECONDS"])
        options.setdefault("pool_recycle", RECYCLE_SECONDS)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


# Errors of a server that is no longer the writable primary, or is going away: every
# connection to it is suspect, so SQLAlchemy empties the pool as for a lost connection.
# (26000: a prepared statement a pooler lost, should an operator have turned them on.)
FAILOVER_SQLSTATES = frozenset({"25006", "57P01", "57P02", "57P03", "26000"})


_ISOLATION_LEVELS = ("READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE", "READ UNCOMMITTED")


def _isolation(level: str) -> str:
    """An isolation level as SQLAlchemy spells it (`REPEATABLE_READ`), as SQL spells it."""
    spelled = level.replace("_", " ").upper()
    if spelled not in _ISOLATION_LEVELS:
        raise ValueError(f"unknown isolation level {level!r}")
    return spelled


def _milliseconds(seconds: float | None) -> int:
    return 0 if seconds is None else max(1, int(seconds * 1000))


def _configure_postgresql(engine: Engine, seconds: float) -> None:
    _statement_seconds[engine] = seconds

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, record, cargs, cparams: dict[str, Any]):
        cparams.setdefault("connect_timeout", max(2, math.ceil(seconds)))
        cparams.setdefault("keepalives", 1)
        cparams.setdefault("keepalives_idle", max(1, math.ceil(seconds)))
        cparams.setdefault("keepalives_interval", 1)
        cparams.setdefault("keepalives_count", 3)
        cparams.setdefault("tcp_user_timeout", max(1, int(seconds * 1000)))
        if "," in str(cparams.get("host", "")):
            cparams.setdefault("target_session_attrs", "read-write")
        threshold = cparams.pop("prepare_threshold", None)
        cparams["prepare_threshold"] = None if threshold in (None, "") else int(threshold)
        connection = BoundedConnection.connect(*cargs, **cparams)
        connection.wait_timeout = _statement_seconds.get(engine)
        return connection

    @event.listens_for(engine, "begin")
    def _bound_transaction(connection) -> None:
        # The transaction begins with its bounds, and they go with its first statement, in
        # one round trip (`send`; psycopg alone would send its BEGIN on its own first). The
        # bounds end with the transaction, so a pooler may hand the server connection to
        # anyone next. psycopg's commit() and rollback() go by the server's transaction
        # status, so they still end what this BEGIN began, and have nothing to end if no
        # statement was sent. An AUTOCOMMIT connection (the revocation store's, a list's
        # page) has no transaction to scope the bounds to: the client-side bound is its bound.
        driver = connection.connection.dbapi_connection
        driver.begin_pending = None
        level = connection.get_execution_options().get("isolation_level")
        if level == "AUTOCOMMIT":
            return
        driver.autocommit = True  # no BEGIN of psycopg's
        connection.info.pop(COMMITTED_ALONG, None)
        begin = "BEGIN" if level is None else f"BEGIN ISOLATION LEVEL {_isolation(level)}"
        milliseconds = _milliseconds(_statement_seconds.get(engine))
        driver.begin_pending = (
            begin.encode(),
            f"SELECT set_config('statement_timeout', '{milliseconds}', true),"
            f" set_config('lock_timeout', '{milliseconds}', true)".encode(),
        )

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _ended(connection) -> None:  # a transaction that sent nothing leaves nothing pending
        if not connection.invalidated:
            connection.connection.dbapi_connection.begin_pending = None

    @event.listens_for(engine, "do_execute")
    def _execute(cursor, statement, parameters, context) -> bool:
        # What the execution options ask for, with the transaction's beginning if it is still
        # to be sent. An error (a constraint's refusal, a timeout) is raised here, so
        # SQLAlchemy wraps it and the failover check below sees it as for any statement.
        options = context.execution_options
        commit = bool(options.get(COMMIT_ALONG))
        send(cursor, statement, parameters, commit=commit)
        if commit:
            context.root_connection.info[COMMITTED_ALONG] = True
        return True

    @event.listens_for(engine, "do_execute_no_params")
    def _execute_no_params(cursor, statement, context) -> bool:
        _execute(cursor, statement, None, context)
        return True

    @event.listens_for(engine, "do_executemany")
    def _execute_many(cursor, statement, parameters, context) -> None:
        send_begin(cursor.connection)  # then SQLAlchemy's own executemany

    @event.listens_for(engine, "handle_error")
    def _on_error(context) -> None:
        if getattr(context.original_exception, "sqlstate", None) in FAILOVER_SQLSTATES:
            context.is_disconnect = True

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, proxy) -> None:
        # An idle connection has nothing to read. If its socket is readable, the server
        # has closed it (a restart, an idle timeout): retry with a fresh one, at no cost
        # of a query. A silent peer is caught by the timeouts instead.
        if dbapi_connection.closed or _readable(dbapi_connection.pgconn.socket):
            raise DisconnectionError("the server closed this connection")


def send(
    cursor: psycopg.Cursor,
    statement: str,
    parameters,
    *,
    commit: bool = False,
    ahead: Sequence[tuple[str, Any]] = (),
) -> None:
    """Send one statement of a transaction on `cursor`: with the transaction's beginning if
    it is still to be sent, after the statements `ahead` (SQL and parameters; their rows
    are not read), and with the COMMIT if `commit` (`COMMIT_ALONG`), in one pipeline, one
    round trip. A failed statement skips what follows it, and leaves the transaction to
    the rollback."""
    connection = cursor.connection
    begin = connection.begin_pending
    if begin is None and not commit and not ahead:
        cursor.execute(statement, parameters)
        return
    connection.begin_pending = None
    with connection.pipeline():
        for part in begin or ():
            connection.execute(part, prepare=False)
        for sql, values in ahead:
            connection.execute(sql, values, prepare=False)
        cursor.execute(statement, parameters)
        if commit:
            connection.execute(b"COMMIT", prepare=False)


def send_begin(connection: BoundedConnection) -> None:
    """The transaction's beginning, if it is still to be sent, before what cannot go with it
    (a COPY)."""
    begin, connection.begin_pending = connection.begin_pending, None
    if begin is not None:
        with connection.pipeline():
            for part in begin:
                connection.execute(part, prepare=False)


def make_engine(app: Flask, url: str) -> Engine:
    """Another engine (a read replica's) with the main one's pool options and bounds."""
    engine = create_engine(url, **app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    if engine.dialect.name == "postgresql":
        _configure_postgresql(engine, app.config["DATABASE_TIMEOUT_SECONDS"])
    return engine


class DriverStatement:
    """A statement compiled once for PostgreSQL, to send with `fetch_rows` or `run_rows`,
    with the conversions SQLAlchemy would make: each parameter and each result column whose
    type converts a value (a `UTCDateTime`'s) is converted, and nothing else is touched.
    Values psycopg adapts itself (numbers, text, aware datetimes, lists for `= ANY(…)`) go
    as they are; nothing else of SQLAlchemy's execution runs."""

    def __init__(self, statement: ClauseElement, engine: Engine) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.binds = [
            (name, convert)
            for name, bind in compiled.binds.items()
            if (convert := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        ]
        # The values the statement itself binds (a literal in a clause), given every time.
        self.given = {
            name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
        }
        columns = getattr(statement, "selected_columns", ())
        self.results = [
            (i, convert)
            for i, column in enumerate(columns)
            if (convert := column.type.dialect_impl(dialect).result_processor(dialect, None))
            is not None
        ]

    def parameters(self, values: Mapping[str, Any]) -> Mapping[str, Any]:
        if not (self.binds or self.given):
            return values
        converted = {**self.given, **values}
        for name, convert in self.binds:
            if name in converted:
                converted[name] = convert(converted[name])
        return converted

    def rows(self, rows: list) -> list:
        if not self.results:
            return rows
        converted = []
        for row in rows:
            row = list(row)
            for i, convert in self.results:
                row[i] = convert(row[i])
            converted.append(tuple(row))
        return converted


def array_items(values: Iterable[int | datetime]) -> str:
    """The numbers or aware moments of a PostgreSQL array as one text parameter (none needs
    quoting), for a statement that reads it as `CAST(string_to_array(:p, ',') AS integer[])`
    (`array_parameter`): psycopg adapts a list element by element in Python, at several
    times the cost. Numbers become a constant array when the statement is planned, so the
    planner knows how many there are, as for a list (a bare `CAST(:p AS integer[])` is not
    folded, and a guess at its size once planned a move as a scan of the table)."""
    return ",".join(
        value.isoformat() if isinstance(value, datetime) else str(int(value)) for value in values
    )


def array_parameter(name: str, item_type: TypeEngine) -> ColumnElement:
    """The array of `item_type` that the text parameter `name` (`array_items`) holds."""
    items = func.string_to_array(bindparam(name, type_=Text), literal_column("','"))
    return cast(items, ARRAY(item_type))


def fetch_rows(engine: Engine, statement: DriverStatement, values: Mapping[str, Any]) -> list:
    """The rows (tuples) of one read on a PostgreSQL engine, sent outside any transaction
    (autocommit: no BEGIN or ROLLBACK around it) on a connection of the engine's pool.

    Bounded like a statement sent through SQLAlchemy: the pool's wait and the client's
    wait for the answer. A driver error is raised as SQLAlchemy would raise it
    (`DBAPIError`, hence a 503 for a lost server), and a connection that may be broken is
    invalidated, never handed out again."""
    try:
        pooled = engine.raw_connection()  # the checkout listener checks it is still alive
    except psycopg.Error as error:  # no connection could be made
        raise _wrapped(error, statement.sql, engine, lost=True) from error
    connection = pooled.driver_connection
    try:
        if not connection.autocommit:  # a fresh connection: no BEGIN of psycopg's either
            connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, statement.parameters(values))
            return statement.rows(cursor.fetchall())
    except psycopg.Error as error:
        lost = _lost(connection, error)
        if lost:
            _discard(engine, pooled, connection, error)
            pooled.invalidate(error)
        raise _wrapped(error, statement.sql, engine, lost) from error
    finally:
        pooled.close()


def run_rows(
    connection: Connection,
    statement: DriverStatement,
    values: Mapping[str, Any],
    last: bool,
    ahead: Sequence[tuple[DriverStatement, Mapping[str, Any]]] = (),
) -> list:
    """The rows (tuples; none for a statement that returns none) of one statement of the
    transaction `connection` is in (begun, with its bounds, by SQLAlchemy), sent on its
    psycopg connection, in one round trip with the statements `ahead` of it (their rows
    are not read). `last`: the unit of work's last statement, with its COMMIT in the
    same pipeline (`COMMIT_ALONG`). Errors as in `fetch_rows`: SQLAlchemy's, a constraint's
    refusal an `IntegrityError`, and a connection that may be broken invalidated."""
    parameters = statement.parameters(values)
    before = [(driver.sql, driver.parameters(given)) for driver, given in ahead]
    with _sent(connection, statement.sql, parameters, ahead=before) as cursor:
        send(cursor, statement.sql, parameters, commit=last, ahead=before)
        if last:
            connection.info[COMMITTED_ALONG] = True
        result = cursor.pgresult  # not `description`, which makes an object per column
        return statement.rows(cursor.fetchall()) if result and result.nfields else []


def copy_in(connection: Connection, sql: str, rows: list[tuple]) -> None:
    """`COPY … FROM STDIN` of `rows` (tuples of values psycopg adapts, in the statement's
    column order) in the transaction `connection` is in, on its psycopg connection: after
    the transaction's beginning if it is still to be sent (a COPY cannot join a pipeline).
    Errors and the engine's statement events as in `run_rows`."""
    with _sent(connection, sql, None) as cursor:
        send_begin(cursor.connection)
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


@contextmanager
def _sent(
    connection: Connection, sql: str, parameters, ahead: Sequence[tuple[str, Any]] = ()
) -> Iterator[psycopg.Cursor]:
    """A cursor of the transaction's psycopg connection for one statement: the engine's
    statement events around it (SQL logging, tracing, tests hear it), and the driver's
    errors raised as SQLAlchemy's, a connection that may be broken invalidated. The
    statements `ahead` of it in its pipeline are told of first, each with both events at
    once: their answers come with its own, whose events span the round trip."""
    driver = connection.connection.driver_connection
    dispatch = connection.dispatch
    listening = dispatch.before_cursor_execute or dispatch.after_cursor_execute
    try:
        with driver.cursor() as cursor:
            if listening:
                for text, values in ahead:
                    dispatch.before_cursor_execute(connection, cursor, text, values, None, False)
                    dispatch.after_cursor_execute(connection, cursor, text, values, None, False)
                dispatch.before_cursor_execute(connection, cursor, sql, parameters, None, False)
            yield cursor
            if listening:
                dispatch.after_cursor_execute(connection, cursor, sql, parameters, None, False)
    except psycopg.Error as error:
        lost = _lost(driver, error)
        if lost:
            _discard(connection.engine, connection.connection, driver, error)
            connection.invalidate(error)
        raise _wrapped(error, sql, connection.engine, lost) from error


def _lost(connection: psycopg.Connection, error: psycopg.Error) -> bool:
    """Whether the connection may be broken after `error`: never to be used again."""
    return (
        connection.closed
        or isinstance(error, psycopg.OperationalError)
        or getattr(error, "sqlstate", None) in FAILOVER_SQLSTATES
    )


def _discard(engine: Engine, pooled, connection: psycopg.Connection, error: psycopg.Error):
    """A server gone, or no longer the primary, is as SQLAlchemy treats a disconnect: every
    connection the pool made before now is replaced on its next checkout."""
    if connection.closed or getattr(error, "sqlstate", None) in FAILOVER_SQLSTATES:
        engine.pool._invalidate(pooled, error, _checkin=False)


def _wrapped(error: psycopg.Error, sql: str, engine: Engine, lost: bool):
    """The driver's error as SQLAlchemy raises it (`OperationalError`, `IntegrityError` …)."""
    return DBAPIError.instance(
        sql, None, error, psycopg.Error, hide_parameters=True,
        connection_invalidated=lost, dialect=engine.dialect,
    )  # fmt: skip


def _readable(fileno: int) -> bool:
    readable, _, _ = select.select([fileno], [], [], 0)
    return bool(readable)


def set_statement_bound(seconds: float | None, engine: Engine | None = None) -> None:
    """Bound each statement of this process to `seconds` (None: unbounded), from now on.

    For migrations and CLI jobs, which run in their own process; pooled connections
    are replaced so that every later statement runs under the new bound.
    """
    engine = engine or db.engine
    if engine.dialect.name != "postgresql":
        return
    _statement_seconds[engine] = seconds
    engine.dispose()


def use_job_limits() -> None:
    """Give a CLI job its own bound per statement, longer than a request's."""
    set_statement_bound(max(JOB_TIMEOUT_SECONDS, current_app.config["DATABASE_TIMEOUT_SECONDS"]))


def _configure_sqlite(engine: Engine, seconds: float) -> None:
    # SQLite serialises writers. A unit of work takes the write lock when it begins
    # (`BEGIN IMMEDIATE`, asked for by services/transaction.py); plain reads begin
    # deferred and, in WAL mode, neither wait for a writer nor hold one up. A writer
    # waits its turn at most the busy timeout, a little under the request's bound, so
    # that a queue of writers ends in a 503 before the client's own timeout.
    busy_ms = max(100, int(seconds * 1000 * SQLITE_BUSY_SHARE))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        dbapi_connection.execute(f"PRAGMA busy_timeout = {busy_ms}")
        if engine.url.database not in (None, "", ":memory:"):
            dbapi_connection.execute("PRAGMA journal_mode = WAL")

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        options = connection.get_execution_options()
        # An AUTOCOMMIT connection (the revocation store's) runs each statement on its own.
        if options.get("isolation_level") != "AUTOCOMMIT":
            immediate = options.get(SQLITE_IMMEDIATE)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _end_session(_exc: BaseException | None) -> None:
    # The response is decided by now. Ending the transaction may still time out (the
    # server froze after the last statement): the connection is then discarded, and the
    # client must get its answer rather than an error raised after the fact.
    try:
        db.session.remove()
    except DBAPIError as error:
        log.warning("discarding a database connection at the end of a request: %s", error)
        db.session.registry.clear()


def init_app(app: Flask) -> None:
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first.
    app.teardown_appcontext(_end_session)
    seconds = app.config["DATABASE_TIMEOUT_SECONDS"]
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                _configure_sqlite(engine, seconds)
            elif engine.dialect.name == "postgresql":
                _configure_postgresql(engine, seconds)
