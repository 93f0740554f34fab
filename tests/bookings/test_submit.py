"""POST /submit_request and GET /request/<id>: validation and shape."""

import pytest

from tests.support.api import booking_body, future

BOOKING_FIELDS = {
    "id", "resource_id", "topic", "event_time", "duration_minutes", "end_time", "address",
    "status", "requested_by", "decided_by", "decided_at", "reason", "created_at", "updated_at",
}  # fmt: skip


def test_submit_returns_the_pending_request_with_requester_from_the_token(api):
    alice = api.user("alice")
    response = api.submit(alice, event_time="2099-03-01T16:00:00+01:00", duration_minutes=90)
    assert response.status_code == 201
    booking = response.json
    assert set(booking) == BOOKING_FIELDS
    assert isinstance(booking["id"], int)
    assert booking["status"] == "pending"
    assert booking["resource_id"] == 1
    assert booking["event_time"] == "2099-03-01T15:00:00Z"
    assert booking["end_time"] == "2099-03-01T16:30:00Z"
    assert booking["requested_by"] == {"id": alice.id, "username": "alice", "email": alice.email}
    assert booking["decided_by"] is None and booking["decided_at"] is None
    assert booking["address"]["country"] == "US"
    assert booking["created_at"].endswith("Z")


def test_submitted_request_is_readable_by_owner_and_admin_only(api):
    alice, bob, admin = api.user(), api.user(), api.admin()
    booking = api.booking(alice)
    path = f"/request/{booking['id']}"
    assert api.client.get(path, headers=alice.headers).json == booking
    assert api.client.get(path, headers=admin.headers).json == booking
    assert api.client.get(path, headers=bob.headers).status_code == 403
    assert api.client.get("/request/999999", headers=admin.headers).status_code == 404


def test_submit_needs_a_token(api):
    assert api.client.post("/submit_request", json=booking_body()).status_code == 401


@pytest.mark.parametrize(
    ("given", "stored"),
    [("usa", "US"), ("US", "US"), ("de", "DE"), ("DEU", "DE"), ("germany", "DE"),
     ("  France ", "FR"), ("United Kingdom", "GB")],
)  # fmt: skip
def test_country_is_accepted_as_alpha2_alpha3_or_name_and_returned_as_alpha2(api, given, stored):
    alice = api.user()
    address = {**booking_body()["address"], "country": given}
    assert api.booking(alice, address=address)["address"]["country"] == stored


def test_strings_are_trimmed_and_optional_address_fields_may_be_left_out(api):
    alice = api.user()
    address = {"street": "  5 Elm Road ", "city": " Oslo ", "country": "norway"}
    booking = api.booking(alice, topic="  Board meeting  ", address=address)
    assert booking["topic"] == "Board meeting"
    assert booking["address"] == {
        "street": "5 Elm Road", "city": "Oslo", "state": None, "postal_code": None, "country": "NO",
    }  # fmt: skip


def _address(**changes):
    return {**booking_body()["address"], **changes}


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
    ],
)
def test_invalid_booking_is_422_naming_the_field(api, overrides, field):
    alice = api.user()
    response = api.submit(alice, **overrides)
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"]
    assert api.client.get("/my_requests", headers=alice.headers).json["bookings"] == []


@pytest.mark.parametrize("missing", ["topic", "event_time", "duration_minutes", "address"])
def test_missing_booking_field_is_422(api, missing):
    alice = api.user()
    body = booking_body()
    del body[missing]
    response = api.client.post("/submit_request", json=body, headers=alice.headers)
    assert response.status_code == 422
    assert missing in response.json["errors"]


def test_unknown_or_inactive_resource_is_404(api):
    alice, admin = api.user(), api.admin()
    assert api.submit(alice, resource_id=999).status_code == 404
    room = api.client.post("/resources", json={"name": "Room A"}, headers=admin.headers).json
    api.client.patch(f"/resources/{room['id']}", json={"active": False}, headers=admin.headers)
    assert api.submit(alice, resource_id=room["id"]).status_code == 404


def test_submit_to_a_named_resource(api):
    alice, admin = api.user(), api.admin()
    room = api.client.post("/resources", json={"name": "Room B"}, headers=admin.headers).json
    assert api.booking(alice, resource_id=room["id"])["resource_id"] == room["id"]


def test_event_time_in_the_near_future_is_accepted(api):
    assert api.submit(api.user(), event_time=future(0, 5)).status_code == 201
