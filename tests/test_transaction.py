"""The one way a unit of work ends (services/transaction.py), on both databases: a block's
last statement may carry the COMMIT (`LAST`), which on PostgreSQL goes with it in one
round trip; a refusal of that statement still leaves nothing behind."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from my_app.errors import Conflict
from my_app.extensions import db
from my_app.models import BookingEvent
from my_app.models.types import utcnow
from my_app.services.transaction import LAST, copy_rows, transaction, write_together

EVENTS = BookingEvent.__table__


def event_row(event_id: str) -> dict:
    """An outbox row of no request's (the table has no foreign key): a write to refuse."""
    now = utcnow()
    return {
        "id": event_id, "type": "booking.test", "booking_id": 1, "occurred_at": now,
        "payload": "{}", "status": "pending", "attempts": 0, "next_attempt_at": now,
    }  # fmt: skip


def stored(app) -> list[str]:
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
    assert stored(app) == ["first"]


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
    assert stored(app) == ["after", "taken"]


@pytest.mark.parametrize("stack", [pytest.param(("postgresql", "redis"), id="postgresql")])
def test_on_postgresql_the_last_statement_commits_before_the_block_ends(app):
    with app.app_context():
        with transaction():
            write_together((EVENTS, [event_row("early")]), last=True)
            assert stored(app) == ["early"]  # another connection sees it already
            status = db.session.connection().connection.dbapi_connection.info
            assert status.transaction_status.name == "IDLE"
        db.session.remove()


AWKWARD = "tab\there, new\nline, back\\slash, \\N, quote \" and ' , Grüße \u2713, \\."


def test_copied_rows_arrive_as_given(app):
    """`copy_rows` (COPY … FROM STDIN on PostgreSQL): text that COPY's own format would
    misread, NULLs and moments arrive exactly as given."""
    rows = [{**event_row(f"copied-{n}"), "payload": AWKWARD + str(n)} for n in range(3)]
    rows[1]["payload"] = ""
    with app.app_context():
        with transaction():
            copy_rows(EVENTS, rows)
        stored_rows = db.session.execute(
            sa.select(EVENTS.c.id, EVENTS.c.payload, EVENTS.c.occurred_at, EVENTS.c.last_error)
            .where(EVENTS.c.type == "booking.test")
            .order_by(EVENTS.c.id)
        ).all()
        db.session.remove()
    assert [tuple(row) for row in stored_rows] == [
        (row["id"], row["payload"], row["occurred_at"], None) for row in rows
    ]


def test_a_refused_copy_leaves_nothing(app):
    with app.app_context():
        with transaction():
            write_together((EVENTS, [event_row("taken")]))
        rows = [event_row("fresh"), event_row("taken")]
        with pytest.raises(Conflict, match="already there"), transaction(conflict="already there"):
            copy_rows(EVENTS, rows)
        db.session.remove()
    assert stored(app) == ["taken"]


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
    assert stored(app) == ["last"]
