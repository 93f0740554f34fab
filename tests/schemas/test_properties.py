"""Every body and query schema, fed anything JSON can carry, loads or says why: nothing else.

What loads, dumps (through the output schema where the API has one) and loads back the same.
"""

from __future__ import annotations

import importlib
import pkgutil
import string
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, validate

import my_app.schemas
from my_app.schemas.base import BodySchema, QuerySchema, Text, UTCTimestamp
from my_app.schemas.booking import (
    AddressOutSchema,
    AddressSchema,
    BookingCreateSchema,
    BookingDecisionSchema,
    BookingIdSchema,
    BookingSchema,
    ResourceCreateSchema,
    ResourceSchema,
    ResourceUpdateSchema,
)
from my_app.schemas.user import UserSchema, UserUpdateSchema


def _schemas(base: type[Schema]) -> list[type[Schema]]:
    for module in pkgutil.iter_modules(my_app.schemas.__path__):
        importlib.import_module(f"my_app.schemas.{module.name}")
    found, todo = set(), [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("my_app.schemas") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return sorted(found, key=lambda cls: cls.__qualname__)


BODY_SCHEMAS = _schemas(BodySchema)
QUERY_SCHEMAS = _schemas(QuerySchema)
# The schema the API answers with, for bodies whose fields it shows back.
OUTPUT_SCHEMAS = {
    AddressSchema: AddressOutSchema,
    BookingCreateSchema: BookingSchema,
    BookingIdSchema: BookingSchema,
    BookingDecisionSchema: BookingSchema,
    ResourceCreateSchema: ResourceSchema,
    ResourceUpdateSchema: ResourceSchema,
    UserUpdateSchema: UserSchema,
}
EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Every Unicode category, lone surrogates and C0/C1 controls included.
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
awkward_text = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "x\udfff",
        "\t",
        "a\nb",
        "\u202e",
        "\ufeff",
        "\uff11",
        "\u0661",
    ]
)
texts = st.one_of(any_text, awkward_text, st.text(string.printable, max_size=20))
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**100]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324, 1.0, 0.5]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)


def _deep(depth: int):
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


deep_values = st.integers(min_value=30, max_value=200).map(_deep)
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
iso_times = st.one_of(
    st.builds(
        lambda moment, tz: moment.replace(tzinfo=tz).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
        offsets,
    ),
    st.sampled_from(
        [
            "9999-12-31T23:59:00Z",
            "9999-12-31T23:00:00-05:00",
            "0001-01-01T00:00:00+14:00",
            "2030-01-01T00:00:00",
            "2030-01-01T00:00:00+99:00",
            "2030-13-01T00:00:00Z",
            "\uff12\uff10\uff13\uff10-01-01T00:00:00Z",
        ]
    ),
)


def _choices(field: fields.Field) -> list:
    validators = list(field.validators)
    while validators:
        validator = validators.pop()
        if isinstance(validator, validate.OneOf):
            return list(validator.choices)
        if isinstance(validator, validate.And):
            validators += validator.validators
    return []


