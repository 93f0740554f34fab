"""Schema building blocks: strict bodies, clean text, trimmed strings, UTC timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from my_app.models.types import as_utc

OUT_OF_RANGE = "Must lie between years 1 and 9999 in UTC."

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


# C0 and C1 control characters (Unicode category Cc) and lone surrogates (Cs). Databases
# refuse NUL, encoders refuse surrogates, and none of them belongs in a name or an address.
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_FORBIDDEN_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class Text(fields.String):
    """A string free of control characters and unpaired surrogates.

    `multiline=True` lets tab, newline and carriage return through, for free text.
    """

    default_error_messages = {
        "control": "Must not contain control characters or unpaired surrogates.",
        "control_multiline": (
            "Must not contain control characters (other than tab and newline) "
            "or unpaired surrogates."
        ),
    }

    def __init__(self, *args, multiline: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if self.multiline:
            if _FORBIDDEN_MULTILINE.search(text):
                raise self.make_error("control_multiline")
        elif _FORBIDDEN.search(text):
            raise self.make_error("control")
        return text


class Trimmed(Text):
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


class UTCTimestamp(fields.DateTime):
    """ISO 8601 with a required UTC offset in; `2027-03-01T15:00:00Z` out.

    Loads what a `UTCDateTime` column stores, by the same rule (`as_utc`). In UTC the value
    must stay within years 1-9999, the range every layer can represent.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not value.isascii():
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            return as_utc(parsed)
        except ValueError:
            raise ValidationError("Must include a UTC offset, e.g. 2027-03-01T15:00:00Z.") from None
        except OverflowError:
            raise ValidationError(OUT_OF_RANGE) from None

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class QueryInteger(fields.Integer):
    """A query-string integer: ASCII digits only (`int()` also takes "1_0" and other digits)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not re.fullmatch(r"-?[0-9]{1,19}", value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Floats(fields.List):
    """A list of numbers, dumped as floats; documented as `fields.List(fields.Float())` is.

    Marshmallow serialises a list item by item through the inner field, which for a few
    hundred numbers costs more than the rest of the request; `float()` over the list
    gives the same output.
    """

    def __init__(self, **kwargs):
        super().__init__(fields.Float(), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return [float(number) for number in value]


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
    limit = QueryInteger(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = Text(load_default=None)
