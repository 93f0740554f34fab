"""After acceptance: check-in and the release of no-shows, reminders, escalation.

Three rules of a resource drive them: `checkin_minutes` (the requester checks
in from 15 minutes before the start until that many minutes after it, or the
booking is released), `reminder_minutes` (the requester is e-mailed that long
before the start) and `approval_deadline_hours` (a request still pending that
long after it was submitted, and not yet started, is escalated to the admins).
Without `checkin_minutes` a check-in is still welcome, until the booking ends,
and nothing is released.

Each job acts on a request exactly once however many hosts run it at the same
moment: one guarded UPDATE claims the rows nobody claimed first (`move` for
the release, `reminded_at IS NULL` / `escalated_at IS NULL` for the others), and
only the rows it returns get their history, event and e-mail. The mail leaves
after the commit, from the job's own process. A job that was down looks back
`LOOKBACK` for the releases it missed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from my_app import metrics
from my_app.errors import Conflict, Forbidden
from my_app.extensions import db
from my_app.models import BookableResource, BookingRequest, BookingStatus, User
from my_app.models.types import utcnow
from my_app.services import bookings, catalog, mail
from my_app.services import events as outbox
from my_app.services.transaction import transaction

Status = BookingStatus
CHECKIN_OPENS = timedelta(minutes=15)
LOOKBACK = timedelta(days=7)
BATCH = 500
RELEASE_REASON = "Nobody checked in within {minutes} minutes of the start."
Letter = tuple[str, str, str]  # to, subject, body
Acted = tuple[int, list[Letter]]  # how many requests a batch acted on, and the mail to send

_table = BookingRequest.__table__
NOBODY_CAME = bookings.Guard(_table.c.checked_in_at.is_(None))  # a release's guard


# ---------------------------------------------------------------- check-in


def check_in(actor: User, booking_id: int) -> BookingRequest:
    """The requester checks in to their accepted booking, within its window; twice is once."""
    now = utcnow()
    with transaction(keep_state=True):
        booking = bookings.visible_booking(actor, booking_id)
        if booking.requested_by_id != actor.id:
            raise Forbidden("Only the requester of a booking may check in to it.")
        if booking.checked_in_at is not None:
            return booking
        if booking.status != Status.ACCEPTED:
            raise Conflict(f"The request is {booking.status}; only an accepted one is checked in.")
        opens, closes = checkin_window(booking, catalog.get_resource(booking.resource_id))
        if not opens <= now <= closes:
            raise Conflict(
                f"Check-in is open from {opens:%Y-%m-%d %H:%M} to {closes:%Y-%m-%d %H:%M} UTC."
            )
        row = db.session.execute(
            _table.update()
            .where(_table.c.id == booking.id, _table.c.status == Status.ACCEPTED,
                   _table.c.checked_in_at.is_(None))
            .values(checked_in_at=now, updated_at=now, version=_table.c.version + 1)
            .returning(_table.c.version)
        ).one_or_none()  # fmt: skip
        if row is None:  # released (or cancelled) while we looked
            raise Conflict("The request is no longer accepted; it cannot be checked in.")
        for name, value in (("checked_in_at", now), ("updated_at", now), ("version", row[0])):
            set_committed_value(booking, name, value)
    return booking


def checkin_window(
    booking: BookingRequest, resource: BookableResource
) -> tuple[datetime, datetime]:
    """From 15 minutes before the start until `checkin_minutes` after it (the end without)."""
    minutes = resource.checkin_minutes
    start = booking.event_time
    closes = booking.end_time if minutes is None else start + timedelta(minutes=minutes)
    return start - CHECKIN_OPENS, closes


# ---------------------------------------------------------------- the jobs


def release_no_shows(now: datetime | None = None) -> int:
    """Release every accepted booking nobody checked in to in time; how many were released."""
    now = now or utcnow()
    released = 0
    for resource_id, minutes in _resources_with(BookableResource.checkin_minutes):
        late = now - timedelta(minutes=minutes)
        due = _due(resource_id, Status.ACCEPTED, BookingRequest.checked_in_at,
                   BookingRequest.event_time > late - LOOKBACK,
                   BookingRequest.event_time <= late)  # fmt: skip

        def release(ids: list[int], minutes: int = minutes) -> Acted:
            moved = bookings.move(
                ids, Status.ACCEPTED, Status.RELEASED,
                reason=RELEASE_REASON.format(minutes=minutes),
                only_if=NOBODY_CAME,
            )  # fmt: skip
            return len(moved), [_to_requester("booking_released", b) for b in moved]

        released += _in_batches(due, release)
    metrics.followup("release", released)
    return released


def send_reminders(now: datetime | None = None) -> int:
    """E-mail each requester whose accepted booking starts within its resource's
    `reminder_minutes`, once; how many were reminded."""
    now = now or utcnow()
    reminded = 0
    for resource_id, minutes in _resources_with(BookableResource.reminder_minutes):
        due = _due(resource_id, Status.ACCEPTED, BookingRequest.reminded_at,
                   BookingRequest.event_time > now,
                   BookingRequest.event_time <= now + timedelta(minutes=minutes))  # fmt: skip

        def remind(ids: list[int], resource_id: int = resource_id) -> Acted:
            claimed = _claim(ids, Status.ACCEPTED, _table.c.reminded_at, now)
            checkin = catalog.get_resource(resource_id).checkin_minutes
            return len(claimed), [_to_requester("booking_reminder", b, checkin_minutes=checkin)
                                  for b in claimed]  # fmt: skip

        reminded += _in_batches(due, remind)
    metrics.followup("reminder", reminded)
    return reminded


def escalate_requests(now: datetime | None = None) -> int:
    """Escalate each request pending past its resource's approval deadline (and not yet
    started), once: a `booking.escalated` event and an e-mail to every active admin."""
    now = now or utcnow()
    escalated = 0
    for resource_id, minutes in _resources_with(BookableResource.approval_deadline_minutes):
        due = _due(resource_id, Status.PENDING, BookingRequest.escalated_at,
                   BookingRequest.event_time > now,
                   BookingRequest.created_at <= now - timedelta(minutes=minutes))  # fmt: skip

        def escalate(ids: list[int]) -> Acted:
            claimed = _claim(ids, Status.PENDING, _table.c.escalated_at, now)
            if not claimed:
                return 0, []
            resource = catalog.get_resource(claimed[0].resource_id)
            admins = _active_admin_emails()
            letters = []
            for booking in claimed:
                outbox.record(booking, "booking.escalated")
                subject, body = mail.render("booking_escalated", booking=booking,
                                            resource=resource, now=now)  # fmt: skip
                letters += [(email, subject, body) for email in admins]
            return len(claimed), letters

        escalated += _in_batches(due, escalate)
    metrics.followup("escalation", escalated)
    return escalated


# ---------------------------------------------------------------- claiming


def _resources_with(rule: sa.orm.InstrumentedAttribute) -> list[tuple[int, int]]:
    """(id, rule value) of each resource that sets `rule`."""
    query = sa.select(BookableResource.id, rule).where(rule.is_not(None))
    return [tuple(row) for row in db.session.execute(query.order_by(BookableResource.id))]


def _due(resource_id: int, status: Status, claim, *when: sa.ColumnElement[bool]) -> sa.Select:
    """Ids of the resource's requests in `status`, unclaimed, that `when` says are due."""
    return (
        sa.select(BookingRequest.id)
        .where(BookingRequest.resource_id == resource_id, BookingRequest.status == status,
               claim.is_(None), *when)
        .order_by(BookingRequest.event_time, BookingRequest.id)
        .limit(BATCH)
    )  # fmt: skip


