"""`BookingSchema` writes a request out by hand (`shown`): the same JSON as its declared
fields make through marshmallow, for every kind of request. The schema alone: no HTTP,
no database."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from marshmallow import Schema

from my_app.models import BookingRequest, BookingStatus, User
from my_app.schemas.booking import BookingSchema
from my_app.schemas.event import EventSchema, event_bodies

START = datetime(2099, 3, 1, 15, tzinfo=UTC)
PLUS_TWO = timedelta(hours=2)
ALICE = {"id": 1, "username": "alice", "email": "alice@example.com"}


def _booking(**changes) -> BookingRequest:
    values = dict(
        id=7, resource_id=1, topic="Standup", event_time=START, duration_minutes=30,
        end_time=START + timedelta(minutes=30), street="1 Main Street", city="Springfield",
        state=None, postal_code=None, country="US", status=BookingStatus.PENDING,
        requested_by=User(**ALICE), decided_by=None, decided_at=None, reason=None,
        created_at=START - timedelta(days=1, microseconds=-1234),
        updated_at=START - timedelta(days=1), checked_in_at=None, series_id=None, version=1,
    )  # fmt: skip
    return BookingRequest(**{**values, **changes})


def _marshmallow(booking: BookingRequest) -> dict:
    """What marshmallow itself makes of the declared fields."""
    return Schema.dump(BookingSchema(), booking)


KINDS = {
    "pending": {},
    "decided": dict(
        status=BookingStatus.ACCEPTED,
        reason="Approved for the board",
        decided_by=User(id=2, username="admin", email="admin@example.com"),
        decided_at=datetime(2099, 2, 1, 9, 30, 15, 250000, tzinfo=UTC),
    ),
    "checked in, of a series, full address": dict(
        status="accepted",
        checked_in_at=START + timedelta(minutes=2),
        series_id=3,
        state="IL",
        postal_code="62701",
    ),
    "another offset": dict(event_time=datetime(2099, 3, 29, 2, 30, tzinfo=timezone(PLUS_TWO))),
    "unicode and an empty reason": dict(topic="Réunion ☕", reason="", status="cancelled"),
}


@pytest.mark.parametrize("changes", KINDS.values(), ids=KINDS.keys())
def test_the_hand_written_dump_is_marshmallows(changes):
    booking = _booking(**changes)
    assert BookingSchema().dump(booking) == _marshmallow(booking)


def test_a_list_and_a_nested_dump_are_the_same_as_one_by_one():
    bookings = [_booking(**changes) for changes in KINDS.values()]
    assert BookingSchema(many=True).dump(bookings) == [_marshmallow(b) for b in bookings]
    event = EventSchema().dump({"id": "e1", "type": "booking.submitted", "data": bookings[1]})
    assert event["data"] == _marshmallow(bookings[1])


def test_anything_but_a_request_is_left_to_marshmallow():
    as_dict = {"id": 1, "topic": "x", "status": "pending", "address": {"city": "Springfield"}}
    assert BookingSchema().dump(as_dict) == Schema.dump(BookingSchema(), as_dict)
    assert BookingSchema(only=("id",)).dump(_booking()) == {"id": 7}


def test_event_bodies_are_the_event_schemas_dump():
    occurred_at = datetime(2099, 2, 1, 9, 30, 15, 250000, tzinfo=timezone(PLUS_TWO))
    events = [(f"e{n}", _booking(**changes)) for n, changes in enumerate(KINDS.values())]
    assert event_bodies("booking.accepted", occurred_at, events) == [
        EventSchema().dump(
            {"id": event_id, "type": "booking.accepted", "occurred_at": occurred_at, "data": b}
        )
        for event_id, b in events
    ]
