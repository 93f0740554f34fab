"""Accept, reject, cancel, delete, history and the e-mails they send."""

import pytest

from tests.support.api import assert_problem, future


@pytest.fixture
def people(api):
    return api.user("alice"), api.admin("boss")


def test_admin_accepts_a_pending_request_and_the_requester_is_told(api, people, mailbox):
    alice, admin = people
    booking = api.booking(alice)
    mailbox.clear()
    response = api.decide(admin, "accept", booking["id"])
    assert response.status_code == 200
    accepted = response.json
    assert accepted["status"] == "accepted"
    assert accepted["decided_by"] == {"id": admin.id, "username": "boss", "email": admin.email}
    assert accepted["decided_at"].endswith("Z")
    [message] = mailbox.to(alice.email)
    assert "accepted" in message["Subject"]
    assert booking["topic"] in message.get_content()


def test_admin_rejects_with_a_reason(api, people, mailbox):
    alice, admin = people
    booking = api.booking(alice)
    mailbox.clear()
    response = api.decide(admin, "reject", booking["id"], reason="  Room under repair ")
    assert response.status_code == 200
    assert (response.json["status"], response.json["reason"]) == ("rejected", "Room under repair")
    assert "Room under repair" in mailbox.last_body(alice.email)


@pytest.mark.parametrize("action", ["accept", "reject"])
def test_deciding_is_admin_only(api, people, action):
    alice, _ = people
    booking = api.booking(alice)
    assert api.decide(alice, action, booking["id"]).status_code == 403


@pytest.mark.parametrize("action", ["accept", "reject", "cancel"])
def test_deciding_an_unknown_request_is_404(api, people, action):
    _, admin = people
    assert api.decide(admin, action, 999999).status_code == 404


# The whole table is tested in tests/unit/test_booking_transitions.py; over HTTP, a refused
# move from each state a decision can leave behind.
@pytest.mark.parametrize(
    ("first", "then"), [("accept", "reject"), ("reject", "cancel"), ("cancel", "accept")]
)
def test_moves_the_state_machine_does_not_allow_are_409(api, people, first, then):
    alice, admin = people
    booking = api.booking(alice)
    assert api.decide(admin, first, booking["id"]).status_code == 200
    response = api.decide(admin, then, booking["id"])
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"


def test_owner_cancels_pending_and_accepted_requests_without_mail(api, people, mailbox):
    alice, admin = people
    pending = api.booking(alice)
    accepted = api.booking(alice, event_time=future(96))
    api.decide(admin, "accept", accepted["id"])
    mailbox.clear()
    for booking in (pending, accepted):
        response = api.decide(alice, "cancel", booking["id"], reason="Plans changed")
        assert response.status_code == 200
        assert response.json["status"] == "cancelled"
        assert response.json["reason"] == "Plans changed"
    assert mailbox.to(alice.email) == []


def test_admin_cancels_and_the_requester_is_told(api, people, mailbox):
    alice, admin = people
    booking = api.booking(alice)
    api.decide(admin, "accept", booking["id"])
    mailbox.clear()
    assert api.decide(admin, "cancel", booking["id"]).json["status"] == "cancelled"
    assert "cancelled" in mailbox.to(alice.email)[0]["Subject"]


def test_another_user_cannot_cancel(api, people):
    alice, _ = people
    booking = api.booking(alice)
    assert api.decide(api.user(), "cancel", booking["id"]).status_code == 403


def test_cancelled_slot_can_be_accepted_for_someone_else(api, people):
    alice, admin = people
    first = api.booking(alice)
    second = api.booking(api.user(), event_time=first["event_time"])
    api.decide(admin, "accept", first["id"])
    assert api.decide(admin, "accept", second["id"]).status_code == 409
    api.decide(admin, "cancel", first["id"])
    assert api.decide(admin, "accept", second["id"]).status_code == 200


def test_overlapping_accept_is_409_naming_the_conflict(api, people):
    alice, admin = people
    first = api.booking(alice, event_time=future(48), duration_minutes=120)
    second = api.booking(alice, event_time=future(49), duration_minutes=30)
    assert api.decide(admin, "accept", first["id"]).status_code == 200
    response = api.decide(admin, "accept", second["id"])
    assert response.status_code == 409
    assert str(first["id"]) in response.json["detail"]
    assert (
        api.client.get(f"/request/{second['id']}", headers=admin.headers).json["status"]
        == "pending"
    )


