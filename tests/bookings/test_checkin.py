"""POST /checkin_request: the requester, within the window, of an accepted booking."""

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from tests.support.api import assert_problem, future


def _later(minutes: float):
    return freeze_time(datetime.now(UTC) + timedelta(minutes=minutes), tick=True)


def _accepted(api, requester, admin, room=None, **overrides) -> dict:
    resource = {"resource_id": room["id"]} if room else {}
    booking = api.booking(requester, **resource, **overrides)
    response = api.decide(admin, "accept", booking["id"])
    assert response.status_code == 200, response.json
    return response.json


def _check_in(api, account, booking_id):
    return api.client.post("/checkin_request", json={"id": booking_id}, headers=account.headers)


def _log_in_again(api, *accounts):
    for account in accounts:  # access tokens last 15 minutes
        account.tokens = api.login(account.username).json


def test_requester_checks_in_from_15_minutes_before_the_start(api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, rules={"checkin_minutes": 10})
    booking = _accepted(api, alice, admin, room, event_time=future(0, 10))
    assert booking["checked_in_at"] is None
    accepted_etag = api.client.get(f"/request/{booking['id']}", headers=alice.headers).headers[
        "ETag"
    ]
    response = _check_in(api, alice, booking["id"])
    assert response.status_code == 200, response.json
    assert response.json["status"] == "accepted"
    checked_in_at = response.json["checked_in_at"]
    assert checked_in_at.endswith("Z")
    seen = api.client.get(f"/request/{booking['id']}", headers=admin.headers)
    assert seen.json["checked_in_at"] == checked_in_at
    assert seen.headers["ETag"] == response.headers["ETag"] != accepted_etag


def test_checking_in_again_changes_nothing(api):
    admin, alice = api.admin(), api.user()
    booking = _accepted(api, alice, admin, event_time=future(0, 5))
    first = _check_in(api, alice, booking["id"])
    again = _check_in(api, alice, booking["id"])
    assert again.status_code == 200
    assert again.json == first.json


def test_check_in_too_early_is_409(api):
    admin, alice = api.admin(), api.user()
    booking = _accepted(api, alice, admin, event_time=future(0, 20))
    problem = assert_problem(_check_in(api, alice, booking["id"]), 409)
    assert "Check-in is open from" in problem["detail"]
    assert (
        api.client.get(f"/request/{booking['id']}", headers=alice.headers).json["checked_in_at"]
        is None
    )


def test_check_in_after_checkin_minutes_is_409(api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, rules={"checkin_minutes": 10})
    booking = _accepted(api, alice, admin, room, event_time=future(0, 5))
    with _later(16):
        _log_in_again(api, alice)
        assert_problem(_check_in(api, alice, booking["id"]), 409)
    with _later(14):
        _log_in_again(api, alice)
        assert _check_in(api, alice, booking["id"]).status_code == 200


def test_without_checkin_minutes_check_in_is_open_until_the_end(api):
    admin, alice = api.admin(), api.user()
    booking = _accepted(api, alice, admin, event_time=future(0, 5), duration_minutes=30)
    with _later(40):
        _log_in_again(api, alice)
        assert_problem(_check_in(api, alice, booking["id"]), 409)
    with _later(30):
        _log_in_again(api, alice)
        assert _check_in(api, alice, booking["id"]).status_code == 200


def test_a_request_not_accepted_cannot_be_checked_in(api):
    admin, alice = api.admin(), api.user()
    pending = api.booking(alice, event_time=future(0, 5))
    assert "pending" in assert_problem(_check_in(api, alice, pending["id"]), 409)["detail"]
    cancelled = _accepted(api, alice, admin, event_time=future(0, 5))
    api.decide(alice, "cancel", cancelled["id"])
    assert_problem(_check_in(api, alice, cancelled["id"]), 409)


def test_only_the_requester_checks_in(api):
    admin, alice, bob = api.admin(), api.user(), api.user()
    booking = _accepted(api, alice, admin, event_time=future(0, 5))
    assert_problem(_check_in(api, bob, booking["id"]), 403)
    assert_problem(_check_in(api, admin, booking["id"]), 403)
    assert_problem(_check_in(api, alice, 999999), 404)
    assert_problem(api.client.post("/checkin_request", json={"id": booking["id"]}), 401)
    bad = api.client.post("/checkin_request", json={"id": "x", "more": 1}, headers=alice.headers)
    assert set(assert_problem(bad, 422)["errors"]) == {"id", "more"}
