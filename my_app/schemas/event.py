"""The body of a booking event, as SNS and webhooks receive it."""

from marshmallow import Schema, fields

from my_app.schemas.base import UTCTimestamp
from my_app.schemas.booking import BookingSchema


class EventSchema(Schema):
    id = fields.String()
    type = fields.String()
    occurred_at = UTCTimestamp()
    data = fields.Nested(BookingSchema)
