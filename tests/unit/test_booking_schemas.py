"""What a booking body or list query must look like: the schemas alone, no HTTP, no database."""

import pytest
from marshmallow import ValidationError

from my_app.errors import flatten_errors
from my_app.schemas.booking import (
    BookingCreateSchema,
    BookingDecisionSchema,
    BookingIdSchema,
    BookingsQuerySchema,
)
from tests.support.api import booking_body, future


def _address(**changes):
    return {**booking_body()["address"], **changes}


def _invalid_fields(schema, data) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        schema.load(data)
    return set(flatten_errors(caught.value.messages))


def test_a_valid_booking_loads_in_utc_with_the_main_calendar_as_default():
    loaded = BookingCreateSchema().load(booking_body(event_time="2099-03-01T16:00:00+01:00"))
    assert loaded["event_time"].isoformat() == "2099-03-01T15:00:00+00:00"
    assert loaded["resource_id"] == 1


@pytest.mark.parametrize(
    ("given", "stored"),
    [("usa", "US"), ("US", "US"), ("de", "DE"), ("DEU", "DE"), ("germany", "DE"),
     ("  France ", "FR"), ("United Kingdom", "GB")],
)  # fmt: skip
def test_country_is_accepted_as_alpha2_alpha3_or_name_and_loaded_as_alpha2(given, stored):
    loaded = BookingCreateSchema().load(booking_body(address=_address(country=given)))
    assert loaded["address"]["country"] == stored


def test_strings_are_trimmed_and_optional_address_fields_may_be_left_out():
    address = {"street": "  5 Elm Road ", "city": " Oslo ", "country": "norway"}
    loaded = BookingCreateSchema().load(booking_body(topic="  Board meeting  ", address=address))
    assert loaded["topic"] == "Board meeting"
    assert loaded["address"] == {
        "street": "5 Elm Road", "city": "Oslo", "state": None, "postal_code": None, "country": "NO",
    }  # fmt: skip


def test_event_time_in_the_near_future_is_accepted():
    assert BookingCreateSchema().load(booking_body(event_time=future(0, 5)))["event_time"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"topic": ""}, "topic"),
        ({"topic": "   "}, "topic"),
        ({"topic": "x" * 201}, "topic"),
        ({"event_time": "2099-03-01T15:00:00"}, "event_time"),
        ({"event_time": "2001-03-01T15:00:00Z"}, "event_time"),
        ({"event_time": "tomorrow"}, "event_time"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 10081}, "duration_minutes"),
        ({"duration_minutes": "60"}, "duration_minutes"),
        ({"address": _address(street="  ")}, "address.street"),
        ({"address": _address(city="")}, "address.city"),
        ({"address": _address(country="Atlantis")}, "address.country"),
        ({"address": _address(country="840")}, "address.country"),
        ({"address": _address(floor=3)}, "address.floor"),
        ({"address": "1 Main Street"}, "address"),
        ({"status": "accepted"}, "status"),
        ({"requested_by": 1}, "requested_by"),
        ({"resource_id": "one"}, "resource_id"),
        ({"resource_id": 2**31}, "resource_id"),
    ],
)
def test_invalid_booking_names_the_field(overrides, field):
    assert field in _invalid_fields(BookingCreateSchema(), booking_body(**overrides))


@pytest.mark.parametrize("missing", ["topic", "event_time", "duration_minutes", "address"])
def test_missing_booking_field_is_named(missing):
    body = booking_body()
    del body[missing]
    assert missing in _invalid_fields(BookingCreateSchema(), body)


@pytest.mark.parametrize("schema", [BookingIdSchema, BookingDecisionSchema])
@pytest.mark.parametrize("body", [{}, {"id": "1"}, {"id": 0}, {"id": 2**31}, {"id": 1, "x": 1}])
def test_decision_with_invalid_body_is_refused(schema, body):
    assert _invalid_fields(schema(), body)


def test_decision_reason_is_trimmed_and_optional():
    assert BookingDecisionSchema().load({"id": 7}) == {"id": 7, "reason": None}
    assert BookingDecisionSchema().load({"id": 7, "reason": " Sick "})["reason"] == "Sick"


@pytest.mark.parametrize(
    ("query", "field"),
    [({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"status": "done"}, "status"),
     ({"from": "yesterday"}, "from"), ({"from": "2030-01-01T00:00:00"}, "from"),
     ({"resource_id": "x"}, "resource_id"),
     ({"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"}, "to")],
)  # fmt: skip
def test_bad_list_query_names_the_parameter(query, field):
    assert field in _invalid_fields(BookingsQuerySchema(), query)


def test_list_query_defaults_and_ignores_unknown_parameters():
    assert BookingsQuerySchema().load({"utm_source": "mail"}) == {"limit": 20, "cursor": None}


@pytest.mark.parametrize("hours", [3e306, 1e308, 745, 0, -1])
def test_a_quota_of_absurd_hours_is_refused_as_out_of_range(hours):
    from my_app.schemas.rules import QuotaSchema

    with pytest.raises(ValidationError) as caught:
        QuotaSchema().load({"hours": hours, "per": "day"})
    assert "hours" in caught.value.messages
