"""Booking events: a transactional outbox and the deliverer that empties it.

`record()` adds an event row to the caller's transaction, so an event exists
if, and only if, its change was committed. `deliver_due()` sends each due
event to every configured target that does not have it yet (services/
event_targets.py), records every attempt, and retries failures with
exponential backoff and jitter until `EVENTS_GIVE_UP_HOURS` of failures mark
the event `failed`.

Claiming: on PostgreSQL an event is locked (`FOR UPDATE SKIP LOCKED`) for as
long as it is being sent, so deliverers on several hosts never send one event
at the same time, and a deliverer that dies lets go of its event with its
connection. SQLite has no row locks: there the lock is let go before sending
(the database's single write lock must not wait on the network), which is
right for the one deliverer process SQLite supports.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
import sqlalchemy as sa
from flask import current_app

from my_app.extensions import db
from my_app.models import BookingRequest
from my_app.models.event import BookingEvent, BookingEventAttempt
from my_app.models.types import utcnow
from my_app.schemas.booking import Shown
from my_app.schemas.event import event_bodies
from my_app.services import event_targets
from my_app.services.transaction import end_reading, insert_rows, transaction

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- recording


def record(booking: BookingRequest, type: str) -> str:
    """Add the event `type` (`booking.accepted`, …) of `booking`, as it is now; no commit.
    Returns the event's id."""
    return record_many([booking], type)[0]


def record_many(bookings: Iterable[BookingRequest], type: str, last: bool = False) -> list[str]:
    """`record` for each of `bookings`, in one statement; their events' ids. `last`: the
    statement is its unit of work's last, and carries the commit (transaction.LAST)."""
    rows = rows_for(bookings, type)
    # On the table: written at once, with none of the ORM's bookkeeping.
    insert_rows(BookingEvent.__table__, rows, last=last)
    return [row["id"] for row in rows]


# The columns of a new event's row, as `rows_for` gives them.
ROW_COLUMNS = (
    "id", "type", "booking_id", "occurred_at", "payload", "status", "attempts", "next_attempt_at",
)  # fmt: skip


def rows_for(
    bookings: Iterable[BookingRequest], type: str, shown: dict[int, Shown] | None = None
) -> list[dict]:
    """The `booking_events` rows that record `type` for each of `bookings` as they are now,
    for a caller that writes them within a statement of its own (`record_many` otherwise);
    and in `shown`, if given, each request's dump as its event tells it, by id."""
    now = utcnow()
    events = [(str(uuid.uuid4()), booking) for booking in bookings]
    bodies = event_bodies(type, now, events)
    if shown is not None:
        shown.update((body["data"]["id"], Shown(body["data"])) for body in bodies)
    return [
        {
            "id": event_id,
            "type": type,
            "booking_id": booking.id,
            "occurred_at": now,
            "payload": orjson.dumps(body).decode(),  # compact UTF-8, as json.dumps(…)
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
        }
        for (event_id, booking), body in zip(events, bodies, strict=True)
    ]


def record_owner_deleted(user_id: int) -> None:
    """Record `booking.deleted` for each request of an account about to be deleted; no commit.

    The database deletes them with the account (ON DELETE CASCADE).
    """
    owned = db.session.scalars(
        sa.select(BookingRequest)
        .where(BookingRequest.requested_by_id == user_id)
        .order_by(BookingRequest.id)
    ).unique()
    for booking in owned:
        record(booking, "booking.deleted")


# ---------------------------------------------------------------- reading


def backlog() -> dict[str, int]:
    """How many events wait for delivery and how many were given up on.

    Read on a connection of its own, returned at once: a scrape takes no lock and holds
    no connection of the request's.
    """
    query = (
        sa.select(BookingEvent.status, sa.func.count())
        .where(BookingEvent.status.in_(("pending", "failed")))
        .group_by(BookingEvent.status)
    )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        counts = dict(connection.execute(query).all())
    return {"pending": counts.get("pending", 0), "failed": counts.get("failed", 0)}


def failed_events() -> list[BookingEvent]:
    query = sa.select(BookingEvent).where(BookingEvent.status == "failed")
    return list(db.session.scalars(query.order_by(BookingEvent.occurred_at, BookingEvent.id)))


def attempts_of(event_id: str) -> list[BookingEventAttempt]:
    query = sa.select(BookingEventAttempt).where(BookingEventAttempt.event_id == event_id)
    return list(db.session.scalars(query.order_by(BookingEventAttempt.id)))


def retry_failed(event_ids: Iterable[str] = ()) -> int:
    """Put failed events (all, or those named) back in the queue, due now; how many."""
    query = sa.update(BookingEvent).where(BookingEvent.status == "failed")
    if ids := list(event_ids):
        query = query.where(BookingEvent.id.in_(ids))
    with transaction():
        result = db.session.execute(
            query.values(status="pending", next_attempt_at=utcnow(), first_failed_at=None)
        )
    return result.rowcount


