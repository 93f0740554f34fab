"""A resource's rules: set by admins, read by everyone, and followed by every request."""

from datetime import timedelta

import pytest

from tests.support.api import assert_problem, future, local_time, monday_in

BERLIN = "Europe/Berlin"
WEEKDAYS_8_TO_18 = {
    **{day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "sat": [],
    "sun": [],
}
NO_RULES = {
    "min_notice_minutes": None, "max_advance_days": None, "min_duration_minutes": None,
    "max_duration_minutes": None, "buffer_minutes": None, "opening_hours": None, "quota": None,
    "checkin_minutes": None, "reminder_minutes": None, "approval_deadline_hours": None,
}  # fmt: skip


def test_a_new_resource_has_no_rules_and_anyone_signed_in_reads_them(api):
    room = api.resource(api.admin())
    response = api.client.get(f"/resources/{room['id']}", headers=api.user().headers)
    assert response.status_code == 200
    assert {k: response.json[k] for k in ("time_zone", "approval", "rules", "approvers")} == {
        "time_zone": "UTC", "approval": "required", "rules": NO_RULES, "approvers": [],
    }  # fmt: skip
    assert "calendar_url" not in response.json


def test_get_resource_needs_a_token_and_an_existing_id(api):
    assert_problem(api.client.get("/resources/1"), 401)
    assert_problem(api.client.get("/resources/999", headers=api.user().headers), 404)


def test_patch_merges_rules_key_by_key_and_null_clears_one(api):
    admin = api.admin()
    first = {"min_notice_minutes": 60, "buffer_minutes": 15}
    room = api.resource(admin, time_zone=BERLIN, rules=first)
    path = f"/resources/{room['id']}"
    rules = {
        "buffer_minutes": None,
        "max_advance_days": 30,
        "quota": {"hours": 1.5, "per": "week"},
        "opening_hours": {"mon": [["08:00", "24:00"]]},
    }
    body = {"approval": "auto", "rules": rules}
    changed = api.client.patch(path, json=body, headers=admin.headers)
    assert changed.status_code == 200, changed.json
    expected_rules = NO_RULES | {
        "min_notice_minutes": 60, "max_advance_days": 30, "quota": {"hours": 1.5, "per": "week"},
        "opening_hours": {"mon": [["08:00", "24:00"]], "tue": [], "wed": [], "thu": [],
                          "fri": [], "sat": [], "sun": []},
    }  # fmt: skip
    assert (changed.json["time_zone"], changed.json["approval"]) == (BERLIN, "auto")
    assert changed.json["rules"] == expected_rules
    seen = api.client.get(path, headers=api.user().headers).json
    assert seen["rules"] == expected_rules
    listed = api.client.get("/resources", headers=admin.headers).json["resources"]
    assert [r for r in listed if r["id"] == room["id"]] == [changed.json]
    name_only = api.client.patch(path, json={"name": "Renamed"}, headers=admin.headers)
    assert name_only.json["rules"] == expected_rules


def test_only_admins_change_rules(api):
    alice = api.user()
    response = api.client.patch(
        "/resources/1", json={"rules": {"buffer_minutes": 5}}, headers=alice.headers
    )
    assert_problem(response, 403)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "europe/berlin", "../../etc/passwd", 3])
def test_an_unknown_time_zone_is_422_and_changes_nothing(api, zone):
    admin = api.admin()
    response = api.client.patch("/resources/1", json={"time_zone": zone}, headers=admin.headers)
    assert "time_zone" in assert_problem(response, 422)["errors"]
    assert api.client.get("/resources/1", headers=admin.headers).json["time_zone"] == "UTC"


@pytest.mark.parametrize(
    "hours",
    [
        {"mon": [["09:00", "12:00"], ["11:00", "14:00"]]},  # overlapping
        {"mon": [["13:00", "14:00"], ["09:00", "12:00"]]},  # out of order
        {"mon": [["18:00", "08:00"]]},  # ends before it starts
        {"mon": [["10:00", "10:00"]]},  # empty
        {"mon": [["24:00", "24:00"]]},  # starts at midnight's end
        {"mon": [["08:00", "24:30"]]},
        {"mon": [["8:00", "12:00"]]},
        {"mon": [["08:00"]]},
        {"mon": ["08:00-12:00"]},
        {"monday": [["08:00", "12:00"]]},
    ],
)
def test_bad_opening_hours_are_422(api, hours):
    admin = api.admin()
    response = api.client.patch(
        "/resources/1", json={"rules": {"opening_hours": hours}}, headers=admin.headers
    )
    errors = assert_problem(response, 422)["errors"]
    assert all(key.startswith("rules.opening_hours") for key in errors), errors


@pytest.mark.parametrize(
    "rules",
    [
        {"quota": {"hours": 0, "per": "day"}},
        {"quota": {"hours": 2, "per": "year"}},
        {"quota": {"hours": 1.01, "per": "day"}},
        {"quota": {"hours": "2", "per": "day"}},
        {"quota": {"per": "day"}},
        {"buffer_minutes": -5},
        {"min_notice_minutes": 1.5},
        {"max_duration_minutes": 0},
        {"max_advance_days": True},
        {"colour": "red"},
    ],
)
def test_bad_rules_are_422(api, rules):
    admin = api.admin()
    response = api.client.patch("/resources/1", json={"rules": rules}, headers=admin.headers)
    assert any(key.startswith("rules.") for key in assert_problem(response, 422)["errors"])


