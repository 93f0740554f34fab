"""Shapes of booking requests, their history and bookable resources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pycountry
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from my_app.extensions import ma
from my_app.models.booking import (
    APPROVALS,
    BOOKING_STATUSES,
    MAX_DURATION_MINUTES,
    BookingRequest,
)
from my_app.schemas.base import (
    ID_RANGE,
    OUT_OF_RANGE,
    BodySchema,
    Id,
    NonBlank,
    PageQuerySchema,
    PublicURLFor,
    QueryInteger,
    QuerySchema,
    Text,
    Trimmed,
    UTCTimestamp,
)
from my_app.schemas.rules import RulesOutSchema, RulesSchema, TimeZone
from my_app.schemas.user import UserRefSchema

REASON = validate.Length(max=1000)


class Country(Trimmed):
    """An ISO 3166-1 country as alpha-2, alpha-3 or English name in; alpha-2 out."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text and not text.isdigit():
            try:
                return pycountry.countries.lookup(text).alpha_2
            except LookupError:
                pass
        raise ValidationError("Not an ISO 3166-1 country code or English country name.")


class AddressSchema(BodySchema):
    street = NonBlank(required=True, validate=validate.Length(max=200))
    city = NonBlank(required=True, validate=validate.Length(max=120))
    state = Trimmed(load_default=None, allow_none=True, validate=validate.Length(max=120))
    postal_code = Trimmed(load_default=None, allow_none=True, validate=validate.Length(max=32))
    country = Country(required=True)


class BookingCreateSchema(BodySchema):
    resource_id = Id(load_default=1)
    topic = NonBlank(required=True, validate=validate.Length(max=200))
    event_time = UTCTimestamp(required=True)
    duration_minutes = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_DURATION_MINUTES)
    )
    address = fields.Nested(AddressSchema, required=True)

    @validates("event_time")
    def _in_the_future(self, value: datetime, data_key: str) -> None:
        if value <= datetime.now(UTC):
            raise ValidationError("Must lie in the future.")

    @validates_schema
    def _ends_in_range(self, data, **kwargs):
        if "event_time" in data and "duration_minutes" in data:
            try:
                data["event_time"] + timedelta(minutes=data["duration_minutes"])
            except OverflowError:
                raise ValidationError(f"The event's end: {OUT_OF_RANGE}", "event_time") from None


class BookingIdSchema(BodySchema):
    id = Id(required=True)


class BookingDecisionSchema(BookingIdSchema):
    reason = Trimmed(load_default=None, allow_none=True, validate=REASON, multiline=True)


class AddressOutSchema(ma.Schema):
    street = fields.String()
    city = fields.String()
    state = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    country = fields.String()


