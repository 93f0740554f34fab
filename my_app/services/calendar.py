"""What a resource's calendar shows: busy and closed intervals, and the iCalendar feed.

Both read accepted bookings only, from the read replica when it may serve
the caller (my_app/replica.py); availability adds the closed hours of the
resource's rules and its blackouts. Availability gives times and nothing else,
so any signed-in user may ask. The feed (RFC 5545, built with `icalendar`)
names topic and place for admins and for holders of the resource's secret
feed link (which only admins can see and hand out); to other signed-in users
each event is just "Booked".
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from my_app import replica
from my_app.errors import Unauthorized
from my_app.extensions import db
from my_app.models import BookingRequest, User
from my_app.models.types import utcnow
from my_app.services import blackouts, bookings, catalog, rules

# The feed shows what is coming and what happened in the last year.
FEED_PAST = timedelta(days=366)
FEED_BATCH = 500
PRODID = "-//my_app//booking requests//EN"
MIMETYPE = "text/calendar"


def _accepted(resource_id: int):
    return sa.select(BookingRequest).where(
        BookingRequest.resource_id == resource_id, BookingRequest.status == "accepted"
    )


def availability(resource_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    """Within [start, end), clipped, merged, in order: `busy`, the accepted bookings widened
    by the resource's buffer on both sides, and `closed`, the times outside opening hours
    or in a blackout."""
    with replica.reads():
        resource = catalog.get_resource(resource_id)
        buffer = timedelta(minutes=resource.buffer_minutes or 0)
        rows = db.session.execute(
            sa.select(BookingRequest.event_time, BookingRequest.end_time)
            .where(
                BookingRequest.resource_id == resource_id,
                BookingRequest.status == "accepted",
                bookings.meets(rules.shifted(start, -buffer), rules.shifted(end, buffer)),
            )
            .order_by(BookingRequest.event_time, BookingRequest.end_time)
        )
        widened = [(begin - buffer, finish + buffer) for begin, finish in rows]
        closed = rules.closed(resource.opening_hours, ZoneInfo(resource.time_zone), start, end)
        closed += blackouts.intervals(resource_id, start, end)
    return {
        "resource_id": resource_id,
        "from_": start,
        "to": end,
        "busy": merge(widened, start, end),
        "closed": merge(sorted(closed), start, end),
    }


def merge(intervals, start: datetime, end: datetime) -> list[dict[str, datetime]]:
    """Half-open intervals sorted by start, clipped to [start, end); touching ones joined."""
    busy: list[dict[str, datetime]] = []
    for begin, finish in intervals:
        begin, finish = max(begin, start), min(finish, end)
        if begin >= finish:
            continue
        if busy and begin <= busy[-1]["end"]:
            busy[-1]["end"] = max(busy[-1]["end"], finish)
        else:
            busy.append({"start": begin, "end": finish})
    return busy


def feed(resource_id: int, viewer: User | None = None, token: str | None = None) -> bytes:
    """The resource's accepted bookings as an iCalendar document.

    `viewer` is the signed-in caller; without one, `token` must be the
    resource's feed secret (401 otherwise).
    """
    from icalendar import Calendar  # imported by the workers that serve a feed, not all

    resource = catalog.get_resource(resource_id)
    if viewer is None:
        secret = resource.calendar_token or ""
        if not token or not hmac.compare_digest(secret.encode(), token.encode()):
            raise Unauthorized("The calendar link is not valid (it may have been rotated).")
    detailed = viewer is None or viewer.is_admin
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", resource.name)
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "localhost"
    query = _accepted(resource_id).where(BookingRequest.end_time > utcnow() - FEED_PAST)
    with replica.reads():  # the resource (and its feed secret) came from the primary
        for booking in _in_batches(query):
            calendar.add_component(_event(booking, host, detailed))
    return calendar.to_ical()


def _in_batches(query):
    """Rows by (event_time, id), FEED_BATCH at a time."""
    after = None
    while True:
        batch = query.order_by(BookingRequest.event_time, BookingRequest.id).limit(FEED_BATCH)
        if after is not None:
            batch = batch.where(
                sa.tuple_(BookingRequest.event_time, BookingRequest.id)
                > sa.tuple_(sa.literal(after[0], BookingRequest.event_time.type), after[1])
            )
        rows = list(db.session.scalars(batch).unique())
        yield from rows
        if len(rows) < FEED_BATCH:
            return
        after = (rows[-1].event_time, rows[-1].id)


def _event(booking: BookingRequest, host: str, detailed: bool):
    from icalendar import Event

    event = Event()
    event.add("uid", f"booking-{booking.id}@{host}")  # stable for the booking's life
    event.add("dtstamp", booking.updated_at)
    event.add("last-modified", booking.updated_at)
    event.add("sequence", booking.version - 1)  # 0 as submitted, +1 per change
    event.add("dtstart", booking.event_time)
    event.add("dtend", booking.end_time)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    if booking.series_id is not None:  # each occurrence its own event, grouped by its series
        event.add("related-to", f"series-{booking.series_id}@{host}")
    if detailed:
        event.add("summary", booking.topic)
        event.add("location", _place(booking))
        event.add(
            "description",
            f"Booking request #{booking.id}, requested by {booking.requested_by.username}.",
        )
    else:
        event.add("summary", "Booked")
    return event


def _place(booking: BookingRequest) -> str:
    parts = (booking.street, booking.city, booking.state, booking.postal_code, booking.country)
    return ", ".join(part for part in parts if part)
