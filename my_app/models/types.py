"""Column types shared by the models."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC. A naive datetime names no instant: ValueError."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetimes are not accepted; attach a timezone")
    return value.astimezone(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """An aware UTC datetime on every database (SQLite stores it naive, in UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class utc_naive(sa.sql.functions.FunctionElement):  # lower case: used as a SQL function
    """A `UTCDateTime` column's moment as a naive datetime in UTC, converted by the database,
    for reads of many rows that need no per-value conversion in Python (the JSON encoder
    takes naive times as UTC)."""

    type = sa.DateTime()
    name = "utc_naive"
    inherit_cache = True


@compiles(utc_naive)
def _stored_in_utc(element, compiler, **kw) -> str:  # SQLite stores naive UTC already
    return compiler.process(element.clauses, **kw)


@compiles(utc_naive, "postgresql")
def _at_utc(element, compiler, **kw) -> str:
    return f"({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC')"