# ---------------------------------------------------------------- delivering


@dataclass(frozen=True)
class _Claimed:
    id: str
    type: str
    booking_id: int
    body: bytes
    attempts: int
    first_failed_at: datetime | None
    reached: frozenset[str]  # targets that already have it


def retry_delay(
    attempts: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> timedelta:
    """Seconds before try `attempts + 1`: doubling from `base` up to `cap`, less up to half."""
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=ceiling * (0.5 + rand() / 2))


def deliver_due(stop: Callable[[], bool] = lambda: False) -> Counter:
    """One pass over the events due now; a Counter of `delivered`, `retrying` and `failed`.

    An event retried during the pass is due again only after the pass, so the
    pass ends even when every target keeps failing.
    """
    targets = event_targets.configured(current_app.config)
    cutoff = utcnow()
    outcomes: Counter = Counter()
    while not stop():
        outcome = _deliver_next(cutoff, targets)
        if outcome is None:
            break
        outcomes[outcome] += 1
    return outcomes


def _deliver_next(cutoff: datetime, targets: list[event_targets.Target]) -> str | None:
    """Claim the next due event, send it, record what happened; the outcome (None: none due)."""
    if db.engine.dialect.name == "sqlite":
        # No row locks: the claim is a plain read, and the database's one write lock
        # must not wait on the network.
        claimed = _claim(cutoff)
        end_reading()
        if claimed is None:
            return None
        errors = _send(claimed, targets)
        with transaction():
            return _record(claimed, errors)
    with transaction():  # the claim's row lock lasts while the event is being sent
        claimed = _claim(cutoff)
        if claimed is None:
            return None
        return _record(claimed, _send(claimed, targets))


def _claim(cutoff: datetime) -> _Claimed | None:
    event = db.session.scalars(
        sa.select(BookingEvent)
        .where(BookingEvent.status == "pending", BookingEvent.next_attempt_at <= cutoff)
        .order_by(BookingEvent.next_attempt_at, BookingEvent.occurred_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if event is None:
        return None
    reached = db.session.scalars(
        sa.select(BookingEventAttempt.target).where(
            BookingEventAttempt.event_id == event.id, BookingEventAttempt.ok
        )
    ).all()
    return _Claimed(
        event.id, event.type, event.booking_id, event.payload.encode(), event.attempts,
        event.first_failed_at, frozenset(reached),
    )  # fmt: skip


def _send(event: _Claimed, targets: list[event_targets.Target]) -> dict[str, str | None]:
    """Send `event` to the targets that lack it; each target's error (None: delivered)."""
    errors: dict[str, str | None] = {}
    for target in targets:
        if target.name in event.reached:
            continue
        try:
            target.send(event.id, event.type, event.booking_id, event.body)
            errors[target.name] = None
        except Exception as exc:
            errors[target.name] = str(exc) or exc.__class__.__name__
            log.warning("event %s not delivered to %s: %s", event.id, target.name, exc)
    return errors


def _record(event: _Claimed, errors: dict[str, str | None]) -> str:
    """Record the attempts of one round of sending and the event's next state; the outcome."""
    now = utcnow()
    if errors:
        db.session.execute(
            sa.insert(BookingEventAttempt),
            [
                {"event_id": event.id, "target": name, "at": now, "ok": error is None,
                 "error": error}
                for name, error in errors.items()
            ],
        )  # fmt: skip
    failures = {name: error for name, error in errors.items() if error is not None}
    outcome, values = _next_state(event, failures, bool(errors), now)
    db.session.execute(sa.update(BookingEvent).where(BookingEvent.id == event.id).values(values))
    return outcome


def _next_state(
    event: _Claimed, failures: dict[str, str], targets_tried: bool, now: datetime
) -> tuple[str, dict]:
    attempts = event.attempts + 1 if targets_tried else event.attempts  # rounds of sending
    if not failures:
        return "delivered", {"status": "delivered", "delivered_at": now, "last_error": None,
                             "attempts": attempts}  # fmt: skip
    config = current_app.config
    first_failed_at = event.first_failed_at or now
    values = {
        "attempts": attempts,
        "first_failed_at": first_failed_at,
        "last_error": "; ".join(f"{name}: {error}" for name, error in failures.items())[:2000],
    }
    if now - first_failed_at >= timedelta(hours=config["EVENTS_GIVE_UP_HOURS"]):
        log.error("event %s failed for good after %d attempts", event.id, attempts)
        return "failed", {**values, "status": "failed"}
    delay = retry_delay(
        attempts, config["EVENTS_RETRY_BASE_SECONDS"], config["EVENTS_RETRY_MAX_SECONDS"]
    )
    return "retrying", {**values, "next_attempt_at": now + delay}
