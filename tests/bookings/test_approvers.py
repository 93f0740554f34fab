"""Approvers: a resource's own deciders, who see and decide its requests and nothing else."""

import pytest

from tests.support.api import assert_problem, future


@pytest.fixture
def room(api):
    """An admin, the resource "Room 7", its approver bob and a requester alice."""
    admin = api.admin("boss")
    created = api.client.post("/resources", json={"name": "Room 7"}, headers=admin.headers)
    bob, alice = api.user("bob"), api.user("alice")
    response = set_approvers(api, admin, created.json["id"], [bob.id])
    assert response.status_code == 200, response.json
    return created.json["id"], admin, bob, alice


def set_approvers(api, admin, resource_id, user_ids):
    return api.client.put(
        f"/resources/{resource_id}/approvers", json={"user_ids": user_ids}, headers=admin.headers
    )


def test_admin_sets_the_whole_list_and_everyone_sees_it(api, room):
    room_id, admin, bob, alice = room
    carol = api.user("carol")
    response = set_approvers(api, admin, room_id, [carol.id, bob.id, carol.id])
    assert response.status_code == 200
    expected = [
        {"id": bob.id, "username": "bob", "email": bob.email},
        {"id": carol.id, "username": "carol", "email": carol.email},
    ]
    assert (response.json["id"], response.json["approvers"]) == (room_id, expected)
    listed = api.client.get("/resources", headers=alice.headers).json["resources"]
    assert {r["id"]: r["approvers"] for r in listed} == {1: [], room_id: expected}

    assert set_approvers(api, admin, room_id, []).json["approvers"] == []


def test_only_admins_set_approvers(api, room):
    room_id, _, bob, alice = room
    assert_problem(set_approvers(api, bob, room_id, [bob.id]), 403)
    assert_problem(set_approvers(api, alice, room_id, [alice.id]), 403)


def test_approvers_of_an_unknown_resource_is_404(api, room):
    _, admin, bob, _ = room
    assert_problem(set_approvers(api, admin, 999999, [bob.id]), 404)


def test_unknown_or_disabled_users_are_422_and_change_nothing(api, room):
    room_id, admin, bob, alice = room
    disabled = api.client.patch(
        f"/user/{alice.id}", json={"status": "disabled"}, headers=admin.headers
    )
    assert disabled.status_code == 200
    problem = assert_problem(set_approvers(api, admin, room_id, [999999, alice.id]), 422)
    assert problem["errors"]["user_ids"] == [
        "There is no user 999999.",
        f"User {alice.id} (alice) is disabled.",
    ]
    listed = api.client.get("/resources", headers=admin.headers).json["resources"]
    assert [r["approvers"] for r in listed if r["id"] == room_id] == [
        [{"id": bob.id, "username": "bob", "email": bob.email}]
    ]


@pytest.mark.parametrize(
    "body", [{}, {"user_ids": 3}, {"user_ids": [0]}, {"user_ids": ["3"]}, {"user_ids": [], "x": 1}]
)
def test_malformed_approver_lists_are_422(api, room, body):
    room_id, admin, _, _ = room
    response = api.client.put(f"/resources/{room_id}/approvers", json=body, headers=admin.headers)
    assert_problem(response, 422)


def test_an_approver_sees_and_decides_the_requests_of_their_resource(api, room, mailbox):
    room_id, _, bob, alice = room
    mine = api.booking(alice, resource_id=room_id)
    mailbox.clear()

    listed = api.client.get("/list_requests", headers=bob.headers)
    assert listed.status_code == 200
    assert [b["id"] for b in listed.json["bookings"]] == [mine["id"]]
    filtered = api.client.get(f"/list_requests?resource_id={room_id}", headers=bob.headers)
    assert [b["id"] for b in filtered.json["bookings"]] == [mine["id"]]
    assert api.client.get(f"/request/{mine['id']}", headers=bob.headers).status_code == 200
    history = api.client.get(f"/request/{mine['id']}/history", headers=bob.headers)
    assert [entry["to_status"] for entry in history.json["history"]] == ["pending"]

    accepted = api.decide(bob, "accept", mine["id"])
    assert accepted.status_code == 200
    assert accepted.json["decided_by"]["username"] == "bob"
    mailbox.wait_for(alice.email, f"Your booking request #{mine['id']} was accepted")
    cancelled = api.decide(bob, "cancel", mine["id"], reason="Room flooded")
    assert cancelled.json["status"] == "cancelled"
    assert (
        "Room flooded"
        in mailbox.wait_for(alice.email, f"Your booking request #{mine['id']} was cancelled")[
            0
        ].get_content()
    )


