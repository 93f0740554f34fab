"""The booking workflow: the one state machine every path goes through.

    pending ──► accepted ──► cancelled
       │           └──────► released   (nobody checked in: services/followups.py)
       ├──► rejected
       ├──► cancelled
       └──► expired

Every status change of every path (a decision, the expiry sweep, the release of
no-shows) goes through
`move`: it checks `TRANSITIONS`, then one guarded UPDATE (`… WHERE id IN (…)
AND status = :from`) moves what nobody moved first, and only those rows get
a history row and an event, in the caller's transaction. Of two concurrent
deciders exactly one wins. Accepted requests of a resource never overlap:
the database refuses an overlapping acceptance (an exclusion constraint on
PostgreSQL, triggers on SQLite), and the refusal becomes a 409 that names the
accepted requests in the way. Accepts of one resource take turns (a lock on
the resource row): without that, two PostgreSQL transactions each waiting on
the other's uncommitted constraint entry deadlock, and the victim would see
a 503. The same database rule keeps accepted requests of a resource at least
its `buffer_minutes` apart (a trigger, migration 0007).

The resource's rules (services/rules.py) are checked on submit and again on
accept, as they are at that moment; the quota on submit. A resource with
`approval: "auto"` accepts a request as part of its submission, through the
same `move` and checks as an admin's accept; `conflicts` says what is in the way.

Creating a blackout takes the same turn as accepting, and an accept looks for
blackouts only once it has its turn, so of a blackout and an accept that meet,
made at the same moment, one is refused. Admins decide every request; a
resource's approvers decide its requests (`permissions.require_approver_or_admin`),
and are told when one waits.

A write answers with the objects it holds (`transaction(keep_state=True)`):
the values it wrote are the values the database has, so nothing is read back
after the commit, and the requester's e-mail leaves after the answer.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from my_app import metrics
from my_app.errors import Conflict, Forbidden, NotFound, PreconditionFailed
from my_app.extensions import db
from my_app.models import BookableResource, BookingHistory, BookingRequest, BookingStatus, User
from my_app.models.types import utcnow
from my_app.services import approvers, blackouts, catalog, identity, mail, quota, rules
from my_app.services import events as outbox
from my_app.services.booking_pages import read_page
from my_app.services.pagination import Page
from my_app.services.permissions import (
    approved_resource_ids,
    require_admin,
    require_approver_or_admin,
    require_owner_approver_or_admin,
)
from my_app.services.transaction import transaction

Status = BookingStatus
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.ACCEPTED, Status.REJECTED, Status.CANCELLED, Status.EXPIRED}),
    Status.ACCEPTED: frozenset({Status.CANCELLED, Status.RELEASED}),
}
NOTIFIED = {Status.ACCEPTED, Status.REJECTED, Status.CANCELLED}


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
    require_owner_approver_or_admin(
        actor,
        booking.requested_by_id,
        booking.resource_id,
        "see your own booking requests and those of the resources you approve",
    )
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
    """Every booking request matching `filters` (admin); an approver's, of the resources
    they approve."""
    if actor.is_admin:
        return read_page(**filters)
    approved = approved_resource_ids(actor)
    if not approved:
        require_admin(actor)
    wanted = filters.get("resource_id")
    if wanted is not None and wanted not in approved:
        raise Forbidden(f"You do not approve the requests of resource {wanted}.")
    return read_page(**filters, resource_ids=approved)


def list_own(actor: User, **filters) -> Page:
    """The booking requests `actor` submitted."""
    return read_page(requested_by=actor.id, **filters)


# ---------------------------------------------------------------- writing


def submit(requester: User, resource_id: int, address: dict, **fields) -> BookingRequest:
    """A new request, pending; on a resource with `approval: "auto"` accepted at once, in the
    same transaction, if it conflicts with nothing (409 otherwise, and nothing is stored)."""
    now = utcnow()
    booking = BookingRequest(
        resource_id=resource_id,
        requested_by=identity.as_user(requester),
        status=Status.PENDING,
        end_time=fields["event_time"] + timedelta(minutes=fields["duration_minutes"]),
        created_at=now,
        updated_at=now,
        **address,
        **fields,
    )
    with transaction(conflict=lambda: _conflict(booking), keep_state=True):
        resource = catalog.get_resource(resource_id, bookable=True)
        rules.require_followed(resource, booking.event_time, booking.end_time, now)
        quota.require_room(requester, resource, booking.event_time, booking.duration_minutes)
        blackouts.refuse_overlap(resource_id, booking.event_time, booking.end_time)
        db.session.add(booking)
        db.session.flush()
        db.session.add(
            BookingHistory(
                booking_id=booking.id, to_status=Status.PENDING, actor_id=requester.id, at=now
            )
        )
        outbox.record(booking, "booking.submitted")
        if resource.approval == "auto":
            _require_acceptable(booking, catalog.take_turn(resource_id), asked_at=now)
            move([booking.id], Status.PENDING, Status.ACCEPTED)
        deciders = approvers.to_tell(booking) if booking.status == Status.PENDING else []
    metrics.transition(Status.PENDING)
    approvers.tell(booking, deciders)
    return booking


def _require_acceptable(
    booking: BookingRequest, resource: BookableResource, asked_at: datetime
) -> None:
    """After the accepting turn is taken (`resource` as the turn read it): the resource's rules
    as they are now, and nothing in the way (accepted requests within the buffer are refused
    by the database itself)."""
    rules.require_followed(resource, booking.event_time, booking.end_time, asked_at)
    blackouts.refuse_overlap(booking.resource_id, booking.event_time, booking.end_time)
    in_the_way = conflicts(booking, resource)
    if in_the_way:
        raise Conflict(" ".join(in_the_way))


def conflicts(booking: BookingRequest, resource: BookableResource) -> list[str]:
    """What keeps `booking` from being accepted, one sentence per kind; none if it is free."""
    buffer = resource.buffer_minutes or 0
    ids = accepted_near(booking, buffer)
    return [in_the_way(ids, buffer)] if ids else []


def in_the_way(ids: Iterable[int], buffer: int) -> str:
    """The sentence naming accepted requests that a request overlaps or comes too close to."""
    listed = ", ".join(str(i) for i in ids)
    too_close = f" or comes closer than the resource's {buffer}-minute buffer to" if buffer else ""
    return f"The request overlaps{too_close} accepted request(s) {listed} of the same resource."


def _conflict(booking: BookingRequest) -> Conflict:
    """The 409 a refusal by the database becomes: read after the rollback, it names what is
    in the way now."""
    resource = catalog.get_resource(booking.resource_id)
    return Conflict(" ".join(conflicts(booking, resource)) or "Another request is in the way.")


def accepted_near(booking: BookingRequest, buffer_minutes: int = 0) -> list[int]:
    """Accepted requests of the same resource closer than `buffer_minutes` to this one's
    [start, end) (with no buffer: that meet it)."""
    buffer = timedelta(minutes=buffer_minutes)
    query = (
        sa.select(BookingRequest.id)
        .where(
            BookingRequest.resource_id == booking.resource_id,
            BookingRequest.status == Status.ACCEPTED,
            BookingRequest.id != booking.id,
            meets(booking.event_time - buffer, booking.end_time + buffer),
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


def move(
    ids: Collection[int],
    from_status: Status,
    to_status: Status,
    *,
    actor: User | None = None,
    reason: str | None = None,
    version: int | None = None,
    only_if: sa.ColumnElement[bool] | None = None,
) -> list[BookingRequest]:
    """Move those of `ids` still in `from_status` (and at `version`, and meeting `only_if`)
    to `to_status`; no commit.

    The one status change of every path. `TRANSITIONS` allows the move or it is a 409;
    one guarded UPDATE moves the rows nobody moved first, and only those get a history
    row and an event. Returns the requests moved, as they are now (objects the session
    already held are brought up to date, not read again).
    """
    if not can_move(from_status, to_status):
        raise Conflict(f"The request is {from_status}; it cannot become {to_status}.")
    if not ids:
        return []
    values = _move_values(to_status, actor, reason)
    table = BookingRequest.__table__
    guards = [table.c.id.in_(ids), table.c.status == from_status]
    if version is not None:
        guards.append(table.c.version == version)
    if only_if is not None:
        guards.append(only_if)
    rows = db.session.execute(
        table.update()
        .where(*guards)
        .values(**values, version=table.c.version + 1)
        .returning(table.c.id, table.c.version)
    ).all()
    if not rows:
        return []
    if actor is not None:
        identity.as_user(actor)  # the event names the decider: from the session, not a query
    moved = _as_moved(dict(rows), values)
    _write_history([booking.id for booking in moved], from_status, values)
    outbox.record_many(moved, f"booking.{to_status}")
    metrics.transition(to_status, len(moved))
    return moved


def _as_moved(versions: dict[int, int], values: dict) -> list[BookingRequest]:
    """The moved requests in id order: held objects take the values written, others are read."""
    held: dict[int, BookingRequest] = {}
    for booking_id in versions:
        key = sa.inspect(BookingRequest).identity_key_from_primary_key((booking_id,))
        booking = db.session.identity_map.get(key)
        if booking is not None:
            for name, value in (*values.items(), ("version", versions[booking_id])):
                set_committed_value(booking, name, value)
            db.session.expire(booking, ["decided_by"])  # follows decided_by_id when next read
            held[booking_id] = booking
    missing = [booking_id for booking_id in versions if booking_id not in held]
    if missing:
        query = sa.select(BookingRequest).where(BookingRequest.id.in_(missing))
        held.update((booking.id, booking) for booking in db.session.scalars(query).unique())
    return [held[booking_id] for booking_id in sorted(held)]


def _decide(
    booking: BookingRequest,
    to_status: Status,
    actor: User,
    reason: str | None,
    if_match: str | None,
) -> None:
    """Move one request the client read, under its `If-Match`: 412 if it changed since, 409 if
    somebody moved it first."""
    check_precondition(booking, if_match)
    version = booking.version
    if move([booking.id], booking.status, to_status, actor=actor, reason=reason, version=version):
        return
    current = db.session.execute(
        sa.select(BookingRequest.status, BookingRequest.version).where(
            BookingRequest.id == booking.id
        )
    ).one()
    if if_match is not None and current.version != version:
        raise _stale()
    raise Conflict(f"The request is already {current.status}; it cannot become {to_status}.")


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
    require_approver_or_admin(actor)

    def in_the_way() -> Conflict:  # the database refused an overlap or the buffer
        return _conflict(get_booking(booking_id))

    with transaction(conflict=in_the_way, keep_state=True):
        booking = get_booking(booking_id, deciding=True)
        require_approver_or_admin(actor, booking.resource_id)
        if booking.status == Status.PENDING and booking.event_time <= utcnow():
            raise Conflict("The event has already started; the request can no longer be accepted.")
        # Accepts (and blackouts) of one resource take turns: what follows sees any move or
        # blackout made while this one waited for its turn.
        resource = catalog.take_turn(booking.resource_id)
        if booking.status == Status.PENDING:  # anything else is refused for what it is
            # Notice and advance are judged from when the request was made, by today's rules.
            _require_acceptable(booking, resource, asked_at=booking.created_at)
        _decide(booking, Status.ACCEPTED, actor, None, if_match)
    _tell_requester(booking, actor)
    return booking


def reject(
    actor: User, booking_id: int, reason: str | None = None, if_match: str | None = None
) -> BookingRequest:
    require_approver_or_admin(actor)
    with transaction(keep_state=True):
        booking = get_booking(booking_id, deciding=True)
        require_approver_or_admin(actor, booking.resource_id)
        _decide(booking, Status.REJECTED, actor, reason, if_match)
    _tell_requester(booking, actor)
    return booking


def cancel(
    actor: User, booking_id: int, reason: str | None = None, if_match: str | None = None
) -> BookingRequest:
    with transaction(keep_state=True):
        booking = visible_booking(actor, booking_id)
        _decide(booking, Status.CANCELLED, actor, reason, if_match)
    _tell_requester(booking, actor)
    return booking


def delete(actor: User, booking_id: int) -> None:
    require_admin(actor)
    with transaction():
        booking = get_booking(booking_id)
        outbox.record(booking, "booking.deleted")
        db.session.delete(booking)


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
        with transaction():
            due = db.session.scalars(
                sa.select(BookingRequest.id)
                .where(BookingRequest.status == Status.PENDING, BookingRequest.event_time <= now)
                .order_by(BookingRequest.event_time, BookingRequest.id)
                .limit(EXPIRY_BATCH)
            ).all()
            moved = move(due, Status.PENDING, Status.EXPIRED, reason=EXPIRY_REASON)
        if not due:
            return expired
        expired += len(moved)


def _tell_requester(booking: BookingRequest, actor: User) -> None:
    """E-mail the requester about a decision an admin or an approver made (after it is
    committed); whoever is not the requester and may decide is one of them."""
    if (actor.is_admin or actor.id != booking.requested_by_id) and booking.status in NOTIFIED:
        _notify(booking)


def _notify(booking: BookingRequest) -> None:
    subject, body = mail.render("booking_decided", booking=booking)
    mail.send_mail_later(booking.requested_by.email, subject, body)
