"""Two admins accepting overlapping series at the same moment never leave two overlapping
accepted requests: the database refuses what the turn-taking would let slip."""

import itertools
from datetime import timedelta

import pytest

from tests.bookings.series_steps import BERLIN, series_body, series_of
from tests.support.api import monday_in
from tests.support.concurrency import at_once

ROUNDS = 10


@pytest.mark.parametrize("on_conflict", ["fail", "skip"])
def test_admins_accepting_overlapping_series_at_once_never_double_book(app, api, on_conflict):
    first_admin, second_admin, alice, bob = api.admin(), api.admin(), api.user(), api.user()
    room = api.resource(first_admin, time_zone=BERLIN)
    day = monday_in(3)
    for round_ in range(ROUNDS):
        start = day + timedelta(weeks=3 * round_)
        rule = "FREQ=DAILY;COUNT=5"
        ours = series_of(api, alice, series_body(room["id"], start, rule))
        theirs = series_of(api, bob, series_body(room["id"], start, rule, clock="10:30"))

        def accept(admin, series):
            return lambda client: client.post(
                "/accept_series",
                json={"id": series["id"], "on_conflict": on_conflict},
                headers=admin.headers,
            )

        responses = at_once(app, [accept(first_admin, ours), accept(second_admin, theirs)])
        statuses = sorted(r.status_code for r in responses)
        assert statuses == ([200, 200] if on_conflict == "skip" else [200, 409]), [
            r.json for r in responses
        ]
        if on_conflict == "fail":  # the loser's 409 lists each occurrence and what is in its way
            [refused] = [r.json for r in responses if r.status_code == 409]
            assert len(refused["occurrences"]) == 5, refused
            assert all(len(o["conflicts"]) == 1 for o in refused["occurrences"]), refused
        accepted = [
            (o["event_time"], o["end_time"])
            for series in (ours, theirs)
            for o in api.client.get(f"/series/{series['id']}", headers=first_admin.headers).json[
                "occurrences"
            ]
            if o["status"] == "accepted"
        ]
        assert len(accepted) == 5
        accepted.sort()
        assert all(end <= later for (_, end), (later, _) in itertools.pairwise(accepted))


def test_a_blackout_and_a_series_accepted_at_the_same_moment_do_not_both_succeed(app, api):
    admin, approver, alice = api.admin(), api.admin(), api.user()
    room = api.resource(admin, time_zone=BERLIN)
    day = monday_in(3)
    for round_ in range(ROUNDS):
        start = day + timedelta(weeks=3 * round_)
        series = series_of(api, alice, series_body(room["id"], start, "FREQ=DAILY;COUNT=5"))
        covered = series["occurrences"][2]
        responses = at_once(
            app,
            [
                lambda client, s=series: client.post(
                    "/accept_series", json={"id": s["id"]}, headers=admin.headers
                ),
                lambda client, o=covered: client.post(
                    f"/resources/{room['id']}/blackouts",
                    json={"start": o["event_time"], "end": o["end_time"]},
                    headers=approver.headers,
                ),
            ],
        )
        accepted, blacked_out = (r.status_code for r in responses)
        assert (accepted, blacked_out) in ((200, 409), (409, 201)), [r.json for r in responses]
        shown = api.client.get(f"/series/{series['id']}", headers=admin.headers).json
        statuses = {o["status"] for o in shown["occurrences"]}
        assert statuses == ({"accepted"} if accepted == 200 else {"pending"})
