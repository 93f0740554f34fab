"""Blackouts: times a resource cannot be booked, kept by admins and the resource's approvers."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import assert_problem
from tests.support.concurrency import at_once

BASE = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=3)


def at(hours: float) -> str:
    """An ISO 8601 UTC time `hours` after BASE (three days ahead)."""
    return (BASE + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def room(api):
    """The resource "Room 7", an admin, its approver bob and a requester alice."""
    admin = api.admin("boss")
    room_id = api.client.post("/resources", json={"name": "Room 7"}, headers=admin.headers).json[
        "id"
    ]
    bob, alice = api.user("bob"), api.user("alice")
    response = api.client.put(
        f"/resources/{room_id}/approvers", json={"user_ids": [bob.id]}, headers=admin.headers
    )
    assert response.status_code == 200
    return room_id, admin, bob, alice


def black_out(api, account, resource_id, start, end, **body):
    return api.client.post(
        f"/resources/{resource_id}/blackouts",
        json={"start": start, "end": end, **body},
        headers=account.headers,
    )


def blackouts(api, account, resource_id, **query):
    return api.client.get(
        f"/resources/{resource_id}/blackouts", query_string=query, headers=account.headers
    )


def test_admin_creates_lists_and_deletes_blackouts(api, room):
    room_id, admin, _, alice = room
    later = black_out(api, admin, room_id, at(48), at(72), reason=" Holidays ")
    assert later.status_code == 201, later.json
    assert later.json == {"id": later.json["id"], "start": at(48), "end": at(72),
                          "reason": "Holidays"}  # fmt: skip
    sooner = black_out(api, admin, room_id, at(0), at(2)).json
    assert sooner["reason"] is None

    listed = blackouts(api, alice, room_id)
    assert listed.status_code == 200
    assert listed.json == {"blackouts": [sooner, later.json]}
    window = blackouts(api, alice, room_id, **{"from": at(2), "to": at(49)})
    assert window.json["blackouts"] == [later.json]  # half-open: the first ends at 2
    assert blackouts(api, alice, 1).json == {"blackouts": []}

    path = f"/resources/{room_id}/blackouts/{sooner['id']}"
    deleted = api.client.delete(path, headers=admin.headers)
    assert deleted.status_code == 200
    assert "message" in deleted.json
    assert blackouts(api, alice, room_id).json == {"blackouts": [later.json]}
    assert_problem(api.client.delete(path, headers=admin.headers), 404)


def test_the_resources_approver_keeps_its_blackouts_and_nobody_else_but_admins(api, room):
    room_id, _, bob, alice = room
    created = black_out(api, bob, room_id, at(0), at(1))
    assert created.status_code == 201
    assert_problem(black_out(api, alice, room_id, at(2), at(3)), 403)
    assert_problem(black_out(api, bob, 1, at(2), at(3)), 403)  # bob approves only the room
    path = f"/resources/{room_id}/blackouts/{created.json['id']}"
    assert_problem(api.client.delete(path, headers=alice.headers), 403)
    assert api.client.delete(path, headers=bob.headers).status_code == 200


def test_unknown_resources_and_blackouts_are_404(api, room):
    room_id, admin, _, alice = room
    assert_problem(blackouts(api, alice, 999999), 404)
    assert_problem(black_out(api, admin, 999999, at(0), at(1)), 404)
    elsewhere = black_out(api, admin, 1, at(0), at(1)).json
    path = f"/resources/{room_id}/blackouts/{elsewhere['id']}"  # not the room's
    assert_problem(api.client.delete(path, headers=admin.headers), 404)
    assert_problem(api.client.delete(f"/resources/{room_id}/blackouts/999999",
                                     headers=admin.headers), 404)  # fmt: skip


def test_blackouts_need_a_token(api, room):
    room_id, *_ = room
    assert api.client.get(f"/resources/{room_id}/blackouts").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": at(2), "end": at(1)}, "end"),
        ({"start": at(1), "end": at(1)}, "end"),
        ({"start": at(1).removesuffix("Z"), "end": at(2)}, "start"),
        ({"start": at(1), "end": "9999-12-31T23:00:00-05:00"}, "end"),
        ({"start": at(1)}, "end"),
        ({"start": at(1), "end": at(2), "reason": "x" * 1001}, "reason"),
        ({"start": at(1), "end": at(2), "resource_id": 1}, "resource_id"),
    ],
)
def test_invalid_blackouts_are_422_and_store_nothing(api, room, body, field):
    room_id, admin, _, _ = room
    response = api.client.post(f"/resources/{room_id}/blackouts", json=body, headers=admin.headers)
    assert field in assert_problem(response, 422)["errors"]
    assert blackouts(api, admin, room_id).json == {"blackouts": []}


def test_listing_with_to_before_from_is_422(api, room):
    room_id, _, _, alice = room
    assert_problem(blackouts(api, alice, room_id, **{"from": at(2), "to": at(1)}), 422)


def test_a_request_overlapping_a_blackout_is_409_naming_it(api, room):
    room_id, admin, _, alice = room
    blackout = black_out(api, admin, room_id, at(10), at(20), reason="Maintenance").json
    refused = api.submit(alice, resource_id=room_id, event_time=at(19), duration_minutes=120)
    detail = assert_problem(refused, 409)["detail"]
    assert str(blackout["id"]) in detail and "Maintenance" in detail
    assert api.client.get("/my_requests", headers=alice.headers).json["bookings"] == []
    # Touching is not overlapping, and other resources are not blacked out.
    assert api.submit(alice, resource_id=room_id, event_time=at(9)).status_code == 201
    assert api.submit(alice, resource_id=room_id, event_time=at(20)).status_code == 201
    assert api.submit(alice, resource_id=1, event_time=at(12)).status_code == 201


def test_a_pending_request_in_a_new_blackout_cannot_be_accepted(api, room):
    room_id, admin, bob, alice = room
    pending = api.booking(alice, resource_id=room_id, event_time=at(12))
    blackout = black_out(api, bob, room_id, at(10), at(20))
    assert blackout.status_code == 201  # pending requests are not in the way
    for decider in (admin, bob):
        detail = assert_problem(api.decide(decider, "accept", pending["id"]), 409)["detail"]
        assert str(blackout.json["id"]) in detail
    assert api.client.get(f"/request/{pending['id']}", headers=alice.headers).json["status"] == (
        "pending"
    )
    assert api.decide(bob, "reject", pending["id"]).status_code == 200


def test_a_blackout_over_accepted_bookings_is_409_naming_them(api, room):
    room_id, admin, bob, alice = room
    first = api.booking(alice, resource_id=room_id, event_time=at(12))
    second = api.booking(alice, resource_id=room_id, event_time=at(15))
    for booking in (first, second):
        assert api.decide(bob, "accept", booking["id"]).status_code == 200
    detail = assert_problem(black_out(api, bob, room_id, at(10), at(20)), 409)["detail"]
    assert f"{first['id']}, {second['id']}" in detail and "cancel them first" in detail
    assert blackouts(api, admin, room_id).json == {"blackouts": []}

    for booking in (first, second):
        assert api.decide(bob, "cancel", booking["id"]).status_code == 200
    assert black_out(api, bob, room_id, at(10), at(20)).status_code == 201


def test_availability_shows_blackouts_as_closed(api, room):
    room_id, admin, _, alice = room
    for start, end in ((10, 12), (12, 14), (20, 30), (-5, 1)):
        assert black_out(api, admin, room_id, at(start), at(end)).status_code == 201
    booking = api.booking(alice, resource_id=room_id, event_time=at(15))
    api.decide(admin, "accept", booking["id"])
    response = api.client.get(
        f"/resources/{room_id}/availability",
        query_string={"from": at(0), "to": at(24)},
        headers=alice.headers,
    )
    assert response.status_code == 200
    assert response.json["busy"] == [{"start": at(15), "end": at(16)}]
    assert response.json["closed"] == [
        {"start": at(0), "end": at(1)},
        {"start": at(10), "end": at(14)},
        {"start": at(20), "end": at(24)},
    ]


ROUNDS = 5


def test_a_blackout_and_an_accept_at_the_same_moment_do_not_both_succeed(app, api, room):
    room_id, admin, bob, alice = room
    for round_ in range(ROUNDS):
        booking = api.booking(alice, resource_id=room_id, event_time=at(10 * round_ + 1))
        responses = at_once(
            app,
            [
                lambda c, b=booking: c.post(
                    "/accept_request", json={"id": b["id"]}, headers=admin.headers
                ),
                lambda c, r=round_: c.post(
                    f"/resources/{room_id}/blackouts",
                    json={"start": at(10 * r), "end": at(10 * r + 5)},
                    headers=bob.headers,
                ),
            ],
        )
        accepted, blacked_out = (r.status_code for r in responses)
        assert sorted((accepted, blacked_out)) in ([200, 409], [201, 409]), [
            r.json for r in responses
        ]
    listed = api.client.get(
        f"/list_requests?resource_id={room_id}&status=accepted", headers=admin.headers
    )
    for accepted in listed.json["bookings"]:
        window = {"from": accepted["event_time"], "to": accepted["end_time"]}
        assert blackouts(api, admin, room_id, **window).json == {"blackouts": []}
