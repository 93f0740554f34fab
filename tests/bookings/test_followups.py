"""The after-acceptance jobs, as cron runs them: release-no-shows, send-reminders,
escalate-requests."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.events.conftest import outbox
from tests.support.api import assert_problem, future

RELEASED = "Your booking #{id} was released: nobody checked in"
ESCALATED = "Booking request #{id} for {name} is still waiting for a decision"


def _later(minutes: float):
    return freeze_time(datetime.now(UTC) + timedelta(minutes=minutes), tick=True)


def _run(api, command: str) -> str:
    result = api.runner.invoke(args=[command])
    assert result.exit_code == 0, result.output
    return result.output


def _accepted(api, requester, admin, room, **overrides) -> dict:
    booking = api.booking(requester, resource_id=room["id"], **overrides)
    assert api.decide(admin, "accept", booking["id"]).status_code == 200
    return booking


def _status(api, account, booking_id) -> str:
    return api.client.get(f"/request/{booking_id}", headers=account.headers).json["status"]


def _log_in_again(api, *accounts):
    for account in accounts:  # access tokens last 15 minutes
        account.tokens = api.login(account.username).json


# ---------------------------------------------------------------- release-no-shows


def test_a_booking_nobody_checked_in_to_is_released_once(app, api, mailbox):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, rules={"checkin_minutes": 10})
    booking = _accepted(api, alice, admin, room, event_time=future(0, 5))
    with _later(14):
        assert "Released 0 " in _run(api, "release-no-shows")  # the window is still open
    with _later(16):
        assert "Released 1 " in _run(api, "release-no-shows")
        assert "Released 0 " in _run(api, "release-no-shows")
        _log_in_again(api, alice)
        assert _status(api, alice, booking["id"]) == "released"
        history = api.client.get(f"/request/{booking['id']}/history", headers=alice.headers)
        last = history.json["history"][-1]
        assert (last["from_status"], last["to_status"], last["by"]) == (
            "accepted",
            "released",
            None,
        )
        assert "checked in within 10 minutes" in last["reason"]
        assert_problem(api.client.post("/checkin_request", json={"id": booking["id"]},
                                       headers=alice.headers), 409)  # fmt: skip
    assert len(mailbox.wait_for(alice.email, RELEASED.format(id=booking["id"]))) == 1
    released = [e for e in outbox(app) if e["type"] == "booking.released"]
    assert [(e["booking_id"], e["body"]["data"]["status"]) for e in released] == [
        (booking["id"], "released")
    ]


def test_a_checked_in_booking_is_not_released(api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, rules={"checkin_minutes": 10})
    booking = _accepted(api, alice, admin, room, event_time=future(0, 5))
    checked_in = api.client.post("/checkin_request", json={"id": booking["id"]},
                                 headers=alice.headers)  # fmt: skip
    assert checked_in.status_code == 200
    with _later(30):
        assert "Released 0 " in _run(api, "release-no-shows")
        _log_in_again(api, alice)
        assert _status(api, alice, booking["id"]) == "accepted"


def test_without_checkin_minutes_nothing_is_released(api):
    admin, alice = api.admin(), api.user()
    booking = _accepted(api, alice, admin, {"id": 1}, event_time=future(0, 5))
    with _later(30):
        assert "Released 0 " in _run(api, "release-no-shows")
        _log_in_again(api, alice)
        assert _status(api, alice, booking["id"]) == "accepted"


def test_released_time_is_free_again_for_a_new_accept(api):
    admin, alice, bob = api.admin(), api.user(), api.user()
    room = api.resource(admin, rules={"checkin_minutes": 10})
    _accepted(api, alice, admin, room, event_time=future(0, 5), duration_minutes=120)
    rest_of_it = api.booking(bob, resource_id=room["id"], event_time=future(0, 60))
    assert api.decide(admin, "accept", rest_of_it["id"]).status_code == 409
    with _later(16):
        _run(api, "release-no-shows")
        _log_in_again(api, admin)
        response = api.decide(admin, "accept", rest_of_it["id"])
    assert response.status_code == 200, response.json


# ---------------------------------------------------------------- send-reminders


def test_the_requester_is_reminded_once_reminder_minutes_before_the_start(api, mailbox):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, rules={"reminder_minutes": 60, "checkin_minutes": 10})
    booking = _accepted(api, alice, admin, room, event_time=future(3))
    subject = f"Reminder: booking #{booking['id']} starts at "
    assert "Reminded 0 " in _run(api, "send-reminders")
    with _later(121):
        assert "Reminded 1 " in _run(api, "send-reminders")
        assert "Reminded 0 " in _run(api, "send-reminders")
    reminders = [m for m in mailbox.to(alice.email) if m["Subject"].startswith(subject)]
    assert len(reminders) == 1
    assert "Check in from 15 minutes before the start" in reminders[0].get_content()


def test_pending_and_cancelled_bookings_get_no_reminder(api, mailbox):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, rules={"reminder_minutes": 120})
    api.booking(alice, resource_id=room["id"], event_time=future(1))
    cancelled = _accepted(api, alice, admin, room, event_time=future(1, 30))
    api.decide(alice, "cancel", cancelled["id"])
    assert "Reminded 0 " in _run(api, "send-reminders")
    assert not [m for m in mailbox.to(alice.email) if m["Subject"].startswith("Reminder")]


# ---------------------------------------------------------------- escalate-requests


def test_a_request_pending_past_the_deadline_is_escalated_once_to_every_admin(app, api, mailbox):
    admin, other_admin, alice = api.admin(), api.admin(), api.user()
    room = api.resource(admin, rules={"approval_deadline_hours": 0.5})
    assert room["rules"]["approval_deadline_hours"] == 0.5
    booking = api.booking(alice, resource_id=room["id"])
    decided = api.booking(alice, resource_id=room["id"], event_time=future(50))
    api.decide(admin, "reject", decided["id"])
    assert "Escalated 0 " in _run(api, "escalate-requests")
    with _later(31):
        assert "Escalated 1 " in _run(api, "escalate-requests")
        assert "Escalated 0 " in _run(api, "escalate-requests")
    subject = ESCALATED.format(id=booking["id"], name=room["name"])
    for account in (admin, other_admin):
        assert len(mailbox.wait_for(account.email, subject)) == 1
    assert all(m["Subject"] != subject for m in mailbox.to(alice.email))
    escalated = [e for e in outbox(app) if e["type"] == "booking.escalated"]
    assert [(e["booking_id"], e["body"]["data"]["status"]) for e in escalated] == [
        (booking["id"], "pending")
    ]


def test_a_request_whose_event_has_started_is_not_escalated(api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, rules={"approval_deadline_hours": 1})
    api.booking(alice, resource_id=room["id"], event_time=future(0, 30))
    with _later(90):
        assert "Escalated 0 " in _run(api, "escalate-requests")


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("rules", "field"),
    [({"checkin_minutes": 0}, "checkin_minutes"),
     ({"checkin_minutes": 1441}, "checkin_minutes"),
     ({"checkin_minutes": 1.5}, "checkin_minutes"),
     ({"reminder_minutes": -5}, "reminder_minutes"),
     ({"reminder_minutes": 7 * 24 * 60 + 1}, "reminder_minutes"),
     ({"approval_deadline_hours": 0}, "approval_deadline_hours"),
     ({"approval_deadline_hours": 745}, "approval_deadline_hours"),
     ({"approval_deadline_hours": "2"}, "approval_deadline_hours"),
     ({"approval_deadline_hours": 0.01}, "approval_deadline_hours")],
)  # fmt: skip
def test_after_acceptance_rules_out_of_range_are_422_and_change_nothing(api, rules, field):
    admin = api.admin()
    room = api.resource(admin, rules={"checkin_minutes": 15})
    path = f"/resources/{room['id']}"
    problem = assert_problem(api.client.patch(path, json={"rules": rules}, headers=admin.headers),
                             422)  # fmt: skip
    assert f"rules.{field}" in problem["errors"] or field in str(problem["errors"])
    assert api.client.get(path, headers=admin.headers).json["rules"] == room["rules"]


def test_after_acceptance_rules_merge_and_clear_key_by_key(api):
    admin = api.admin()
    room = api.resource(admin, rules={"checkin_minutes": 15, "reminder_minutes": 60})
    path = f"/resources/{room['id']}"
    body = {"rules": {"checkin_minutes": None, "approval_deadline_hours": 1.5}}
    changed = api.client.patch(path, json=body, headers=admin.headers).json["rules"]
    assert (changed["checkin_minutes"], changed["reminder_minutes"]) == (None, 60)
    assert changed["approval_deadline_hours"] == 1.5
    body = {"rules": {"approval_deadline_hours": 48}}
    changed = api.client.patch(path, json=body, headers=admin.headers).json["rules"]
    assert changed["approval_deadline_hours"] == 48
