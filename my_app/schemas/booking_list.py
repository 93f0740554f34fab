"""A page of booking requests as the lists show it, encoded straight from the rows that
services/booking_pages.py reads: the JSON of `BookingSchema`, field for field, without
marshmallow's work per field, which was most of the time of a page.

The rows' times are naive datetimes in UTC; orjson writes them as `UTCTimestamp` does
(`2027-03-01T15:00:00Z`). `BookingSchema`'s fields still declare the shape (the OpenAPI
document, the CSV header); tests/unit/test_booking_list.py holds both dumps equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from my_app.schemas.base import page_of
from my_app.schemas.booking import BookingSchema

# The columns of a row, in order: the request's, with its requester's and decider's.
BOOKING_ROW = (
    "id", "resource_id", "topic", "event_time", "duration_minutes", "end_time",
    "street", "city", "state", "postal_code", "country", "status",
    "requester_id", "requester_username", "requester_email",
    "decider_id", "decider_username", "decider_email",
    "decided_at", "reason", "created_at", "updated_at", "checked_in_at", "series_id",
)  # fmt: skip


MOMENTS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


def booking_json(row: Sequence[Any]) -> dict[str, Any]:
    """What `BookingSchema().dump` makes of the request the row holds, its times still
    datetimes (for `encode`)."""
    (
        booking_id, resource_id, topic, event_time, duration_minutes, end_time,
        street, city, state, postal_code, country, status,
        requester_id, requester_username, requester_email,
        decider_id, decider_username, decider_email,
        decided_at, reason, created_at, updated_at, checked_in_at, series_id,
    ) = row  # fmt: skip
    return {
        "id": booking_id,
        "resource_id": resource_id,
        "topic": topic,
        "event_time": event_time,
        "duration_minutes": duration_minutes,
        "end_time": end_time,
        "address": {
            "street": street,
            "city": city,
            "state": state,
            "postal_code": postal_code,
            "country": country,
        },
        "status": status,
        "requested_by": {"id": requester_id, "username": requester_username,
                         "email": requester_email},
        "decided_by": None if decider_id is None else {
            "id": decider_id, "username": decider_username, "email": decider_email
        },
        "decided_at": decided_at,
        "reason": reason,
        "created_at": created_at,
        "updated_at": updated_at,
        "checked_in_at": checked_in_at,
        "series_id": series_id,
    }  # fmt: skip


def encode(obj: Any) -> bytes:
    """JSON as the app writes it (compact, UTF-8), with the rows' times in UTC."""
    return orjson.dumps(obj, default=_subclassed_datetime, option=MOMENTS)


def _subclassed_datetime(value: Any) -> str:
    """A datetime of a subclass, which orjson leaves to its caller (freezegun's, in tests)."""
    if not isinstance(value, datetime):
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


class BookingRowSchema(BookingSchema):
    """A row as `BookingSchema` shows a request: its fields, `booking_json`'s values (the CSV
    export's rows)."""

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        if many if many is not None else self.many:
            return orjson.loads(encode([booking_json(row) for row in obj]))
        return orjson.loads(encode(booking_json(obj)))


class BookingPageSchema(page_of("bookings", BookingSchema)):
    """`{"bookings": [...], "next_cursor"}` of a page of rows (the OpenAPI "BookingPage")."""

    def encode(self, page: Any) -> bytes:
        """The JSON of `dump`, as the app would encode it, in one pass."""
        bookings = [booking_json(row) for row in page.items]
        return encode({"bookings": bookings, "next_cursor": page.next_cursor})

    def dump(self, obj: Any, *, many: bool | None = None) -> dict[str, Any]:
        return orjson.loads(self.encode(obj))