def test_an_approver_rejects_and_the_requester_is_told(api, room, mailbox):
    room_id, _, bob, alice = room
    mine = api.booking(alice, resource_id=room_id)
    response = api.decide(bob, "reject", mine["id"], reason="Booked for cleaning")
    assert (response.status_code, response.json["status"]) == (200, "rejected")
    subject = f"Your booking request #{mine['id']} was rejected"
    assert "Booked for cleaning" in mailbox.wait_for(alice.email, subject)[0].get_content()


def test_an_approver_cannot_see_or_decide_other_resources_requests(api, room):
    _, _, bob, alice = room
    elsewhere = api.booking(alice, resource_id=1)
    listed = api.client.get("/list_requests", headers=bob.headers).json["bookings"]
    assert elsewhere["id"] not in [b["id"] for b in listed]
    assert_problem(api.client.get("/list_requests?resource_id=1", headers=bob.headers), 403)
    assert_problem(api.client.get(f"/request/{elsewhere['id']}", headers=bob.headers), 403)
    history = api.client.get(f"/request/{elsewhere['id']}/history", headers=bob.headers)
    assert_problem(history, 403)
    for action in ("accept", "reject", "cancel"):
        assert_problem(api.decide(bob, action, elsewhere["id"]), 403)
    deleted = api.client.delete(f"/delete_request/{elsewhere['id']}", headers=bob.headers)
    assert_problem(deleted, 403)


def test_a_requester_who_approves_nothing_cannot_list_every_request(api, room):
    _, _, _, alice = room
    assert_problem(api.client.get("/list_requests", headers=alice.headers), 403)


def test_being_made_or_unmade_an_approver_counts_on_the_very_next_request(api, room):
    room_id, admin, bob, alice = room
    pending = api.booking(alice, resource_id=room_id)
    assert set_approvers(api, admin, room_id, []).status_code == 200
    assert_problem(api.client.get("/list_requests", headers=bob.headers), 403)
    assert_problem(api.client.get(f"/request/{pending['id']}", headers=bob.headers), 403)
    assert_problem(api.decide(bob, "accept", pending["id"]), 403)

    assert set_approvers(api, admin, room_id, [bob.id]).status_code == 200
    assert api.decide(bob, "accept", pending["id"]).status_code == 200


def test_approvers_are_emailed_when_a_request_waits_for_them(api, room, mailbox):
    room_id, admin, bob, alice = room
    carol = api.user("carol")
    set_approvers(api, admin, room_id, [bob.id, carol.id])
    mailbox.clear()
    booking = api.booking(alice, resource_id=room_id, event_time=future(72))
    subject = f"Booking request #{booking['id']} for Room 7 waits for your decision"
    for approver in (bob, carol):
        [message] = mailbox.wait_for(approver.email, subject)
        body = message.get_content()
        assert "alice" in body and booking["topic"] in body and "60 minutes" in body
    api.booking(alice, resource_id=1)  # nobody approves the main calendar but the admins
    api.booking(bob, resource_id=room_id, event_time=future(96))  # bob's own: not told
    assert len(mailbox.to(bob.email)) == 1
    assert len(mailbox.to(carol.email)) == 2
    assert mailbox.to(admin.email) == []


def test_a_deleted_account_approves_nothing_and_its_blackouts_stay(api, room):
    room_id, admin, bob, _ = room
    blackout = api.client.post(
        f"/resources/{room_id}/blackouts",
        json={"start": future(24), "end": future(25)},
        headers=bob.headers,
    )
    assert blackout.status_code == 201
    assert api.client.delete(f"/user/{bob.id}", headers=bob.headers).status_code == 200
    listed = api.client.get("/resources", headers=admin.headers).json["resources"]
    assert [r["approvers"] for r in listed if r["id"] == room_id] == [[]]
    kept = api.client.get(f"/resources/{room_id}/blackouts", headers=admin.headers)
    assert kept.json["blackouts"] == [blackout.json]


def test_an_approvers_csv_export_holds_only_their_resources_requests(api, room):
    room_id, _, bob, alice = room
    mine = api.booking(alice, resource_id=room_id)
    api.booking(alice, resource_id=1)
    response = api.client.get("/list_requests", headers={**bob.headers, "Accept": "text/csv"})
    assert response.status_code == 200
    rows = response.get_data(as_text=True).splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == [str(mine["id"])]
