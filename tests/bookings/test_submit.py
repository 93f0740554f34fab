"""POST /submit_request and GET /request/<id>: validation and shape."""

import pytest

from tests.support.api import assert_problem, booking_body

BOOKING_FIELDS = {
    "id", "resource_id", "topic", "event_time", "duration_minutes", "end_time", "address",
    "status", "requested_by", "decided_by", "decided_at", "reason", "created_at", "updated_at",
    "checked_in_at",
    "series_id",
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


# What each field accepts is tested on the schema alone (tests/unit/test_booking_schemas.py);
# these show that a refused body comes back as a 422 problem naming the field, and stores nothing.
@pytest.mark.parametrize(
    ("body", "field"),
    [
        (booking_body(address={**booking_body()["address"], "country": "Atlantis"}),
         "address.country"),
        ({k: v for k, v in booking_body().items() if k != "event_time"}, "event_time"),
    ],
)  # fmt: skip
def test_invalid_booking_is_a_422_problem_naming_the_field(api, body, field):
    alice = api.user()
    response = api.client.post("/submit_request", json=body, headers=alice.headers)
    problem = assert_problem(response, 422)
    assert problem["title"] == "Unprocessable Entity"
    assert problem["type"] == "urn:my-app:problem:validation-error"
    assert set(problem["errors"]) == {field}
    assert all(isinstance(message, str) for message in problem["errors"][field])
    assert api.client.get("/my_requests", headers=alice.headers).json["bookings"] == []


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
