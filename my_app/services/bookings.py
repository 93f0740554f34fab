"""The booking workflow: the one state machine every path goes through.

    pending ──► accepted ──► cancelled
       │
       ├──► rejected
       ├──► cancelled
       └──► expired

Each move is a guarded UPDATE (`… WHERE id = :id AND status = :from`), so of
two concurrent deciders exactly one wins and exactly one history row is
written, in the same transaction. Accepted requests of a resource never
overlap: the database refuses an overlapping acceptance (an exclusion
constraint on PostgreSQL, triggers on SQLite), and the refusal becomes a 409
that names the accepted requests in the way. Accepts of one resource take
turns (a lock on the resource row): without that, two PostgreSQL transactions
each waiting on the other's uncommitted constraint entry deadlock, and the
victim would see a 503.

A write answers with the objects it holds: the values it wrote are the values
the database has, so nothing is read back after the commit
(`_commit_keeping_state`), and the requester's e-mail leaves after the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from my_app import metrics
from my_app.errors import Conflict, NotFound, PreconditionFailed
from my_app.extensions import db
from my_app.models import BookingHistory, BookingRequest, User
from my_app.models.types import utcnow
from my_app.services import catalog, mail, tokens
from my_app.services import events as outbox
from my_app.services.pagination import Page, decode_cursor, page, row_id
from my_app.services.permissions import require_admin, require_owner_or_admin

TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"accepted", "rejected", "cancelled", "expired"}),
    "accepted": frozenset({"cancelled"}),
}
NOTIFIED = {"accepted", "rejected", "cancelled"}


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


# ---------------------------------------------------------------- reading


def get_booking(booking_id: int, deciding: bool = False) -> BookingRequest:
    """The request, or 404; `deciding` leaves out its decider, whom the decision replaces."""
    options = [lazyload(BookingRequest.decided_by)] if deciding else []
    booking = db.session.get(BookingRequest, booking_id, options=options)
    if booking is None:
        raise NotFound(f"There is no booking request {booking_id}.")
    return booking


def visible_booking(actor: User, booking_id: int) -> BookingRequest:
    booking = get_booking(booking_id)
    require_owner_or_admin(actor, booking.requested_by_id, "see your own booking requests")
    return booking


def history(actor: User, booking_id: int) -> list[BookingHistory]:
    visible_booking(actor, booking_id)
    query = (
        sa.select(BookingHistory)
        .where(BookingHistory.booking_id == booking_id)
        .order_by(BookingHistory.at, BookingHistory.id)
    )
    return list(db.session.scalars(query))


def list_all(actor: User, **filters) -> Page:
    """Every booking request matching `filters` (admin)."""
    require_admin(actor)
    return _list(**filters)


def list_own(actor: User, **filters) -> Page:
    """The booking requests `actor` submitted."""
    return _list(requested_by=actor.id, **filters)


def _list(
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
    resource_id: int | None = None,
    requested_by: int | None = None,
    from_: datetime | None = None,
    to: datetime | None = None,
) -> Page:
    """A page ordered by (event_time, id), continuing after `cursor`."""
    query = sa.select(BookingRequest)
    for column, value in (
        (BookingRequest.status, status),
        (BookingRequest.resource_id, resource_id),
        (BookingRequest.requested_by_id, requested_by),
    ):
        if value is not None:
            query = query.where(column == value)
    if from_ is not None:
        query = query.where(BookingRequest.event_time >= from_)
    if to is not None:
        query = query.where(BookingRequest.event_time < to)
    if cursor:
        after_time, after_id = decode_cursor(cursor, _aware_datetime, row_id)
        query = query.where(
            sa.tuple_(BookingRequest.event_time, BookingRequest.id)
            > sa.tuple_(sa.literal(after_time, BookingRequest.event_time.type), after_id)
        )
    query = query.order_by(BookingRequest.event_time, BookingRequest.id).limit(limit + 1)
    rows = list(db.session.scalars(query).unique())
    return page(rows, limit, key=lambda b: [b.event_time.isoformat(), b.id])


def _aware_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("cursor time without an offset")
    return parsed


# ---------------------------------------------------------------- writing


def submit(requester: User, resource_id: int, address: dict, **fields) -> BookingRequest:
    catalog.require_bookable(resource_id)
    now = utcnow()
    booking = BookingRequest(
        resource_id=resource_id,
        requested_by=tokens.as_user(requester),
        status="pending",
        end_time=fields["event_time"] + timedelta(minutes=fields["duration_minutes"]),
        created_at=now,
        updated_at=now,
        **address,
        **fields,
    )
    db.session.add(booking)
    db.session.flush()
    db.session.add(
        BookingHistory(booking_id=booking.id, to_status="pending", actor_id=requester.id, at=now)
    )
    outbox.record(booking, "booking.submitted")
    _commit_keeping_state()
    metrics.transition("pending")
    return booking


def overlapping_ids(booking: BookingRequest) -> list[int]:
    """Accepted requests of the same resource whose [start, end) meets this one's."""
    query = (
        sa.select(BookingRequest.id)
        .where(
            BookingRequest.resource_id == booking.resource_id,
            BookingRequest.status == "accepted",
            BookingRequest.id != booking.id,
            meets(booking.event_time, booking.end_time),
        )
        .order_by(BookingRequest.id)
    )
    return list(db.session.scalars(query))