words = st.text(string.ascii_letters + string.digits + " .,-", min_size=1, max_size=30).filter(
    str.strip
)
future_times = st.builds(
    lambda moment, tz: moment.replace(tzinfo=tz).isoformat(),
    st.datetimes(min_value=datetime(2100, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    offsets,
)
# Values likely to pass, so that valid documents come up and round-trip too.
PLAUSIBLE = {
    "event_time": future_times,
    "duration_minutes": st.integers(min_value=1, max_value=10080),
    "country": st.sampled_from(["usa", "DE", "France", "gbr", "Xy"]),
    "username": st.from_regex(r"[A-Za-z0-9_.\-]{3,20}", fullmatch=True),
    "email": st.emails(),
    "password": st.text(st.characters(exclude_categories=()), min_size=8, max_size=20),
    "resource_id": st.integers(min_value=1, max_value=2**31 - 1),
    "id": st.integers(min_value=1, max_value=2**31 - 1),
}


def _values_for(name: str, field: fields.Field, query: bool):
    likely = None
    if isinstance(field, fields.Nested):
        specific = _document(type(field.schema), query)
    elif isinstance(field, UTCTimestamp):
        specific = iso_times
    elif isinstance(field, fields.Integer):
        specific = numbers.map(str) if query else numbers
    elif isinstance(field, fields.String):
        choices = _choices(field)
        likely = st.sampled_from(choices) if choices else words
        specific = st.one_of(likely, texts)
    else:
        specific = json_values
    if query:
        return specific
    plausible = PLAUSIBLE.get(name, likely if isinstance(field, fields.String) else specific)
    return st.one_of(plausible, plausible, plausible, specific, json_values, deep_values)


def _plausible(name: str, field: fields.Field):
    if isinstance(field, fields.Nested):
        return _plausible_document(type(field.schema))
    if name in PLAUSIBLE:
        return PLAUSIBLE[name]
    if isinstance(field, fields.String):
        choices = _choices(field)
        return st.sampled_from(choices) if choices else words
    return _values_for(name, field, query=False)


def _plausible_document(schema_class: type[Schema]):
    """Documents most of whose fields hold likely-valid values."""
    known = {f.data_key or name: f for name, f in schema_class().load_fields.items()}
    return st.fixed_dictionaries(
        {k: _plausible(k, f) for k, f in known.items() if f.required},
        optional={k: _plausible(k, f) for k, f in known.items() if not f.required},
    )


def _document(schema_class: type[Schema], query: bool = False):
    schema = schema_class()
    known = {f.data_key or name: f for name, f in schema.load_fields.items()}
    required = {k: _values_for(k, f, query) for k, f in known.items() if f.required}
    optional = {k: _values_for(k, f, query) for k, f in known.items() if not f.required}
    extra = st.dictionaries(texts, texts if query else json_values, max_size=2)
    return st.builds(
        lambda fixed, unknown: {**unknown, **fixed},
        st.one_of(
            st.fixed_dictionaries(required, optional=optional),
            st.fixed_dictionaries({}, optional={**required, **optional}),
            *([] if query else [_plausible_document(schema_class)]),
        ),
        st.one_of(st.just({}), st.just({}), st.just({}), extra),
    )


def _dump(schema_class: type[Schema], loaded: dict) -> dict:
    """`loaded` as the API would show it: through the output schema where there is one."""
    dumped = schema_class().dump(loaded)
    output_class = OUTPUT_SCHEMAS.get(schema_class)
    if output_class:
        shown = [name for name in loaded if name in output_class().fields]
        dumped.update(output_class(only=shown).dump(loaded))
    return dumped


def _load_or_refuse(schema: Schema, document):
    try:
        return schema.load(document)
    except ValidationError as error:
        assert error.messages
        return None


@pytest.mark.parametrize("schema_class", BODY_SCHEMAS, ids=lambda cls: cls.__name__)
def test_any_json_body_loads_or_is_refused(schema_class):
    @EXAMPLES
    @given(st.one_of(_document(schema_class), json_values, deep_values))
    def check(document):
        schema = schema_class()
        loaded = _load_or_refuse(schema, document)
        if loaded is None:
            return
        assert schema.load(_dump(schema_class, loaded)) == loaded

    check()


@pytest.mark.parametrize("schema_class", QUERY_SCHEMAS, ids=lambda cls: cls.__name__)
def test_any_query_string_loads_or_is_refused(schema_class):
    @EXAMPLES
    @given(_document(schema_class, query=True))
    def check(arguments):
        schema = schema_class()
        loaded = _load_or_refuse(schema, arguments)
        if loaded is None:
            return
        dumped = {k: str(v) for k, v in schema.dump(loaded).items() if v is not None}
        assert schema.load(dumped) == loaded

    check()


def test_every_text_field_of_every_input_schema_refuses_controls():
    def text_fields(schema_class):
        for name, field in schema_class().load_fields.items():
            if isinstance(field, fields.Nested):
                yield from text_fields(type(field.schema))
            elif isinstance(field, fields.String):
                yield f"{schema_class.__name__}.{name}", field

    for label, field in (item for cls in BODY_SCHEMAS + QUERY_SCHEMAS for item in text_fields(cls)):
        assert isinstance(field, Text), f"{label} is a plain String"


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800", "\udfffa", "a\x1bb", "a\x85b", "a\x7fb"])
def test_text_refuses_control_characters_and_lone_surrogates(bad):
    class Probe(BodySchema):
        single = Text()
        multi = Text(multiline=True)

    with pytest.raises(ValidationError) as error:
        Probe().load({"single": bad, "multi": bad})
    assert set(error.value.messages) == {"single", "multi"}


def test_multiline_text_keeps_tab_and_newline_single_line_does_not():
    class Probe(BodySchema):
        single = Text()
        multi = Text(multiline=True)

    assert Probe().load({"multi": "a\tb\r\nc"}) == {"multi": "a\tb\r\nc"}
    with pytest.raises(ValidationError):
        Probe().load({"single": "a\tb"})


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-00:01"]
)
def test_utc_datetime_outside_years_1_to_9999_is_refused(value):
    class Probe(BodySchema):
        at = UTCTimestamp()

    with pytest.raises(ValidationError) as error:
        Probe().load({"at": value})
    assert "at" in error.value.messages


def test_utc_datetime_at_the_edges_of_the_range_loads():
    class Probe(BodySchema):
        at = UTCTimestamp()

    assert Probe().load({"at": "9999-12-31T23:59:59Z"})["at"] == datetime(
        9999, 12, 31, 23, 59, 59, tzinfo=UTC
    )
    assert Probe().load({"at": "0001-01-01T00:00:00Z"})["at"].year == 1
