"""The one way a unit of work ends (services/transaction.py), on both databases: a block's
last statement may carry the COMMIT (`LAST`), which on PostgreSQL goes with it in one
round trip; a refusal of that statement still leaves nothing behind. Statements sent with
`execute` (on PostgreSQL straight to the session's psycopg connection) belong to the unit of
work, and `stored` makes the session's objects of their rows."""

from __future__ import annotations

from datetime import UTC

import pytest
import sqlalchemy as sa

from my_app.errors import Conflict
from my_app.extensions import db
from my_app.models import BookableResource, BookingEvent
from my_app.models.types import utcnow
from my_app.services.transaction import (
    LAST,
    Columns,
    copy_rows,
    execute,
    insert_rows,
    stored,
    transaction,
    write_together,
)

EVENTS = BookingEvent.__table__


def event_row(event_id: str) -> dict:
    """An outbox row of no request's (the table has no foreign key): a write to refuse."""
    now = utcnow()
    return {
        "id": event_id, "type": "booking.test", "booking_id": 1, "occurred_at": now,
        "payload": "{}", "status": "pending", "attempts": 0, "next_attempt_at": now,
    }  # fmt: skip


def committed(app) -> list[str]:
    """The test events' ids, as another connection sees them."""
    with app.app_context(), db.engine.connect() as connection:
        query = sa.select(EVENTS.c.id).where(EVENTS.c.type == "booking.test").order_by("id")
        return list(connection.scalars(query))


def test_the_last_statement_commits_its_unit_of_work(app):
    with app.app_context():
        with transaction():
            write_together((EVENTS, [event_row("first")]), last=True)
            # Committed by now on PostgreSQL, at the block's end elsewhere; either way the
            # block's end has the same outcome.
        db.session.remove()
    assert committed(app) == ["first"]


def test_a_refused_last_statement_leaves_nothing(app):
    with app.app_context():
        with transaction():
            write_together((EVENTS, [event_row("taken")]))
        with pytest.raises(Conflict, match="already there"), transaction(conflict="already there"):
            write_together((EVENTS, [event_row("new")]))
            write_together((EVENTS, [event_row("taken")]), last=True)
        # The session goes on working after the refusal.
        with transaction():
            db.session.execute(sa.insert(EVENTS), [event_row("after")], execution_options=LAST)
        db.session.remove()
    assert committed(app) == ["after", "taken"]


@pytest.mark.parametrize("stack", [pytest.param(("postgresql", "redis"), id="postgresql")])
def test_on_postgresql_the_last_statement_commits_before_the_block_ends(app):
    with app.app_context():
        with transaction():
            write_together((EVENTS, [event_row("early")]))
            insert_rows(EVENTS, [event_row("early-1"), event_row("early-2")], last=True)
            # another connection sees them already
            assert committed(app) == ["early", "early-1", "early-2"]
            status = db.session.connection().connection.dbapi_connection.info
            assert status.transaction_status.name == "IDLE"
        db.session.remove()


AWKWARD = "tab\there, new\nline, back\\slash, \\N, quote \" and ' , Grüße \u2713, \\."


@pytest.mark.parametrize("write", [copy_rows, insert_rows])
def test_many_rows_arrive_as_given(app, write):
    """`copy_rows` (COPY … FROM STDIN on PostgreSQL) and `insert_rows` (one JSON document
    on PostgreSQL): text that COPY's format or JSON would misread, NULLs and moments arrive
    exactly as given."""
    rows = [{**event_row(f"copied-{n}"), "payload": AWKWARD + str(n)} for n in range(3)]
    rows[1]["payload"] = ""
    with app.app_context():
        with transaction():
            write(EVENTS, rows)
        stored_rows = db.session.execute(
            sa.select(EVENTS.c.id, EVENTS.c.payload, EVENTS.c.occurred_at, EVENTS.c.last_error)
            .where(EVENTS.c.type == "booking.test")
            .order_by(EVENTS.c.id)
        ).all()
        db.session.remove()
    assert [tuple(row) for row in stored_rows] == [
        (row["id"], row["payload"], row["occurred_at"], None) for row in rows
    ]