def meets(start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    """Half-open intervals meeting; on PostgreSQL in the words of the exclusion constraint,
    whose GiST index then finds them at a million rows as fast as at a thousand."""
    if db.session.get_bind().dialect.name == "postgresql":
        column_type = BookingRequest.event_time.type
        mine = sa.func.tstzrange(sa.literal(start, column_type), sa.literal(end, column_type), "[)")
        theirs = sa.func.tstzrange(BookingRequest.event_time, BookingRequest.end_time, "[)")
        return theirs.op("&&")(mine)
    return sa.and_(BookingRequest.event_time < end, BookingRequest.end_time > start)


def _overlap_conflict(ids: Iterable[int]) -> Conflict:
    listed = ", ".join(str(i) for i in ids) or "another request"
    return Conflict(f"The request overlaps accepted request(s) {listed} of the same resource.")


def _move_values(to_status: str, actor: User | None, reason: str | None) -> dict:
    now = utcnow()
    return {
        "status": to_status,
        "decided_by_id": actor.id if actor else None,
        "decided_at": now,
        "reason": reason,
        "updated_at": now,
    }


def _write_history(ids: Iterable[int], from_status: str, values: dict) -> None:
    # On the table: the rows need none of the ORM's bookkeeping.
    db.session.execute(
        sa.insert(BookingHistory.__table__),
        [
            {"booking_id": booking_id, "from_status": from_status,
             "to_status": values["status"], "actor_id": values["decided_by_id"],
             "at": values["updated_at"], "reason": values["reason"]}
            for booking_id in ids
        ],
    )  # fmt: skip


def _guarded_update(ids: list[int], from_status: str, to_status: str, reason: str) -> list[int]:
    """Move, by the system, those of `ids` still in `from_status`, with a history row and an
    event each; no commit. Returns the ids moved: a row moved first by another transaction
    is left alone."""
    values = _move_values(to_status, None, reason)
    moved = db.session.scalars(
        sa.update(BookingRequest)
        .where(BookingRequest.id.in_(ids), BookingRequest.status == from_status)
        .values(**values, version=BookingRequest.version + 1)
        .returning(BookingRequest.id)
        .execution_options(synchronize_session=False)
    ).all()
    if moved:
        _write_history(moved, from_status, values)
        query = sa.select(BookingRequest).where(BookingRequest.id.in_(moved))
        for booking in db.session.scalars(query.order_by(BookingRequest.id)).unique():
            outbox.record(booking, f"booking.{to_status}")
    metrics.transition(to_status, len(moved))
    return list(moved)


def _move(
    booking: BookingRequest,
    to_status: str,
    actor: User | None,
    reason: str | None,
    if_match: str | None = None,
    turn: sa.ColumnElement[bool] | None = None,
) -> None:
    """Move `booking` to `to_status` if, and only if, nobody moved it first; no commit.

    The history row and the event are written first, as the move will leave the request;
    then one UPDATE, guarded by the status and version read, decides whether any of it
    stands (the caller's rollback undoes it otherwise). With `turn`, the UPDATE first waits
    for its turn among movers that must not overlap this one, and a turn lasts only the
    UPDATE and the commit. With `if_match` (the client's `If-Match`), the version must
    also be the one the client saw: a 412, checked by the same UPDATE, so nothing slips
    between.
    """
    check_precondition(booking, if_match)
    from_status, version = booking.status, booking.version
    if not can_move(from_status, to_status):
        raise Conflict(f"The request is {from_status}; it cannot become {to_status}.")
    values = _move_values(to_status, actor, reason)
    _write_history([booking.id], from_status, values)
    if actor is not None:
        tokens.as_user(actor)  # the event names the decider: from the session, not a query
    for name, value in (*values.items(), ("version", version + 1)):
        set_committed_value(booking, name, value)
    db.session.expire(booking, ["decided_by"])  # follows decided_by_id when next read
    outbox.record(booking, f"booking.{to_status}")
    table = BookingRequest.__table__  # the object already holds the new values
    guards = [table.c.id == booking.id, table.c.status == from_status, table.c.version == version]
    moved = db.session.execute(
        table.update()
        .where(*guards, *([turn] if turn is not None else []))
        .values(**values, version=version + 1)
    ).rowcount
    if not moved:
        current = db.session.execute(
            sa.select(BookingRequest.status, BookingRequest.version).where(
                BookingRequest.id == booking.id
            )
        ).one()
        if if_match is not None and current.version != version:
            raise _stale()
        raise Conflict(f"The request is already {current.status}; it cannot become {to_status}.")
    metrics.transition(to_status)


def etag(booking: BookingRequest) -> str:
    """The request's entity tag: its version, and its creation time against reused ids."""
    created = int(booking.created_at.timestamp() * 1_000_000)
    return f'"{booking.version}.{created:x}"'


def check_precondition(booking: BookingRequest, if_match: str | None) -> None:
    """412 unless `if_match` is absent, `*`, or lists the request's current ETag (strongly)."""
    if if_match is None:
        return
    tags = {tag.strip() for tag in if_match.split(",")}
    if "*" not in tags and etag(booking) not in tags:
        raise _stale()


def _stale() -> PreconditionFailed:
    return PreconditionFailed(
        "The request has changed since you read it (If-Match); read it again and retry."
    )


def accept(actor: User, booking_id: int, if_match: str | None = None) -> BookingRequest:
    require_admin(actor)
    booking = get_booking(booking_id, deciding=True)
    if booking.status == "pending" and booking.event_time <= utcnow():
        raise Conflict("The event has already started; the request can no longer be accepted.")
    try:
        # Accepts of one resource take turns; the guarded UPDATE sees any move made while
        # this one waited for its turn.
        _move(
            booking, "accepted", actor, None, if_match,
            turn=catalog.accepting_turn(booking.resource_id),
        )  # fmt: skip
    except IntegrityError:
        # The database refused an overlap with an accepted request of the same resource.
        db.session.rollback()
        raise _overlap_conflict(overlapping_ids(get_booking(booking_id))) from None
    _commit_keeping_state()
    _tell_requester(booking, actor)
    return booking


def reject(
    actor: User, booking_id: int, reason: str | None = None, if_match: str | None = None
) -> BookingRequest:
    require_admin(actor)
    booking = get_booking(booking_id, deciding=True)
    _move(booking, "rejected", actor, reason, if_match)
    _commit_keeping_state()
    _tell_requester(booking, actor)
    return booking


def cancel(
    actor: User, booking_id: int, reason: str | None = None, if_match: str | None = None
) -> BookingRequest:
    booking = visible_booking(actor, booking_id)
    _move(booking, "cancelled", actor, reason, if_match)
    _commit_keeping_state()
    _tell_requester(booking, actor)
    return booking


def delete(actor: User, booking_id: int) -> None:
    require_admin(actor)
    booking = get_booking(booking_id)
    outbox.record(booking, "booking.deleted")
    db.session.delete(booking)
    db.session.commit()


EXPIRY_BATCH = 500
EXPIRY_REASON = "The event time passed while the request was pending."


def expire_due(now: datetime | None = None) -> int:
    """Move every pending request whose event time has passed to `expired`; how many moved.

    Batch by batch, each its own transaction. A concurrent sweep, decision or
    deletion simply leaves fewer rows for this one to move.
    """
    now = now or utcnow()
    expired = 0
    while True:
        due = db.session.scalars(
            sa.select(BookingRequest.id)
            .where(BookingRequest.status == "pending", BookingRequest.event_time <= now)
            .order_by(BookingRequest.event_time, BookingRequest.id)
            .limit(EXPIRY_BATCH)
        ).all()
        if not due:
            db.session.rollback()
            return expired
        expired += len(_guarded_update(list(due), "pending", "expired", EXPIRY_REASON))
        db.session.commit()


def _commit_keeping_state() -> None:
    """Commit, keeping the session's objects loaded as they are.

    For writes whose objects hold every value the database now has (each value a move
    writes is set on the object, `_move`): answering then needs no second read of them.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def _tell_requester(booking: BookingRequest, actor: User) -> None:
    """E-mail the requester about a decision an admin made (after it is committed)."""
    if actor.is_admin and booking.status in NOTIFIED:
        _notify(booking)


def _notify(booking: BookingRequest) -> None:
    verb = booking.status  # accepted, rejected or cancelled
    lines = [
        f"Hello {booking.requested_by.username},",
        "",
        f'your booking request #{booking.id} "{booking.topic}" for '
        f"{booking.event_time:%Y-%m-%d %H:%M} UTC was {verb}.",
    ]
    if booking.reason:
        lines += ["", f"Reason: {booking.reason}"]
    mail.send_mail_later(
        booking.requested_by.email,
        f"Your booking request #{booking.id} was {verb}",
        "\n".join(lines) + "\n",
    )
