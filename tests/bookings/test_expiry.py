"""flask --app wsgi expire-requests, and accepting once the event has begun."""

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from tests.support.api import future


def _later(hours):
    return freeze_time(datetime.now(UTC) + timedelta(hours=hours), tick=True)


def test_expire_requests_moves_only_past_pending_requests(api, runner):
    admin, alice = api.admin(), api.user()
    soon = api.booking(alice, event_time=future(1))
    accepted_soon = api.booking(alice, event_time=future(1, minutes=30), duration_minutes=10)
    later = api.booking(alice, event_time=future(48))
    api.decide(admin, "accept", accepted_soon["id"])
    with _later(2):
        result = runner.invoke(args=["expire-requests"])
        assert result.exit_code == 0
        assert "Expired 1" in result.output
        again = runner.invoke(args=["expire-requests"])
        assert "Expired 0" in again.output
        admin.tokens = api.login(admin.username).json
        alice.tokens = api.login(alice.username).json
        status = {
            b["id"]: b["status"]
            for b in api.client.get("/list_requests", headers=admin.headers).json["bookings"]
        }
        assert status == {
            soon["id"]: "expired",
            accepted_soon["id"]: "accepted",
            later["id"]: "pending",
        }
        history = api.client.get(f"/request/{soon['id']}/history", headers=alice.headers).json[
            "history"
        ]
        assert (history[-1]["from_status"], history[-1]["to_status"], history[-1]["by"]) == (
            "pending", "expired", None,
        )  # fmt: skip


def test_a_request_whose_event_has_started_cannot_be_accepted(api):
    admin, alice = api.admin(), api.user()
    booking = api.booking(alice, event_time=future(1))
    with _later(2):
        admin.tokens = api.login(admin.username).json  # the old access token expired too
        response = api.decide(admin, "accept", booking["id"])
    assert response.status_code == 409
    assert "started" in response.json["detail"]


def test_an_expired_request_cannot_be_decided(api, runner):
    admin, alice = api.admin(), api.user()
    booking = api.booking(alice, event_time=future(1))
    with _later(2):
        runner.invoke(args=["expire-requests"])
        admin.tokens = api.login(admin.username).json
        for action in ("accept", "reject", "cancel"):
            assert api.decide(admin, action, booking["id"]).status_code == 409
