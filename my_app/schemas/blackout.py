"""Shapes of blackouts: times a resource cannot be booked."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validates_schema

from my_app.schemas.base import BodySchema, QuerySchema, Trimmed, UTCTimestamp
from my_app.schemas.booking import REASON


def _end_after_start(data: dict, start: str, end: str, message: str) -> None:
    if start in data and end in data and data[end] <= data[start]:
        raise ValidationError(message, end)


class BlackoutCreateSchema(BodySchema):
    start = UTCTimestamp(required=True)
    end = UTCTimestamp(required=True)
    reason = Trimmed(load_default=None, allow_none=True, validate=REASON, multiline=True)

    @validates_schema
    def _ordered(self, data, **kwargs):
        _end_after_start(data, "start", "end", "'end' must be after 'start'.")


class BlackoutsQuerySchema(QuerySchema):
    from_ = UTCTimestamp(data_key="from")
    to = UTCTimestamp()

    @validates_schema
    def _ordered(self, data, **kwargs):
        _end_after_start(data, "from_", "to", "'to' must be after 'from'.")


class BlackoutSchema(Schema):
    id = fields.Integer()
    start = UTCTimestamp(attribute="start_time")
    end = UTCTimestamp(attribute="end_time")
    reason = fields.String(allow_none=True)


class BlackoutListSchema(Schema):
    blackouts = fields.List(
        fields.Nested(BlackoutSchema),
        metadata={"description": "By start; half-open [start, end)"},
    )