def test_a_minimum_duration_above_the_maximum_is_422_even_across_patches(api):
    admin = api.admin()
    room = api.resource(admin, rules={"max_duration_minutes": 60})
    response = api.client.patch(
        f"/resources/{room['id']}",
        json={"rules": {"min_duration_minutes": 90}},
        headers=admin.headers,
    )
    assert "rules.min_duration_minutes" in assert_problem(response, 422)["errors"]
    seen = api.client.get(f"/resources/{room['id']}", headers=admin.headers).json
    assert seen["rules"]["min_duration_minutes"] is None


def _refused_under(response, field: str, rule: str) -> None:
    errors = assert_problem(response, 422)["errors"]
    assert list(errors) == [field], errors
    assert rule in errors[field][0]


def test_each_time_and_length_rule_refuses_a_request_under_its_field(api):
    admin, alice = api.admin(), api.user()
    rules = {"min_notice_minutes": 120, "max_advance_days": 10,
             "min_duration_minutes": 30, "max_duration_minutes": 90}  # fmt: skip
    room = api.resource(admin, rules=rules)
    resource_id = room["id"]

    def submit(**fields):
        return api.submit(alice, resource_id=resource_id, **fields)

    _refused_under(submit(event_time=future(1)), "event_time", "min_notice_minutes")
    _refused_under(submit(event_time=future(24 * 11)), "event_time", "max_advance_days")
    _refused_under(submit(duration_minutes=29), "duration_minutes", "min_duration_minutes")
    _refused_under(submit(duration_minutes=91), "duration_minutes", "max_duration_minutes")
    assert submit(event_time=future(3), duration_minutes=90).status_code == 201
    assert submit(event_time=future(24 * 9), duration_minutes=30).status_code == 201


@pytest.mark.parametrize("month", [1, 7], ids=["winter", "summer"])
def test_opening_hours_are_berlin_local_time_in_winter_and_summer(api, month):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, time_zone=BERLIN, rules={"opening_hours": WEEKDAYS_8_TO_18})
    monday = monday_in(month)

    def submit(clock: str, minutes: int = 60, day=monday):
        start = local_time(BERLIN, day, clock)
        return api.submit(alice, resource_id=room["id"], event_time=start, duration_minutes=minutes)

    assert submit("08:00").status_code == 201
    assert submit("17:00").status_code == 201
    _refused_under(submit("07:30"), "event_time", "opening_hours")
    _refused_under(submit("17:30"), "event_time", "opening_hours")
    _refused_under(submit("10:00", day=monday - timedelta(days=1)), "event_time", "opening_hours")


def test_accept_follows_the_rules_as_they_are_now_and_never_undoes_an_acceptance(api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, time_zone=BERLIN, rules={"opening_hours": WEEKDAYS_8_TO_18})
    path = f"/resources/{room['id']}"
    monday = monday_in(7)
    early = api.booking(
        alice, resource_id=room["id"], event_time=local_time(BERLIN, monday, "08:00")
    )
    later = api.booking(
        alice, resource_id=room["id"], event_time=local_time(BERLIN, monday, "12:00")
    )
    assert api.decide(admin, "accept", early["id"]).status_code == 200
    afternoons = {day: [["12:00", "18:00"]] for day in WEEKDAYS_8_TO_18}
    tighter = {"opening_hours": afternoons, "max_duration_minutes": 30}
    api.client.patch(path, json={"rules": tighter}, headers=admin.headers)
    refused = api.decide(admin, "accept", later["id"])
    assert "duration_minutes" in assert_problem(refused, 422)["errors"]
    api.client.patch(path, json={"rules": {"max_duration_minutes": None}}, headers=admin.headers)
    assert api.decide(admin, "accept", later["id"]).status_code == 200
    kept = api.client.get(f"/request/{early['id']}", headers=admin.headers).json
    assert kept["status"] == "accepted"


def test_availability_shows_closed_hours_in_the_resources_time(api):
    admin = api.admin()
    room = api.resource(admin, time_zone=BERLIN, rules={"opening_hours": WEEKDAYS_8_TO_18})
    monday = monday_in(1)
    window = {"from": local_time(BERLIN, monday, "00:00"),
              "to": local_time(BERLIN, monday + timedelta(days=1), "12:00")}  # fmt: skip
    response = api.client.get(
        f"/resources/{room['id']}/availability", query_string=window, headers=api.user().headers
    )
    assert response.status_code == 200
    assert response.json["closed"] == [
        {"start": window["from"], "end": local_time(BERLIN, monday, "08:00")},
        {"start": local_time(BERLIN, monday, "18:00"),
         "end": local_time(BERLIN, monday + timedelta(days=1), "08:00")},
    ]  # fmt: skip
    assert response.json["busy"] == []
    always_open = api.client.get(
        "/resources/1/availability", query_string=window, headers=admin.headers
    )
    assert always_open.json["closed"] == []
