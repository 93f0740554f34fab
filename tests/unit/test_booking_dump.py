"""A request dumped twice unchanged is dumped once (its event, then its answer), and a
change in between always shows: the schema alone, no HTTP, no database."""

from datetime import UTC, datetime, timedelta

from my_app.models import BookingRequest, User
from my_app.schemas.booking import BookingSchema
from my_app.schemas.event import EventSchema

START = datetime(2099, 3, 1, 15, tzinfo=UTC)


def _booking() -> BookingRequest:
    alice = User(id=1, username="alice", email="alice@example.com")
    return BookingRequest(
        id=7, resource_id=1, topic="Standup", event_time=START, duration_minutes=30,
        end_time=START + timedelta(minutes=30), street="1 Main Street", city="Springfield",
        state=None, postal_code=None, country="US", status="pending", requested_by=alice,
        decided_by=None, decided_at=None, reason=None, created_at=START - timedelta(days=1),
        updated_at=START - timedelta(days=1), checked_in_at=None, series_id=None, version=1,
    )  # fmt: skip


def test_a_second_dump_of_an_unchanged_request_equals_the_first_and_is_its_own_copy():
    booking = _booking()
    first = BookingSchema().dump(booking)
    second = BookingSchema().dump(booking)
    assert second == first and second is not first
    second["topic"] = "changed by a caller"
    assert BookingSchema().dump(booking)["topic"] == "Standup"


def test_the_event_dump_and_the_answer_agree():
    booking = _booking()
    event = EventSchema().dump({"id": "e1", "type": "booking.submitted", "data": booking})
    assert event["data"] == BookingSchema().dump(booking)


def test_every_change_after_a_dump_shows_in_the_next():
    booking = _booking()
    BookingSchema().dump(booking)
    booking.status, booking.version = "accepted", 2
    booking.decided_by = User(id=2, username="admin", email="admin@example.com")
    booking.decided_at = START - timedelta(hours=1)
    dumped = BookingSchema().dump(booking)
    assert dumped["status"] == "accepted"
    assert dumped["decided_by"] == {"id": 2, "username": "admin", "email": "admin@example.com"}
    assert dumped["decided_at"] == "2099-03-01T14:00:00Z"
    booking.requested_by.email = "alice@example.org"
    assert BookingSchema().dump(booking)["requested_by"]["email"] == "alice@example.org"


def test_lists_are_dumped_as_marshmallow_dumps_them():
    bookings = [_booking(), _booking()]
    assert BookingSchema(many=True).dump(bookings) == [BookingSchema().dump(b) for b in bookings]
