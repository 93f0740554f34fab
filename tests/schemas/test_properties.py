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
from my_app.schemas.base import BodySchema, QuerySchema, Text, UTCDateTime
from my_app.schemas.booking import AddressOutSchema, AddressSchema


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
OUTPUT_SCHEMAS = {AddressSchema: AddressOutSchema}
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


def _values_for(field: fields.Field, query: bool):
    if isinstance(field, fields.Nested):
        specific = _document(type(field.schema), query)
    elif isinstance(field, UTCDateTime):
        specific = iso_times
    elif isinstance(field, fields.Integer):
        specific = numbers.map(str) if query else numbers
    elif isinstance(field, fields.String):
        likely = _choices(field) or ["usa", "DE", "France", "x", "ok@example.com", "user_1"]
        specific = st.one_of(st.sampled_from(likely), texts)
    else:
        specific = json_values
    return specific if query else st.one_of(specific, specific, json_values, deep_values)


def _document(schema_class: type[Schema], query: bool = False):
    schema = schema_class()
    known = {f.data_key or name: f for name, f in schema.load_fields.items()}
    extra = st.dictionaries(texts, texts if query else json_values, max_size=2)
    return st.builds(
        lambda fixed, unknown: {**unknown, **fixed},
        st.fixed_dictionaries({}, optional={k: _values_for(f, query) for k, f in known.items()}),
        extra if query else st.one_of(st.just({}), extra),
    )


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
        output = OUTPUT_SCHEMAS.get(schema_class, schema_class)()
        assert schema.load(output.dump(loaded)) == loaded

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
        at = UTCDateTime()

    with pytest.raises(ValidationError) as error:
        Probe().load({"at": value})
    assert "at" in error.value.messages


def test_utc_datetime_at_the_edges_of_the_range_loads():
    class Probe(BodySchema):
        at = UTCDateTime()

    assert Probe().load({"at": "9999-12-31T23:59:59Z"})["at"] == datetime(
        9999, 12, 31, 23, 59, 59, tzinfo=UTC
    )
    assert Probe().load({"at": "0001-01-01T00:00:00Z"})["at"].year == 1
