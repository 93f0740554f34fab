"""Blackouts: times a resource cannot be booked (maintenance, holidays).

No request may be submitted or accepted overlapping one, and none is created
over an accepted booking. A blackout and an accept of the same resource could
otherwise both pass their checks at the same moment, so creating one takes the
resource's accepting turn (`catalog.take_turn`) before it looks for accepted
bookings in the way, as an accept takes it before it looks for blackouts:
whichever comes second sees the first.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from my_app.errors import Conflict, NotFound
from my_app.extensions import db
from my_app.models import Blackout, BookingRequest, BookingStatus, User
from my_app.services import catalog
from my_app.services.permissions import require_approver_or_admin
from my_app.services.transaction import transaction


def meeting(
    resource_id: int, start: datetime | None = None, end: datetime | None = None
) -> list[Blackout]:
    """The resource's blackouts whose [start, end) meets [start, end) (either end open), by
    start."""
    query = sa.select(Blackout).where(Blackout.resource_id == resource_id)
    if start is not None:
        query = query.where(Blackout.end_time > start)
    if end is not None:
        query = query.where(Blackout.start_time < end)
    return list(db.session.scalars(query.order_by(Blackout.start_time, Blackout.id)))


def intervals(resource_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The [start, end) of each blackout meeting [start, end), by start (not clipped)."""
    return [(found.start_time, found.end_time) for found in meeting(resource_id, start, end)]


def meeting_clause(
    resource_id: sa.ColumnElement[int], start: sa.ColumnElement, end: sa.ColumnElement
) -> sa.ColumnElement[bool]:
    """Whether the resource (a column of the outer statement) has a blackout that meets
    [start, end) (expressions, bound parameters say): for a statement's guard."""
    return sa.exists().where(
        Blackout.resource_id == resource_id, Blackout.end_time > start, Blackout.start_time < end
    )


def refuse_overlap(resource_id: int, start: datetime, end: datetime) -> None:
    """409 naming the blackouts of the resource that [start, end) overlaps, if any."""
    found = meeting(resource_id, start, end)
    if found:
        raise Conflict(overlap_message(found))


def overlap_message(found: list[Blackout]) -> str:
    named = ", ".join(_name(blackout) for blackout in found)
    return f"The request overlaps blackout(s) of the resource: {named}."


def _name(blackout: Blackout) -> str:
    span = f"{_iso(blackout.start_time)} to {_iso(blackout.end_time)}"
    reason = f", {blackout.reason}" if blackout.reason else ""
    return f"{blackout.id} ({span}{reason})"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def list_blackouts(
    resource_id: int, start: datetime | None = None, end: datetime | None = None
) -> list[Blackout]:
    catalog.get_resource(resource_id)
    return meeting(resource_id, start, end)


def create(
    actor: User, resource_id: int, start: datetime, end: datetime, reason: str | None = None
) -> Blackout:
    """Black out [start, end) of the resource (admin or its approver); 409 over accepted
    bookings, which must be cancelled first."""
    catalog.get_resource(resource_id)
    require_approver_or_admin(actor, resource_id)
    with transaction(keep_state=True):
        catalog.take_turn(resource_id)
        in_the_way = _accepted_ids(resource_id, start, end)
        if in_the_way:
            listed = ", ".join(str(i) for i in in_the_way)
            raise Conflict(
                f"Accepted request(s) {listed} of the resource fall in the blackout; "
                "cancel them first."
            )
        blackout = Blackout(
            resource_id=resource_id,
            start_time=start,
            end_time=end,
            reason=reason,
            created_by_id=actor.id,
        )
        db.session.add(blackout)
        db.session.flush()
    return blackout


def delete(actor: User, resource_id: int, blackout_id: int) -> None:
    catalog.get_resource(resource_id)
    require_approver_or_admin(actor, resource_id)
    with transaction():
        blackout = db.session.get(Blackout, blackout_id)
        if blackout is None or blackout.resource_id != resource_id:
            raise NotFound(f"Resource {resource_id} has no blackout {blackout_id}.")
        db.session.delete(blackout)


def _accepted_ids(resource_id: int, start: datetime, end: datetime) -> list[int]:
    query = (
        sa.select(BookingRequest.id)
        .where(
            BookingRequest.resource_id == resource_id,
            BookingRequest.status == BookingStatus.ACCEPTED,
            BookingRequest.event_time < end,
            BookingRequest.end_time > start,
        )
        .order_by(BookingRequest.id)
    )
    return list(db.session.scalars(query))