@pytest.mark.parametrize("write", [copy_rows, insert_rows])
def test_refused_rows_leave_nothing(app, write):
    with app.app_context():
        with transaction():
            write_together((EVENTS, [event_row("taken")]))
        rows = [event_row("fresh"), event_row("taken")]
        with pytest.raises(Conflict, match="already there"), transaction(conflict="already there"):
            write(EVENTS, rows)
        db.session.remove()
    assert committed(app) == ["taken"]


@pytest.mark.parametrize("stack", [pytest.param(("postgresql", "redis"), id="postgresql")])
def test_a_change_after_the_last_statement_is_refused(app):
    """Nothing may be written after a statement that carried the COMMIT: the block raises
    instead of committing the change on its own, outside the unit of work."""
    with app.app_context():
        refused = pytest.raises(RuntimeError, match="after the unit of work's last statement")
        with refused, transaction():
            write_together((EVENTS, [event_row("last")]), last=True)
            db.session.add(BookingEvent(**event_row("after")))
        db.session.remove()
    assert committed(app) == ["last"]


READ = (
    sa.select(EVENTS.c.id, EVENTS.c.occurred_at)
    .where(EVENTS.c.type == sa.bindparam("type"))
    .order_by(EVENTS.c.id)
)


def test_executed_statements_belong_to_the_unit_of_work(app):
    """What `execute` reads includes what the block wrote, and a block that raises takes
    back what it wrote. Moments come back as SQLAlchemy gives them, in UTC, whatever the
    server's session time zone."""
    row = event_row("seen")
    with app.app_context():
        refused = pytest.raises(RuntimeError, match="taken back")
        with refused, transaction():
            if db.session.get_bind().dialect.name == "postgresql":
                db.session.execute(sa.text("SET LOCAL TimeZone = 'Asia/Kolkata'"))
            write_together((EVENTS, [row]))
            (seen,) = execute(READ, {"type": "booking.test"})
            assert tuple(seen) == ("seen", row["occurred_at"])
            assert seen[1].tzinfo is UTC
            raise RuntimeError("taken back")
        with transaction():
            assert execute(READ, {"type": "booking.test"}) == []
        db.session.remove()
    assert committed(app) == []


RESOURCE = Columns(BookableResource)
READ_RESOURCE = sa.select(*RESOURCE.select()).where(BookableResource.id == sa.bindparam("id"))


def test_stored_objects_are_the_sessions_as_read(app):
    """A row read with `execute` becomes the session's object, unchanged (nothing to
    flush); an object the session already holds takes the row's values instead."""
    with app.app_context():
        with transaction():
            resource = BookableResource(name="Room 1", buffer_minutes=5)
            db.session.add(resource)
            db.session.flush()
            resource_id = resource.id
        db.session.remove()
        with transaction():
            (row,) = execute(READ_RESOURCE, {"id": resource_id})
            (values,) = RESOURCE.split(row)
            loaded = stored(BookableResource, values)
            assert db.session.get(BookableResource, resource_id) is loaded
            assert (loaded.name, loaded.buffer_minutes, loaded.active) == ("Room 1", 5, True)
            assert loaded.created_at.tzinfo is UTC
            assert loaded in db.session and not db.session.dirty and not db.session.new
            db.session.execute(
                sa.update(BookableResource.__table__)
                .where(BookableResource.id == resource_id)
                .values(buffer_minutes=10)
            )
            (row,) = execute(READ_RESOURCE, {"id": resource_id})
            assert stored(BookableResource, RESOURCE.split(row)[0]) is loaded
            assert loaded.buffer_minutes == 10 and not db.session.dirty
        db.session.remove()
