"""Shapes of a resource's booking rules: its time zone, opening hours and quota, in and out."""

from __future__ import annotations

import math
from functools import cache
from itertools import pairwise
from zoneinfo import available_timezones

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from my_app.models.booking import MAX_DURATION_MINUTES, QUOTA_PERIODS
from my_app.schemas.base import BodySchema, Text, Trimmed

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCK = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
SPAN_FORM = 'A span is ["HH:MM", "HH:MM"], start before end; only an end may be "24:00".'
MONTH_HOURS = 744


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


class TimeZone(Trimmed):
    """An IANA time zone name, e.g. "Europe/Berlin"."""

    def __init__(self, **kwargs):
        description = "An IANA time zone name, e.g. 'Europe/Berlin' or 'UTC'"
        super().__init__(metadata={"description": description}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        name = super()._deserialize(value, attr, data, **kwargs)
        if name not in _zone_names():
            raise ValidationError("Not an IANA time zone name, e.g. 'Europe/Berlin' or 'UTC'.")
        return name


class Span(fields.List):
    """One opening span, ["08:00", "18:00"]."""

    def __init__(self, **kwargs):
        clock = Text(validate=validate.Regexp(CLOCK, error='Not a time "HH:MM" (00:00-24:00).'))
        super().__init__(
            clock, validate=validate.Length(equal=2), metadata={"description": SPAN_FORM}, **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list) or len(value) != 2:
            raise ValidationError(SPAN_FORM)
        begin, finish = super()._deserialize(value, attr, data, **kwargs)
        if begin == "24:00" or begin >= finish:  # "HH:MM" strings sort as the times do
            raise ValidationError(SPAN_FORM)
        return [begin, finish]


def _day(**kwargs) -> fields.List:
    return fields.List(Span(), **kwargs)


class OpeningHoursSchema(BodySchema):
    """Opening spans per weekday, local times of the resource's zone; a day left out is closed."""

    mon, tue, wed, thu, fri, sat, sun = (_day(load_default=list) for _ in DAYS)

    @validates_schema
    def _ordered(self, data, **kwargs):
        for day, spans in data.items():
            for before, after in pairwise(spans):
                if after[0] < before[1]:
                    raise ValidationError("Spans of a day must be in order and not overlap.", day)


class Hours(fields.Float):
    """A positive number of hours, whole minutes (1.5, not 1.51); dumped as an integer if whole."""

    def __init__(self, **kwargs):
        limit = validate.Range(min=0, min_inclusive=False, max=MONTH_HOURS)
        super().__init__(
            allow_nan=False, validate=limit, metadata={"exclusiveMinimum": True}, **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            raise self.make_error("invalid")
        hours = super()._deserialize(value, attr, data, **kwargs)
        minutes = hours * 60  # infinite for a huge number, which the range refuses next
        if math.isfinite(minutes) and abs(minutes - round(minutes)) > 1e-9:
            raise ValidationError("Must be a whole number of minutes, e.g. 1.5 or 0.25.")
        return hours

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return int(value) if float(value).is_integer() else float(value)


class QuotaSchema(BodySchema):
    hours = Hours(required=True)
    per = Text(required=True, validate=validate.OneOf(QUOTA_PERIODS))


def _minutes(low: int, high: int) -> fields.Integer:
    return fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=low, max=high))


class RulesSchema(BodySchema):
    """Rules to change: each one given is set, `null` clears it, the others stay."""

    min_notice_minutes = _minutes(0, 366 * 24 * 60)
    max_advance_days = _minutes(1, 3660)
    min_duration_minutes = _minutes(1, MAX_DURATION_MINUTES)
    max_duration_minutes = _minutes(1, MAX_DURATION_MINUTES)
    buffer_minutes = _minutes(0, 24 * 60)
    opening_hours = fields.Nested(OpeningHoursSchema, allow_none=True)
    quota = fields.Nested(QuotaSchema, allow_none=True)
    checkin_minutes = _minutes(1, 24 * 60)
    reminder_minutes = _minutes(1, 7 * 24 * 60)
    approval_deadline_hours = Hours(allow_none=True)


class OpeningHoursOutSchema(Schema):
    mon, tue, wed, thu, fri, sat, sun = (fields.List(fields.List(fields.String())) for _ in DAYS)


class QuotaOutSchema(Schema):
    hours = Hours()
    per = fields.String(validate=validate.OneOf(QUOTA_PERIODS))


class RulesOutSchema(Schema):
    """A resource's rules; `null` is no limit."""

    min_notice_minutes = fields.Integer(allow_none=True)
    max_advance_days = fields.Integer(allow_none=True)
    min_duration_minutes = fields.Integer(allow_none=True)
    max_duration_minutes = fields.Integer(allow_none=True)
    buffer_minutes = fields.Integer(allow_none=True)
    opening_hours = fields.Nested(OpeningHoursOutSchema, allow_none=True)
    quota = fields.Nested(QuotaOutSchema, allow_none=True)
    checkin_minutes = fields.Integer(allow_none=True)
    reminder_minutes = fields.Integer(allow_none=True)
    approval_deadline_hours = Hours(allow_none=True)
