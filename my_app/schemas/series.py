"""Shapes of a series: what a client sends to submit and decide one, and how it is shown."""

from __future__ import annotations

from datetime import datetime

from marshmallow import ValidationError, fields, validate

from my_app.extensions import ma
from my_app.models.series import MAX_OCCURRENCES
from my_app.schemas.base import BodySchema, Id, NonBlank, QuerySchema, Trimmed, UTCTimestamp
from my_app.schemas.booking import REASON, BookingCreateSchema, BookingSchema
from my_app.schemas.user import UserRefSchema

ON_CONFLICT = ("fail", "skip")


class LocalTime(Trimmed):
    """A local time of the series' zone without an offset, "2027-03-08T10:00:00"."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            if not text.isascii():
                raise ValueError
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is not None:
                raise ValueError
            return moment
        except ValueError:
            raise ValidationError(
                "Must be a local start time without an offset, e.g. 2027-03-08T10:00:00."
            ) from None


class RecurrenceSchema(BodySchema):
    rrule = NonBlank(
        required=True,
        validate=validate.Length(max=500),
        metadata={"description": "RFC 5545 rule: FREQ DAILY, WEEKLY or MONTHLY; INTERVAL; "
                  "BYDAY (2TU, -1FR under MONTHLY); BYMONTHDAY; COUNT or UNTIL",
                  "example": "FREQ=WEEKLY;BYDAY=MO;COUNT=10"},
    )  # fmt: skip
    exdates = fields.List(
        LocalTime(),
        load_default=list,
        validate=validate.Length(max=MAX_OCCURRENCES),
        metadata={"description": "Local start times left out, without an offset"},
    )


class SeriesCreateSchema(BookingCreateSchema):
    repeat = fields.Nested(RecurrenceSchema, required=True, data_key="recurrence")
    on_conflict = Trimmed(load_default="fail", validate=validate.OneOf(ON_CONFLICT))


class DryRunSchema(QuerySchema):
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Answer what would be stored; store nothing"}
    )


class SeriesIdSchema(BodySchema):
    id = Id(required=True)
    from_ = UTCTimestamp(
        data_key="from", load_default=None,
        metadata={"description": "Act on the occurrences starting at this time or later"},
    )  # fmt: skip


class SeriesAcceptSchema(SeriesIdSchema):
    on_conflict = Trimmed(load_default="fail", validate=validate.OneOf(ON_CONFLICT))


class SeriesDecisionSchema(SeriesIdSchema):
    reason = Trimmed(load_default=None, allow_none=True, validate=REASON, multiline=True)


class SkippedSchema(ma.Schema):
    event_time = fields.String(metadata={"format": "date-time"})
    reason = fields.String()
    conflicts = fields.List(fields.Integer(), metadata={"description": "Requests in the way"})


class SeriesSchema(ma.Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "null on a dry run"})
    resource_id = fields.Integer()
    rrule = fields.String()
    time_zone = fields.String()
    exdates = fields.List(fields.String())
    requested_by = fields.Nested(UserRefSchema)
    created_at = UTCTimestamp()
    occurrences = fields.List(fields.Nested(BookingSchema))
    skipped = fields.List(fields.Nested(SkippedSchema))