def _in_batches(due: sa.Select, act: Callable[[list[int]], Acted]) -> int:
    """`act` on each batch of due ids in a transaction of its own, then send its mail; how
    many requests it acted on. What another host took first leaves fewer for this one."""
    handled = 0
    while True:
        with transaction():
            ids = list(db.session.scalars(due))
            acted, letters = act(ids) if ids else (0, [])
        handled += acted
        for letter in letters:
            mail.send_mail(*letter)
        if len(ids) < BATCH:
            return handled


def _claim(ids: list[int], status: Status, claim: sa.Column, now: datetime) -> list[BookingRequest]:
    """Set `claim` on those of `ids` still in `status` with it unset; the requests claimed."""
    claimed = db.session.scalars(
        _table.update()
        .where(_table.c.id.in_(ids), _table.c.status == status, claim.is_(None))
        .values({claim: now})
        .returning(_table.c.id)
    ).all()
    if not claimed:
        return []
    query = sa.select(BookingRequest).where(BookingRequest.id.in_(claimed))
    return list(db.session.scalars(query.order_by(BookingRequest.id)).unique())


def _to_requester(template: str, booking: BookingRequest, **context) -> Letter:
    subject, body = mail.render(template, booking=booking, **context)
    return booking.requested_by.email, subject, body


def _active_admin_emails() -> list[str]:
    query = sa.select(User.email).where(User.role == "admin", User.status == "active")
    return list(db.session.scalars(query.order_by(User.id)))