def test_back_to_back_bookings_do_not_overlap(api, people):
    alice, admin = people
    first = api.booking(alice, event_time=future(48), duration_minutes=60)
    second = api.booking(alice, event_time=future(49), duration_minutes=60)
    assert api.decide(admin, "accept", first["id"]).status_code == 200
    assert api.decide(admin, "accept", second["id"]).status_code == 200


def test_other_resources_do_not_conflict(api, people):
    alice, admin = people
    room = api.client.post("/resources", json={"name": "Room C"}, headers=admin.headers).json
    first = api.booking(alice)
    second = api.booking(alice, resource_id=room["id"])
    assert api.decide(admin, "accept", first["id"]).status_code == 200
    assert api.decide(admin, "accept", second["id"]).status_code == 200


def test_decision_with_invalid_body_is_422_problem(api, people):
    # Every refused body: tests/unit/test_booking_schemas.py.
    _, admin = people
    response = api.client.post("/accept_request", json={"id": "1"}, headers=admin.headers)
    assert set(assert_problem(response, 422)["errors"]) == {"id"}


def test_history_lists_every_change_oldest_first(api, people):
    alice, admin = people
    booking = api.booking(alice)
    api.decide(admin, "accept", booking["id"])
    api.decide(alice, "cancel", booking["id"], reason="Sick")
    response = api.client.get(f"/request/{booking['id']}/history", headers=alice.headers)
    assert response.status_code == 200
    entries = response.json["history"]
    assert [(e["from_status"], e["to_status"]) for e in entries] == [
        (None, "pending"), ("pending", "accepted"), ("accepted", "cancelled"),
    ]  # fmt: skip
    assert [e["by"]["id"] for e in entries] == [alice.id, admin.id, alice.id]
    assert entries[2]["reason"] == "Sick"
    assert all(e["at"].endswith("Z") for e in entries)


def test_history_is_for_owner_and_admin_only(api, people):
    alice, admin = people
    booking = api.booking(alice)
    path = f"/request/{booking['id']}/history"
    assert api.client.get(path, headers=admin.headers).status_code == 200
    assert api.client.get(path, headers=api.user().headers).status_code == 403
    assert api.client.get("/request/999999/history", headers=admin.headers).status_code == 404


def test_admin_deletes_a_request(api, people):
    alice, admin = people
    booking = api.booking(alice)
    response = api.client.delete(f"/delete_request/{booking['id']}", headers=admin.headers)
    assert response.status_code == 200
    assert response.json["id"] == booking["id"]
    assert "message" in response.json
    assert api.client.get(f"/request/{booking['id']}", headers=admin.headers).status_code == 404
    again = api.client.delete(f"/delete_request/{booking['id']}", headers=admin.headers)
    assert again.status_code == 404


def test_delete_is_admin_only(api, people):
    alice, _ = people
    booking = api.booking(alice)
    assert (
        api.client.delete(f"/delete_request/{booking['id']}", headers=alice.headers).status_code
        == 403
    )


def test_deleting_a_user_removes_their_requests_but_keeps_decisions(api, people):
    alice, admin = people
    second_admin = api.admin()
    own = api.booking(admin)
    decided = api.booking(alice)
    api.decide(second_admin, "accept", decided["id"])
    assert api.client.delete(f"/user/{alice.id}", headers=admin.headers).status_code == 200
    assert api.client.get(f"/request/{decided['id']}", headers=admin.headers).status_code == 404
    api.decide(second_admin, "accept", own["id"])
    assert api.client.delete(f"/user/{second_admin.id}", headers=admin.headers).status_code == 200
    kept = api.client.get(f"/request/{own['id']}", headers=admin.headers).json
    assert (kept["status"], kept["decided_by"]) == ("accepted", None)


@pytest.mark.parametrize("huge", [2**31, 82493168506898546688])
def test_ids_beyond_any_row_are_404_or_422_never_500(api, people, huge):
    alice, admin = people
    assert api.client.get(f"/request/{huge}", headers=admin.headers).status_code == 404
    assert api.client.get(f"/request/{huge}/history", headers=admin.headers).status_code == 404
    assert api.client.delete(f"/user/{huge}", headers=admin.headers).status_code == 404
    for action in ("accept", "reject", "cancel"):
        assert api.decide(admin, action, huge).status_code == 422
    assert api.submit(alice, resource_id=huge).status_code == 422
