"""Submitting a series: one request per occurrence, each checked like a one-off request,
at the same wall-clock time across daylight saving."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from my_app.extensions import db
from my_app.models import BookingEvent, BookingHistory
from tests.bookings.series_steps import BERLIN, series_body, series_of, submit_series
from tests.support.api import assert_problem, local_time, monday_in


def _local(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(ZoneInfo(BERLIN))


@pytest.fixture
def people(api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, time_zone=BERLIN)
    return admin, alice, room


def test_a_weekly_series_across_the_march_change_is_at_ten_local_every_time(api, people):
    _, alice, room = people
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=WEEKLY;COUNT=8"))
    assert series["time_zone"] == BERLIN and series["rrule"] == "FREQ=WEEKLY;COUNT=8"
    assert series["requested_by"]["id"] == alice.id and series["skipped"] == []
    starts = [_local(o["event_time"]) for o in series["occurrences"]]
    assert len(starts) == 8
    assert {(s.hour, s.minute, s.weekday()) for s in starts} == {(10, 0, 0)}
    assert {o["event_time"][11:13] for o in series["occurrences"]} == {"09", "08"}  # UTC moves
    assert {o["status"] for o in series["occurrences"]} == {"pending"}
    assert {o["series_id"] for o in series["occurrences"]} == {series["id"]}
    seen = api.client.get(f"/series/{series['id']}", headers=alice.headers)
    assert seen.status_code == 200 and seen.json == series


def test_a_one_off_request_shows_no_series(api, people):
    _, alice, room = people
    assert api.booking(alice, resource_id=room["id"])["series_id"] is None


def test_every_occurrence_has_its_history_and_submitted_event(app, api, people):
    _, alice, room = people
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=DAILY;COUNT=5"))
    ids = [o["id"] for o in series["occurrences"]]
    with app.app_context():
        history = db.session.execute(
            sa.select(BookingHistory.booking_id, BookingHistory.to_status).where(
                BookingHistory.booking_id.in_(ids)
            )
        ).all()
        events = db.session.execute(
            sa.select(BookingEvent.booking_id, BookingEvent.type).where(
                BookingEvent.booking_id.in_(ids)
            )
        ).all()
        db.session.rollback()
    assert sorted(history) == [(i, "pending") for i in ids]
    assert sorted(events) == [(i, "booking.submitted") for i in ids]
    one = api.client.get(f"/request/{ids[2]}/history", headers=alice.headers).json["history"]
    assert [(h["from_status"], h["to_status"]) for h in one] == [(None, "pending")]


def test_a_dry_run_answers_200_and_stores_nothing(api, people):
    _, alice, room = people
    body = series_body(room["id"], monday_in(3), "FREQ=WEEKLY;COUNT=3")
    response = submit_series(api, alice, body, dry_run=True)
    assert response.status_code == 200, response.json
    assert response.json["id"] is None
    assert [o["status"] for o in response.json["occurrences"]] == ["pending"] * 3
    assert api.client.get("/my_requests", headers=alice.headers).json["bookings"] == []


def test_fail_with_one_conflict_is_409_listing_it_and_stores_nothing(api, people):
    admin, alice, room = people
    bob = api.user()
    day = monday_in(3)
    taken = api.booking(
        bob, resource_id=room["id"], event_time=local_time(BERLIN, day + timedelta(7), "10:30")
    )
    assert api.decide(admin, "accept", taken["id"]).status_code == 200
    body = series_body(room["id"], day, "FREQ=WEEKLY;COUNT=4")
    for dry_run in (True, False):
        problem = assert_problem(submit_series(api, alice, body, dry_run=dry_run), 409)
        [listed] = problem["occurrences"]
        assert listed["event_time"] == local_time(BERLIN, day + timedelta(7), "10:00")
        assert listed["conflicts"] == [taken["id"]] and str(taken["id"]) in listed["reason"]
    assert api.client.get("/my_requests", headers=alice.headers).json["bookings"] == []


def test_skip_leaves_the_conflicting_occurrences_out_and_lists_them(api, people):
    admin, alice, room = people
    day = monday_in(3)
    taken = api.booking(
        api.user(),
        resource_id=room["id"],
        event_time=local_time(BERLIN, day + timedelta(14), "09:30"),
    )
    api.decide(admin, "accept", taken["id"])
    body = series_body(room["id"], day, "FREQ=WEEKLY;COUNT=4", on_conflict="skip")
    dry = submit_series(api, alice, body, dry_run=True).json
    series = series_of(api, alice, body)
    for answer in (dry, series):
        assert len(answer["occurrences"]) == 3
        [skipped] = answer["skipped"]
        assert skipped["conflicts"] == [taken["id"]]
        assert skipped["event_time"] == local_time(BERLIN, day + timedelta(14), "10:00")
    assert api.client.get(f"/series/{series['id']}", headers=alice.headers).json == series


def test_occurrences_breaking_only_rules_are_422_naming_the_rule(api, people):
    admin, alice, _ = people
    hours = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    room = api.resource(
        admin, time_zone=BERLIN, rules={"opening_hours": hours | {"sat": [], "sun": []}}
    )
    body = series_body(room["id"], monday_in(3), "FREQ=DAILY;COUNT=7")
    problem = assert_problem(submit_series(api, alice, body), 422)
    assert len(problem["occurrences"]) == 2  # Saturday and Sunday
    assert "event_time" in problem["errors"]
    skipped = series_of(api, alice, {**body, "on_conflict": "skip"})
    assert len(skipped["occurrences"]) == 5 and len(skipped["skipped"]) == 2


def test_a_blackout_refuses_the_occurrences_it_covers(api, people):
    admin, alice, room = people
    day = monday_in(3)
    blackout = {
        "start": local_time(BERLIN, day + timedelta(7), "00:00"),
        "end": local_time(BERLIN, day + timedelta(8), "00:00"),
        "reason": "Painting",
    }
    path = f"/resources/{room['id']}/blackouts"
    assert api.client.post(path, json=blackout, headers=admin.headers).status_code == 201
    problem = assert_problem(
        submit_series(api, alice, series_body(room["id"], day, "FREQ=WEEKLY;COUNT=3")), 409
    )
    [listed] = problem["occurrences"]
    assert "Painting" in listed["reason"] and listed["conflicts"] == []


def test_the_quota_counts_the_series_own_occurrences(api, people):
    admin, alice, _ = people
    room = api.resource(admin, time_zone=BERLIN, rules={"quota": {"hours": 2, "per": "week"}})
    body = series_body(room["id"], monday_in(3), "FREQ=DAILY;COUNT=10")
    problem = assert_problem(submit_series(api, alice, body), 409)
    # Two one-hour occurrences fit in each Monday-to-Sunday week: days 3-7 and 10 are over.
    assert len(problem["occurrences"]) == 6
    assert "quota" in problem["occurrences"][0]["reason"]
    series = series_of(api, alice, {**body, "on_conflict": "skip"})
    assert len(series["occurrences"]) == 4


def test_occurrences_of_one_series_may_not_overlap_each_other(api, people):
    _, alice, room = people
    body = series_body(room["id"], monday_in(3), "FREQ=DAILY;COUNT=3", duration_minutes=1500)
    problem = assert_problem(submit_series(api, alice, body), 422)
    assert "overlap" in problem["errors"]["recurrence.rrule"][0]


@pytest.mark.parametrize(
    ("recurrence", "field"),
    [
        ({"rrule": "FREQ=HOURLY;COUNT=3"}, "recurrence.rrule"),
        ({"rrule": "FREQ=DAILY;COUNT=400"}, "recurrence.rrule"),
        ({"rrule": "FREQ=DAILY"}, "recurrence.rrule"),
        ({"rrule": "FREQ=DAILY;COUNT=3", "exdates": ["2027-03-08T10:00:00+01:00"]},
         "recurrence.exdates.0"),
        ({"rrule": "FREQ=DAILY;COUNT=3", "other": 1}, "recurrence.other"),
        ({}, "recurrence.rrule"),
    ],
)  # fmt: skip
def test_a_rule_outside_the_subset_is_422_and_nothing_is_stored(api, people, recurrence, field):
    _, alice, room = people
    body = series_body(room["id"], monday_in(3), "x")
    body["recurrence"] = recurrence
    assert field in assert_problem(submit_series(api, alice, body), 422)["errors"]
    assert api.client.get("/my_requests", headers=alice.headers).json["bookings"] == []


def test_exdates_leave_those_local_start_times_out(api, people):
    _, alice, room = people
    day = monday_in(3)
    left_out = f"{day + timedelta(7)}T10:00:00"
    body = series_body(room["id"], day, "FREQ=WEEKLY;COUNT=3", recurrence={"exdates": [left_out]})
    series = series_of(api, alice, body)
    assert series["exdates"] == [left_out]
    assert [_local(o["event_time"]).date() for o in series["occurrences"]] == [
        day, day + timedelta(14)
    ]  # fmt: skip


def test_an_auto_approval_resource_accepts_a_free_series_on_submit(app, api, people):
    admin, alice, _ = people
    room = api.resource(admin, time_zone=BERLIN, approval="auto")
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=WEEKLY;COUNT=3"))
    assert {(o["status"], o["decided_by"]) for o in series["occurrences"]} == {("accepted", None)}
    history = api.client.get(
        f"/request/{series['occurrences'][1]['id']}/history", headers=alice.headers
    ).json["history"]
    assert [h["to_status"] for h in history] == ["pending", "accepted"]


def test_unknown_resource_is_404(api, people):
    _, alice, _ = people
    response = submit_series(api, alice, series_body(999, monday_in(3), "FREQ=DAILY;COUNT=2"))
    assert_problem(response, 404)


def test_the_series_is_seen_by_its_requester_approvers_and_admins_only(api, people):
    admin, alice, room = people
    approver, stranger = api.user(), api.user()
    path = f"/resources/{room['id']}/approvers"
    api.client.put(path, json={"user_ids": [approver.id]}, headers=admin.headers)
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=DAILY;COUNT=2"))
    for account in (alice, approver, admin):
        assert api.client.get(f"/series/{series['id']}", headers=account.headers).status_code == 200
    assert_problem(api.client.get(f"/series/{series['id']}", headers=stranger.headers), 403)
    assert_problem(api.client.get("/series/99999", headers=alice.headers), 404)


def test_lists_filter_by_series(api, people):
    admin, alice, room = people
    day = monday_in(3)
    first = series_of(api, alice, series_body(room["id"], day, "FREQ=DAILY;COUNT=3"))
    series_of(api, alice, series_body(room["id"], day, "FREQ=DAILY;COUNT=2", clock="14:00"))
    api.booking(alice, resource_id=room["id"])
    wanted = [o["id"] for o in first["occurrences"]]
    for path, account in (("/list_requests", admin), ("/my_requests", alice)):
        listed = api.client.get(f"{path}?series_id={first['id']}", headers=account.headers).json
        assert [b["id"] for b in listed["bookings"]] == wanted


def test_a_series_of_366_occurrences_is_submitted_and_accepted(api, people):
    admin, alice, room = people
    body = series_body(room["id"], monday_in(3), "FREQ=DAILY;COUNT=366", duration_minutes=30)
    series = series_of(api, alice, body)
    assert len(series["occurrences"]) == 366
    accepted = api.client.post("/accept_series", json={"id": series["id"]}, headers=admin.headers)
    assert accepted.status_code == 200, accepted.json
    assert {o["status"] for o in accepted.json["occurrences"]} == {"accepted"}
    assert len({_local(o["event_time"]).hour for o in accepted.json["occurrences"]}) == 1


def test_the_first_occurrence_must_be_in_the_future(api, people):
    _, alice, room = people
    body = series_body(room["id"], monday_in(3), "FREQ=DAILY;COUNT=2")
    body["event_time"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert "event_time" in assert_problem(submit_series(api, alice, body), 422)["errors"]


def test_deleting_the_requester_deletes_their_series_and_its_occurrences(api, people):
    admin, alice, room = people
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=DAILY;COUNT=3"))
    assert api.client.delete(f"/user/{alice.id}", headers=admin.headers).status_code == 200
    assert_problem(api.client.get(f"/series/{series['id']}", headers=admin.headers), 404)
    listed = api.client.get("/list_requests", headers=admin.headers).json["bookings"]
    assert listed == []
