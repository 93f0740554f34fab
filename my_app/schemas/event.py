"""The body of a booking event, as SNS and webhooks receive it."""

from datetime import datetime
from typing import Any

from marshmallow import fields

from my_app.extensions import ma
from my_app.schemas.base import UTCTimestamp
from my_app.schemas.booking import BookingSchema


class EventSchema(ma.Schema):
    id = fields.String()
    type = fields.String()
    occurred_at = UTCTimestamp()
    data = fields.Nested(BookingSchema)


_booking_schema = BookingSchema()
_occurred_at = EventSchema().fields["occurred_at"]


def event_bodies(
    type: str, occurred_at: datetime, events: list[tuple[str, Any]]
) -> list[dict[str, Any]]:
    """`EventSchema`'s dump of each `(id, booking)` event of one `type` and moment, written out
    by hand: a series records 52 at once (tests/unit/test_booking_dump.py holds them equal)."""
    moment = _occurred_at.serialize("occurred_at", {"occurred_at": occurred_at})
    return [
        {"id": event_id, "type": type, "occurred_at": moment, "data": _booking_schema.dump(booking)}
        for event_id, booking in events
    ]
