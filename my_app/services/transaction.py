"""The one way a unit of work ends: committed when its block ends, rolled back when it raises.

    with transaction(conflict=lambda: Conflict("That name is taken.")):
        ...reads and writes of one unit of work...

Every service function that writes opens exactly one `transaction()`, so its
commit point is the end of that block and nothing it calls commits on its
behalf (a nested `transaction()` is a bug, and raises). The database's
refusal of a constraint (`IntegrityError`) becomes the domain error that
`conflict` makes, after the rollback, so it may read what is in the way.

The block's last statement may carry the COMMIT (`execution_options=LAST`): on
PostgreSQL the two go in one round trip, and the end of the block has nothing left to
send. Only a statement after which nothing in the block writes or can fail may: the work
is committed by then (an object changed after it makes the block raise instead of
committing the change on its own). A read after it (to say why nothing moved) runs on
its own.

Rows go in through one of three helpers: `write_together` (a few rows of several
tables, on PostgreSQL as one statement of data-modifying CTEs), `insert_rows` (many
rows of one table in one statement, which may carry the COMMIT) and `copy_rows` (many
rows of one table, on PostgreSQL by `COPY … FROM STDIN`, which cannot).

The statements of the hot writes (a submit's, a decision's) go through `execute`: on
PostgreSQL each is compiled once and sent on the session's own psycopg connection, in
the session's transaction, with none of SQLAlchemy's per-statement work (a third of the
Python cost of a write); `stored` makes the session's objects of the rows it reads.

On SQLite the block takes the write lock when it begins (`BEGIN IMMEDIATE`):
a transaction that read first and wrote later could be refused the lock at
once (`SQLITE_BUSY`), whatever the busy timeout. Reads outside a block take
no write lock, so slow work between them (bcrypt) holds up nobody.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from my_app.database import (
    COMMIT_ALONG,
    COMMITTED_ALONG,
    SQLITE_IMMEDIATE,
    WRITES,
    WROTE,
    DriverStatement,
    copy_in,
    run_rows,
)
from my_app.errors import Conflict
from my_app.extensions import db

_OPEN = "unit_of_work_open"
LAST = {COMMIT_ALONG: True}  # the execution options of a block's last statement


@contextmanager
def transaction(
    conflict: Callable[[], Exception] | str | None = None, *, keep_state: bool = False
) -> Iterator[Session]:
    """One unit of work on the request's session: commit at the end of the block.

    `conflict`: the error (or a 409's detail) that a constraint's refusal becomes.
    `keep_state`: the objects keep the values they hold after the commit instead of being
    read again, for writes whose objects hold every value the database now has.
    """
    session = db.session()
    if session.info.get(_OPEN):
        raise RuntimeError("a transaction() inside another: a unit of work commits once")
    session.info[_OPEN] = True
    try:
        _begin(session)
        yield session
        if (session.new or session.dirty or session.deleted) and _committed_along(session):
            raise RuntimeError("changes made after the unit of work's last statement (LAST)")
        session.expire_on_commit = not keep_state
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if conflict is None:
            raise
        raise (Conflict(conflict) if isinstance(conflict, str) else conflict()) from None
    except BaseException:
        db.session.rollback()
        raise
    finally:
        session.expire_on_commit = True
        session.info.pop(_OPEN, None)


def write_together(*writes: tuple[sa.Table, list[dict]], last: bool = False) -> None:
    """Rows of several tables, inside the caller's unit of work: on PostgreSQL in one
    statement (one data-modifying CTE per table, so one round trip), elsewhere (SQLite,
    in-process) one statement per table. Rows referring to each other's keys are fine:
    PostgreSQL checks foreign keys at the end of the statement. Each shape of statement
    is built once, so SQLAlchemy compiles it once. `last`: the block's last statement,
    sent with the COMMIT (`LAST`)."""
    writes = tuple((table, rows) for table, rows in writes if rows)
    if not writes:
        return
    if db.session.get_bind().dialect.name != "postgresql":
        for table, rows in writes:
            db.session.execute(sa.insert(table), rows)
        return
    shape = tuple((table, tuple(rows[0]), len(rows)) for table, rows in writes)
    statement = _together.get(shape)
    if statement is None:
        statement = _together[shape] = _statement_for(shape)
    values = {
        f"{table.name}_{n}_{column}": value
        for table, rows in writes
        for n, row in enumerate(rows)
        for column, value in row.items()
    }
    execute(statement, values, last=last)


_together: dict[tuple, sa.Insert] = {}


def _statement_for(shape: tuple) -> sa.Insert:
    # One INSERT per row: a multi-row VALUES is a statement SQLAlchemy does not cache.
    inserts = [
        sa.insert(table).values(
            {c: sa.bindparam(f"{table.name}_{n}_{c}", type_=table.c[c].type) for c in columns}
        )
        for table, columns, count in shape
        for n in range(count)
    ]
    *first, last = inserts
    return last.add_cte(
        *(insert.returning(sa.literal(1)).cte(f"written_{n}") for n, insert in enumerate(first))
    )


Ahead = Sequence[tuple[sa.Executable, Mapping[str, Any]]]


def execute(
    statement: sa.Executable, values: Mapping[str, Any], *, last: bool = False, ahead: Ahead = ()
) -> list:
    """The rows (tuples, converted as SQLAlchemy converts them) of one Core statement of the
    caller's unit of work, which must be built once (it is compiled once). On PostgreSQL it
    goes on the session's psycopg connection, in the session's transaction
    (`database.run_rows`), in one round trip with the statements `ahead` of it (each with
    its values; built once too, their rows not read); elsewhere through the session, one
    by one. `last`: the block's last statement, sent with the COMMIT (`LAST`)."""
    session = db.session()
    if _writes(statement) or any(_writes(before) for before, _ in ahead):
        session.info[WROTE] = True  # as for any write through the session (my_app/replica.py)
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        connection = session.connection()
        for before, given in ahead:
            connection.execute(before, given)
        options = LAST if last else None
        result = connection.execute(statement, values, execution_options=options)
        return result.all() if result.returns_rows else []
    sent_ahead = [(_driver_statement(before, bind), given) for before, given in ahead]
    driver = _driver_statement(statement, bind)
    return run_rows(session.connection(), driver, values, last, sent_ahead)


def _driver_statement(statement: sa.Executable, bind: sa.Engine) -> DriverStatement:
    driver = _driver_statements.get(statement)
    if driver is None:
        driver = _driver_statements[statement] = DriverStatement(statement, bind)
    return driver


# By statement (each is built once), for every PostgreSQL engine: they share one dialect.
_driver_statements: dict[sa.Executable, DriverStatement] = {}


@functools.cache  # by statement, each built once
def _writes(statement: sa.Executable) -> bool:
    return bool(statement.is_dml or statement.get_execution_options().get(WRITES))


Model = TypeVar("Model")


def stored(model: type[Model], values: Mapping[str, Any]) -> Model:
    """The session's object of a row read with `execute`, as the ORM would load it: an
    object the session holds takes the row's values (`populate_existing`), a new one is
    added unchanged. Attributes not in `values` load from the database if asked for."""
    found = in_session(model, values["id"])
    if found is not None:
        for name, value in values.items():
            set_committed_value(found, name, value)
        return found
    return attach(model, values)


def in_session(model: type[Model], primary_key: Any) -> Model | None:
    """The session's object of `model` with this primary key, if it holds one (no query)."""
    key = sa.inspect(model).identity_key_from_primary_key((primary_key,))
    return db.session.identity_map.get(key)


def attach(model: type[Model], values: Mapping[str, Any]) -> Model:
    """A new object of the session for a row stored as `values` say, which the session does
    not hold yet: unchanged (nothing to flush), the attributes not in `values` loaded from
    the database if asked for. As the ORM's loading does, the values go straight into its
    dict, without the attribute events that setting them one by one would run."""
    loaded = sa.inspect(model).class_manager.new_instance()
    loaded.__dict__.update(values)
    make_transient_to_detached(loaded)
    db.session.add(loaded)
    return loaded


class Columns:
    """The columns a statement sent with `execute` reads of each of several models (every
    mapped column, or the attributes named), in order; and, for `stored`, each model's
    values in a row that begins with them."""

    def __init__(self, *models: type | tuple[type, tuple[str, ...]]) -> None:
        wanted = [model if isinstance(model, tuple) else (model, None) for model in models]
        self.models = tuple(model for model, _ in wanted)
        self.names = tuple(
            names or tuple(attribute.key for attribute in sa.inspect(model).column_attrs)
            for model, names in wanted
        )

    def select(self) -> list[sa.ColumnElement]:
        return [
            getattr(model, name).expression
            for model, names in zip(self.models, self.names, strict=True)
            for name in names
        ]

    def split(self, row: Sequence[Any]) -> list[dict[str, Any]]:
        values, at = [], 0
        for names in self.names:
            values.append(dict(zip(names, row[at : at + len(names)], strict=True)))
            at += len(names)
        return values


def insert_rows(table: sa.Table, rows: list[dict], *, last: bool = False) -> None:
    """Many rows of one table (each with the same columns; numbers, text and aware moments)
    in one statement that, unlike a COPY, may carry the COMMIT (`last`, `LAST`): on
    PostgreSQL the rows go as one JSON document that orjson writes out in C and
    `json_to_recordset` reads back into the columns' types, one round trip in all;
    elsewhere by `executemany`."""
    if not rows:
        return
    if db.session.get_bind().dialect.name != "postgresql":
        db.session.execute(sa.insert(table), rows, execution_options=LAST if last else None)
        return
    columns = tuple(rows[0])
    statement = _inserts.get((table, columns))
    if statement is None:
        statement = _inserts[(table, columns)] = _insert_for(table, columns)
    execute(statement, {"rows": json_rows(rows)}, last=last)


def json_rows(rows: list[dict]) -> str:
    """Rows of column values (numbers, text, aware moments) as one JSON document, for a
    statement that reads them with `json_to_recordset`: written out by orjson, in C."""
    return orjson.dumps(rows, default=_moment).decode()


def _moment(value: Any) -> str:
    """A moment of a `datetime` subclass, which orjson leaves to this (a test clock's)."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value json_rows can send")


_inserts: dict[tuple, sa.TextClause] = {}


def _insert_for(table: sa.Table, columns: tuple[str, ...]) -> sa.TextClause:
    dialect = db.session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    listed = ", ".join(quote(column) for column in columns)
    typed = ", ".join(
        f"{quote(column)} {table.c[column].type.compile(dialect)}" for column in columns
    )
    # Names and types are the table's own, quoted; the values go as the one parameter.
    sql = f"INSERT INTO {quote(table.name)} ({listed}) SELECT {listed}"  # nosec B608
    sql += f" FROM json_to_recordset(CAST(:rows AS json)) AS given ({typed})"
    return sa.text(sql).execution_options(**{WRITES: True})


def copy_rows(table: sa.Table, rows: list[dict]) -> None:
    """Many rows of one table (each with the same columns), inside the caller's unit of work:
    on PostgreSQL by `COPY … FROM STDIN`, whose rows psycopg writes out in C and the server
    takes without a statement per row (a fifth of `executemany`'s client time, half its
    round trip), elsewhere by `executemany`. The columns' types convert the values first, as
    for any statement."""
    if not rows:
        return
    if db.session.get_bind().dialect.name != "postgresql":
        db.session.execute(sa.insert(table), rows)
        return
    columns = tuple(rows[0])
    copy = _copies.get((table, columns))
    if copy is None:
        copy = _copies[(table, columns)] = _copy_for(table, columns)
    statement, values_of, converting = copy
    sent = [values_of(row) for row in rows]
    if converting:  # only the columns whose type converts a value (times, as UTC)
        for n, values in enumerate(sent):
            values = sent[n] = list(values)
            for i, convert in converting:
                values[i] = convert(values[i])
    session = db.session()
    session.info[WROTE] = True  # as for any write through the session (my_app/replica.py)
    copy_in(session.connection(), statement, sent)


_Copy = tuple[str, Callable[[dict], tuple], list[tuple[int, Callable]]]
_copies: dict[tuple, _Copy] = {}


def _copy_for(table: sa.Table, columns: tuple[str, ...]) -> _Copy:
    """The COPY statement, what takes a row's values in order, and the converters of the
    columns that have one, by position."""
    dialect = db.session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    listed = ", ".join(quote(column) for column in columns)
    pick = operator.itemgetter(*columns)
    values_of = pick if len(columns) > 1 else lambda row: (pick(row),)
    converting = [
        (i, convert)
        for i, column in enumerate(columns)
        if (convert := table.c[column].type.bind_processor(dialect)) is not None
    ]
    return f"COPY {quote(table.name)} ({listed}) FROM STDIN", values_of, converting


def _committed_along(session: Session) -> bool:
    """Whether a statement of this unit of work carried its COMMIT (PostgreSQL, `LAST`)."""
    return bool(session.connection().info.get(COMMITTED_ALONG))


def end_reading() -> None:
    """End the session's read-only transaction, keeping what it loaded; before slow work."""
    session = db.session()
    if session.in_transaction():
        _commit_loaded(session)


def _begin(session: Session) -> None:
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return  # PostgreSQL: reads made before the block simply belong to it
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("changes made outside transaction(): they would be committed here")
        _commit_loaded(session)  # a read transaction cannot safely become a writer
    session.connection(execution_options={SQLITE_IMMEDIATE: True})


def _commit_loaded(session: Session) -> None:
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
