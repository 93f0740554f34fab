"""Quotas: a requester's hours of a resource per local day, week or month, under concurrency."""

from datetime import timedelta

from tests.support.api import assert_problem, local_time, monday_in
from tests.support.concurrency import at_once

BERLIN = "Europe/Berlin"


def _quota_room(api, admin, hours: float, per: str) -> dict:
    return api.resource(admin, time_zone=BERLIN, rules={"quota": {"hours": hours, "per": per}})


def _submit(api, account, room, day, clock: str, minutes: int = 60):
    start = local_time(BERLIN, day, clock)
    return api.submit(account, resource_id=room["id"], event_time=start, duration_minutes=minutes)


def test_pending_and_accepted_requests_count_toward_the_local_day(api):
    admin, alice = api.admin(), api.user()
    room = _quota_room(api, admin, 2, "day")
    monday = monday_in(1)
    first = _submit(api, alice, room, monday, "10:00").json
    assert _submit(api, alice, room, monday, "12:00").status_code == 201
    assert api.decide(admin, "accept", first["id"]).status_code == 200
    over = assert_problem(_submit(api, alice, room, monday, "14:00", 30), 409)["detail"]
    assert f"the day {monday}" in over and BERLIN in over
    # 00:30 on Monday in Berlin is Sunday in UTC, and still Monday's quota.
    assert_problem(_submit(api, alice, room, monday, "00:30", 30), 409)
    assert _submit(api, alice, room, monday - timedelta(days=1), "23:30", 30).status_code == 201
    assert api.decide(alice, "cancel", first["id"]).status_code == 200
    assert _submit(api, alice, room, monday, "14:00", 60).status_code == 201


def test_a_week_runs_monday_to_sunday_in_the_resources_zone(api):
    admin, alice = api.admin(), api.user()
    room = _quota_room(api, admin, 1, "week")
    monday = monday_in(7)
    assert _submit(api, alice, room, monday, "00:00").status_code == 201
    over = assert_problem(_submit(api, alice, room, monday + timedelta(days=6), "22:00"), 409)
    assert f"the week of Monday {monday}" in over["detail"]
    assert _submit(api, alice, room, monday + timedelta(days=7), "00:00").status_code == 201
    assert _submit(api, alice, room, monday - timedelta(days=1), "23:00").status_code == 201


def test_each_requester_has_their_own_quota_and_admins_have_none(api):
    admin, alice, bob = api.admin(), api.user(), api.user()
    room = _quota_room(api, admin, 1, "month")
    monday = monday_in(1)
    assert _submit(api, alice, room, monday, "10:00").status_code == 201
    assert_problem(_submit(api, alice, room, monday + timedelta(days=3), "10:00", 15), 409)
    assert _submit(api, bob, room, monday, "12:00").status_code == 201
    for hour in ("14:00", "16:00"):
        assert _submit(api, admin, room, monday, hour).status_code == 201


ROUNDS = 5


def test_two_submits_at_the_same_moment_cannot_both_take_the_last_hour(app, api):
    admin, alice = api.admin(), api.user()
    room = _quota_room(api, admin, 2, "day")
    for round_ in range(ROUNDS):
        day = monday_in(1) + timedelta(days=round_)
        assert _submit(api, alice, room, day, "08:00").status_code == 201
        bodies = [
            {"resource_id": room["id"], "event_time": local_time(BERLIN, day, clock),
             "duration_minutes": 60, "topic": "Last hour",
             "address": {"street": "1 Main St", "city": "Springfield", "country": "US"}}
            for clock in ("12:00", "15:00")
        ]  # fmt: skip
        responses = at_once(
            app,
            [
                lambda client, body=body: client.post(
                    "/submit_request", json=body, headers=alice.headers
                )
                for body in bodies
            ],
        )
        assert sorted(r.status_code for r in responses) == [201, 409], [r.json for r in responses]
    mine = api.client.get("/my_requests?limit=100", headers=alice.headers).json["bookings"]
    assert len(mine) == 2 * ROUNDS