class BookingSchema(ma.Schema):
    id = fields.Integer()
    resource_id = fields.Integer()
    topic = fields.String()
    event_time = UTCTimestamp()
    duration_minutes = fields.Integer()
    end_time = UTCTimestamp()
    address = fields.Nested(AddressOutSchema)
    status = fields.String(validate=validate.OneOf(BOOKING_STATUSES))
    requested_by = fields.Nested(UserRefSchema)
    decided_by = fields.Nested(UserRefSchema, allow_none=True)
    decided_at = UTCTimestamp(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = UTCTimestamp()
    updated_at = UTCTimestamp()
    checked_in_at = UTCTimestamp(allow_none=True)
    series_id = fields.Integer(
        allow_none=True, metadata={"description": "The series it is an occurrence of; null if none"}
    )

    def dump(self, obj, *, many=None):
        """What the fields above declare, written out by hand for requests (`shown`), which
        a write dumps once for its event and once for its answer, and a series 52 times."""
        many = self.many if many is None else many
        if self.only or self.exclude or self.partial:
            return super().dump(obj, many=many)
        if many:
            if all(isinstance(one, BookingRequest | Shown) for one in obj):
                return [one if isinstance(one, Shown) else shown(one) for one in obj]
        elif isinstance(obj, BookingRequest):
            return shown(obj)
        elif isinstance(obj, Shown):
            return obj
        return super().dump(obj, many=many)


class Shown(dict):
    """A request as `shown` wrote it out, for an answer to reuse (the dump made for the
    event of a move, of the object as the move left it): `BookingSchema` dumps it as is."""


def shown(booking: BookingRequest) -> dict:
    """`BookingSchema`'s dump of a request, field for field (tests/unit/test_booking_dump.py
    holds the two equal)."""
    b = booking
    return {
        "id": b.id, "resource_id": b.resource_id, "topic": b.topic,
        "event_time": _moment(b.event_time), "duration_minutes": b.duration_minutes,
        "end_time": _moment(b.end_time),
        "address": {"street": b.street, "city": b.city, "state": b.state,
                    "postal_code": b.postal_code, "country": b.country},
        "status": None if b.status is None else str(b.status),
        "requested_by": _person(b.requested_by), "decided_by": _person(b.decided_by),
        "decided_at": _moment(b.decided_at), "reason": b.reason,
        "created_at": _moment(b.created_at), "updated_at": _moment(b.updated_at),
        "checked_in_at": _moment(b.checked_in_at), "series_id": b.series_id,
    }  # fmt: skip


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _person(user) -> dict | None:
    return None if user is None else {"id": user.id, "username": user.username, "email": user.email}


class MyBookingsQuerySchema(PageQuerySchema):
    status = Text(validate=validate.OneOf(BOOKING_STATUSES))
    series_id = QueryInteger(validate=ID_RANGE)


class BookingsQuerySchema(MyBookingsQuerySchema):
    resource_id = QueryInteger(validate=ID_RANGE)
    requested_by = QueryInteger(validate=ID_RANGE)
    from_ = UTCTimestamp(data_key="from")
    to = UTCTimestamp()

    @validates_schema
    def _ordered(self, data, **kwargs):
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ValidationError("'from' must not be after 'to'.", "to")


class HistoryEntrySchema(ma.Schema):
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    by = fields.Nested(UserRefSchema, allow_none=True)
    at = UTCTimestamp()
    reason = fields.String(allow_none=True)


class HistorySchema(ma.Schema):
    history = fields.List(fields.Nested(HistoryEntrySchema))


class DeletedBookingSchema(ma.Schema):
    message = fields.String()
    id = fields.Integer()


FEED_TOKEN = "token"  # nosec B105  # the query parameter of the secret feed link, not a secret


class ResourceSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    active = fields.Boolean()
    time_zone = fields.String(metadata={"description": "IANA zone of opening hours and quotas"})
    approval = fields.String(validate=validate.OneOf(APPROVALS))
    rules = fields.Nested(RulesOutSchema)
    approvers = fields.List(fields.Nested(UserRefSchema))
    calendar_url = PublicURLFor(
        "resourcecalendar",  # Flask-RESTful's endpoint for ResourceCalendar
        values={"resource_id": "<id>", FEED_TOKEN: "<calendar_token>"},
        allow_none=True,
        metadata={
            "description": "Admins only: the secret link of the resource's calendar feed, "
            "for calendar apps to subscribe to without a token; rotate it with "
            "POST /resources/{resource_id}/calendar_token.",
            "x-optional": True,
        },
    )
    approvers = fields.List(
        fields.Nested(UserRefSchema),
        metadata={"description": "Who decides the resource's requests besides the admins"},
    )


class ResourceListSchema(ma.Schema):
    resources = fields.List(fields.Nested(ResourceSchema))


class LineErrorsSchema(ma.Schema):
    line = fields.Integer(metadata={"description": "Where the row starts; the header is line 1"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages by column (`opening_hours.mon.0`: a part of a cell)"},
    )


class ImportReportSchema(ma.Schema):
    created = fields.Integer()
    updated = fields.Integer()
    errors = fields.List(fields.Nested(LineErrorsSchema))


class ResourceCreateSchema(BodySchema):
    name = NonBlank(required=True, validate=validate.Length(max=120))
    description = Trimmed(load_default="", validate=validate.Length(max=2000), multiline=True)


class ResourceUpdateSchema(BodySchema):
    name = NonBlank(validate=validate.Length(max=120))
    description = Trimmed(validate=validate.Length(max=2000), multiline=True)
    active = fields.Boolean(truthy={True}, falsy={False})
    time_zone = TimeZone()
    approval = Text(validate=validate.OneOf(APPROVALS))
    rules = fields.Nested(RulesSchema)

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError(
                "Give at least one of 'name', 'description', 'active', 'time_zone', "
                "'approval' or 'rules'."
            )


MAX_AVAILABILITY_WINDOW = timedelta(days=366)


class AvailabilityQuerySchema(QuerySchema):
    from_ = UTCTimestamp(data_key="from", required=True)
    to = UTCTimestamp(required=True)

    @validates_schema
    def _window(self, data, **kwargs):
        if "from_" not in data or "to" not in data:
            return
        if data["to"] <= data["from_"]:
            raise ValidationError("'to' must be after 'from'.", "to")
        if data["to"] - data["from_"] > MAX_AVAILABILITY_WINDOW:
            raise ValidationError("'from' and 'to' may be at most 366 days apart.", "to")


class IntervalSchema(ma.Schema):
    start = UTCTimestamp()
    end = UTCTimestamp()


class AvailabilitySchema(ma.Schema):
    resource_id = fields.Integer()
    from_ = UTCTimestamp(data_key="from")
    to = UTCTimestamp()
    busy = fields.List(
        fields.Nested(IntervalSchema),
        metadata={
            "description": "Accepted bookings widened by the buffer on both sides, merged and "
            "in order; half-open [start, end)"
        },
    )
    closed = fields.List(
        fields.Nested(IntervalSchema),
        metadata={"description": "Times outside the opening hours, merged and in order"},
    )
    closed = fields.List(
        fields.Nested(IntervalSchema),
        metadata={
            "description": "Times the resource cannot be booked (its blackouts), merged and "
            "in order; half-open [start, end)"
        },
    )
