"""Pages of booking requests, as the lists show them: one SELECT per page, with the
requesters and deciders joined in, ordered by (event_time, id) after the cursor.

The rows are plain tuples in the order `schemas.booking_list.BOOKING_ROW` names, which
dumps them: no ORM entity, identity map or relationship loading per row. Each combination
of filters has its statement built once; SQLAlchemy then finds it compiled in its cache.

Outside a unit of work the page is read as the read floor reads its row, on a connection
of its own in autocommit mode: one round trip, with no BEGIN, `set_config` or ROLLBACK
around it, and on PostgreSQL straight on the pooled psycopg connection
(`database.fetch_rows`: its statement compiled once, no SQLAlchemy execution per page).
Like the revocation store's reads, it is bounded by the client's wait for the answer
(my_app/database.py) instead of `statement_timeout`. In a unit of work already begun (an
approver's, whose rights it read), the page is read in it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from my_app.database import DriverStatement, fetch_rows
from my_app.extensions import db
from my_app.models import BookingRequest, User
from my_app.models.types import UTCDateTime, utc_naive
from my_app.schemas.booking_list import BOOKING_ROW
from my_app.services.pagination import Page, decode_cursor, page, row_id

_BOOKINGS = BookingRequest.__table__
_REQUESTER = User.__table__.alias("requester")
_DECIDER = User.__table__.alias("decider")
_PEOPLE = {"requester": _REQUESTER, "decider": _DECIDER}


def _moment(name: str) -> sa.BindParameter:
    return sa.bindparam(name, type_=_BOOKINGS.c.event_time.type)


# Each filter's condition, its value bound under the filter's name.
_CONDITIONS = {
    "resource_ids": _BOOKINGS.c.resource_id.in_(sa.bindparam("resource_ids", expanding=True)),
    "status": _BOOKINGS.c.status == sa.bindparam("status"),
    "resource_id": _BOOKINGS.c.resource_id == sa.bindparam("resource_id"),
    "requested_by": _BOOKINGS.c.requested_by_id == sa.bindparam("requested_by"),
    "series_id": _BOOKINGS.c.series_id == sa.bindparam("series_id"),
    "from_": _BOOKINGS.c.event_time >= _moment("from_"),
    "to": _BOOKINGS.c.event_time < _moment("to"),
    "after": sa.tuple_(_BOOKINGS.c.event_time, _BOOKINGS.c.id)
    > sa.tuple_(_moment("after_time"), sa.bindparam("after_id", type_=sa.Integer)),
}


def read_page(
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
    resource_id: int | None = None,
    requested_by: int | None = None,
    series_id: int | None = None,
    from_: datetime | None = None,
    to: datetime | None = None,
    resource_ids: Collection[int] | None = None,
) -> Page:
    """The page of requests matching every filter given (those of `resource_ids` only),
    continuing after `cursor`."""
    filters = {
        "resource_ids": None if resource_ids is None else sorted(resource_ids),
        "status": status, "resource_id": resource_id, "requested_by": requested_by,
        "series_id": series_id, "from_": from_, "to": to,
    }  # fmt: skip
    values = {name: value for name, value in filters.items() if value is not None}
    conditions = set(values)
    if cursor:
        values["after_time"], values["after_id"] = decode_cursor(cursor, _aware_datetime, row_id)
        conditions.add("after")
    values["limit"] = limit + 1
    rows = _read(frozenset(conditions), values)
    return page(rows, limit, key=lambda row: [row[_TIME].replace(tzinfo=UTC).isoformat(), row[_ID]])


_ID, _TIME = BOOKING_ROW.index("id"), BOOKING_ROW.index("event_time")


def _read(conditions: frozenset[str], values: dict) -> list:
    # The request's session, if it has one: the replica's in `replica.reads()`. A request
    # that has none (the token was checked in Redis) does not make one for this.
    session = db.session.registry() if db.session.registry.has() else None
    if session is not None and session.in_transaction():
        return session.connection().execute(_statement(conditions), values).all()
    engine = db.engine if session is None else session.get_bind()
    if engine.dialect.name == "postgresql":
        return fetch_rows(engine, _driver_statement(conditions, engine), values)
    with engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        return autocommit.execute(_statement(conditions), values).all()


def _driver_statement(conditions: frozenset[str], engine: sa.Engine) -> DriverStatement:
    # Compiled once per combination of filters, for every PostgreSQL engine (the primary's,
    # a replica's): they share one dialect, hence one SQL text.
    statement = _DRIVER_STATEMENTS.get(conditions)
    if statement is None:
        statement = DriverStatement(_statement(conditions, any_of=True), engine)
        _DRIVER_STATEMENTS[conditions] = statement
    return statement


_DRIVER_STATEMENTS: dict[frozenset[str], DriverStatement] = {}


@cache
def _statement(conditions: frozenset[str], any_of: bool = False) -> sa.Select:
    # any_of: the resources as one array (`= ANY(…)`), for a statement compiled once.
    # The page first, then its people: the joins meet only the page's rows, whichever way
    # the page is found (by a status, an approver's resources, a time window).
    fields = [name for name in BOOKING_ROW if name in _BOOKINGS.c]
    page = (
        sa.select(*(_BOOKINGS.c[name] for name in (*fields, "requested_by_id", "decided_by_id")))
        .where(*(_condition(name, any_of) for name in sorted(conditions)))
        .order_by(_BOOKINGS.c.event_time, _BOOKINGS.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .subquery("page")
    )
    columns = {
        name: utc_naive(page.c[name])
        if isinstance(page.c[name].type, UTCDateTime)
        else page.c[name]
        for name in fields
    }
    for role, users in _PEOPLE.items():
        columns |= {f"{role}_{name}": users.c[name] for name in ("id", "username", "email")}
    return (
        sa.select(*(columns[name].label(name) for name in BOOKING_ROW))
        .select_from(
            page.join(_REQUESTER, _REQUESTER.c.id == page.c.requested_by_id).outerjoin(
                _DECIDER, _DECIDER.c.id == page.c.decided_by_id
            )
        )
        .order_by(page.c.event_time, page.c.id)
    )


def _condition(name: str, any_of: bool) -> sa.ColumnElement[bool]:
    if name == "resource_ids" and any_of:
        ids = sa.bindparam("resource_ids", type_=postgresql.ARRAY(sa.Integer))
        return _BOOKINGS.c.resource_id == sa.func.any(ids)
    return _CONDITIONS[name]


def _aware_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("cursor time without an offset")
    return parsed
