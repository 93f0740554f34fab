"""The list's own encoding of booking rows gives what `BookingSchema` dumps, field for field and
byte for byte, for any row: nulls, deciders, series, every status, any time to the microsecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from my_app.models.booking import BOOKING_STATUSES
from my_app.schemas.booking import BookingSchema
from my_app.schemas.booking_list import BOOKING_ROW, BookingPageSchema, BookingRowSchema
from my_app.services.booking_pages import _statement
from my_app.services.pagination import Page

# What the database can hold: valid Unicode (no lone surrogates).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
IDS = st.integers(1, 2**31 - 1)
# Rows carry times as naive datetimes in UTC, as services/booking_pages.py reads them.
MOMENTS = st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30))


@st.composite
def rows(draw) -> tuple:
    values = {
        "id": draw(IDS), "resource_id": draw(IDS), "topic": draw(TEXT),
        "event_time": draw(MOMENTS), "duration_minutes": draw(st.integers(1, 10080)),
        "end_time": draw(MOMENTS), "street": draw(TEXT), "city": draw(TEXT),
        "state": draw(st.none() | TEXT), "postal_code": draw(st.none() | TEXT),
        "country": draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)),
        "status": draw(st.sampled_from(BOOKING_STATUSES)),
        "requester_id": draw(IDS), "requester_username": draw(TEXT), "requester_email": draw(TEXT),
        "decided_at": draw(st.none() | MOMENTS), "reason": draw(st.none() | TEXT),
        "created_at": draw(MOMENTS), "updated_at": draw(MOMENTS),
        "checked_in_at": draw(st.none() | MOMENTS), "series_id": draw(st.none() | IDS),
    }  # fmt: skip
    decided = draw(st.booleans())
    values |= {
        "decider_id": draw(IDS) if decided else None,
        "decider_username": draw(TEXT) if decided else None,
        "decider_email": draw(TEXT) if decided else None,
    }
    return tuple(values[name] for name in BOOKING_ROW)


def as_model(row: tuple) -> SimpleNamespace:
    """The request a row holds, as the ORM would give it to `BookingSchema`."""
    value = dict(zip(BOOKING_ROW, row, strict=True))
    for name, moment in value.items():
        if isinstance(moment, datetime):  # UTCDateTime: aware, in UTC
            value[name] = moment.replace(tzinfo=UTC)
    address = {name: value[name] for name in ("street", "city", "state", "postal_code", "country")}

    def person(role):
        user = {name: value[f"{role}_{name}"] for name in ("id", "username", "email")}
        return None if user["id"] is None else SimpleNamespace(**user)

    return SimpleNamespace(
        **value, address=address, requested_by=person("requester"), decided_by=person("decider")
    )


@given(st.lists(rows(), max_size=5), st.none() | st.text("abcXYZ-_019", min_size=1))
def test_a_page_encodes_as_marshmallow_dumps_its_requests(page_rows, cursor):
    page = Page(page_rows, cursor)
    expected = {
        "bookings": [BookingSchema().dump(as_model(row)) for row in page_rows],
        "next_cursor": cursor,
    }
    encoded = BookingPageSchema().encode(page)
    assert encoded == orjson.dumps(expected)  # what the app's JSON provider writes
    assert BookingPageSchema().dump(page) == expected


@given(rows())
def test_a_csv_row_dumps_as_marshmallow(row):
    dumped = BookingRowSchema().dump(row)
    expected = BookingSchema().dump(as_model(row))
    assert list(dumped.items()) == list(expected.items())
    assert BookingRowSchema(many=True).dump([row, row]) == [expected, expected]


def test_each_column_lands_in_its_own_field():
    numbers = {"id", "resource_id", "duration_minutes", "requester_id", "decider_id", "series_id"}

    def value(position, name):
        if name.endswith(("_time", "_at")):
            return datetime(2027, 3, 1, 15, 0, 0, position)
        return position if name in numbers else f"column {position}"

    row = tuple(value(position, name) for position, name in enumerate(BOOKING_ROW))
    dumped = BookingRowSchema().dump(row)
    assert dumped["event_time"] == "2027-03-01T15:00:00.000003Z"
    assert dumped["address"]["country"] == "column 10"
    assert dumped["requested_by"] == {"id": 12, "username": "column 13", "email": "column 14"}
    assert dumped["decided_by"] == {"id": 15, "username": "column 16", "email": "column 17"}
    assert (dumped["checked_in_at"], dumped["series_id"]) == ("2027-03-01T15:00:00.000022Z", 23)
    assert dumped == BookingSchema().dump(as_model(row))


class FakeDatetime(datetime):
    """A datetime subclass, as freezegun makes them."""


@pytest.mark.parametrize(
    "moment",
    [datetime(2027, 3, 1, 15, 0), datetime(2027, 3, 1, 15, 0, 0, 120), datetime(999, 1, 2, 3, 4)],
)
def test_times_of_a_datetime_subclass_are_written_the_same(moment):
    row = tuple(moment if name == "event_time" else 1 for name in BOOKING_ROW)
    elsewhere = moment.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    for written in (
        FakeDatetime(*moment.timetuple()[:6], moment.microsecond),
        FakeDatetime(*elsewhere.timetuple()[:6], elsewhere.microsecond, elsewhere.tzinfo),
    ):
        other = tuple(written if name == "event_time" else 1 for name in BOOKING_ROW)
        assert BookingRowSchema().dump(other) == BookingRowSchema().dump(row)


def test_the_statement_selects_the_row_in_its_order():
    for conditions in (frozenset(), frozenset({"after", "status", "resource_ids"})):
        names = [column.name for column in _statement(conditions).selected_columns]
        assert names == list(BOOKING_ROW)
