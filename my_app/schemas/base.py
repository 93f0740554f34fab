"""Schema building blocks: strict bodies, trimmed strings, UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

# Row ids are 32-bit integers on every database; larger numbers name nothing.
MAX_ID = 2**31 - 1
ID_RANGE = validate.Range(min=1, max=MAX_ID)


def Id(**kwargs) -> fields.Integer:
    """A row id: a JSON integer from 1 to MAX_ID."""
    return fields.Integer(strict=True, validate=ID_RANGE, **kwargs)


class BodySchema(Schema):
    """A request body: unknown fields are refused."""

    class Meta:
        unknown = RAISE


class QuerySchema(Schema):
    """A query string: unknown parameters are ignored, as browsers and proxies add their own."""

    class Meta:
        unknown = EXCLUDE


class Trimmed(fields.String):
    """A string with surrounding whitespace removed before validation."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class NonBlank(Trimmed):
    """A trimmed string that must keep at least one character."""

    def __init__(self, *args, **kwargs):
        extra = kwargs.pop("validate", None) or []
        validators = list(extra) if isinstance(extra, list | tuple) else [extra]
        validators.insert(0, validate.Length(min=1, error="Must not be blank."))
        super().__init__(*args, validate=validators, **kwargs)


class UTCDateTime(fields.DateTime):
    """ISO 8601 with a required UTC offset in; `2027-03-01T15:00:00Z` out."""

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise ValidationError("Must include a UTC offset, e.g. 2027-03-01T15:00:00Z.")
        return parsed.astimezone(UTC)

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class MessageSchema(Schema):
    message = fields.String(required=True)


def page_of(name: str, item: type[Schema]) -> type[Schema]:
    """The envelope of one page of `item`s: `{name: [...], "next_cursor"}`."""
    return Schema.from_dict(
        {
            name: fields.List(fields.Nested(item), attribute="items"),
            "next_cursor": fields.String(allow_none=True),
        },
        name=f"{item.__name__.removesuffix('Schema')}Page",
    )


class PageQuerySchema(QuerySchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None)
