"""The rule checks on their own: real zone rules on the days daylight saving starts and ends."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from my_app.services.rules import DAYS, closed, quota_period, violations

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
EVERY_DAY_8_TO_18 = {day: [["08:00", "18:00"]] for day in DAYS}
NO_RULES = dict.fromkeys(
    ("min_notice_minutes", "max_advance_days", "min_duration_minutes", "max_duration_minutes",
     "buffer_minutes", "opening_hours", "quota")
)  # fmt: skip


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def broken(rules: dict, zone: ZoneInfo, start: str, end: str, asked_at: str = "2027-01-01T00:00"):
    return violations(NO_RULES | rules, zone, utc(start), utc(end), utc(asked_at))


def opening(hours: dict, zone: ZoneInfo, start: str, end: str) -> bool:
    return not broken({"opening_hours": hours}, zone, start, end)


def test_no_rules_break_nothing():
    assert broken({}, BERLIN, "2027-03-28T01:30", "2027-03-28T02:30") == {}


@pytest.mark.parametrize(
    ("start", "end", "inside"),
    [
        # Saturday 2027-03-27, winter time (UTC+1): 08:00-18:00 is 07:00-17:00 UTC.
        ("2027-03-27T07:00", "2027-03-27T17:00", True),
        ("2027-03-27T06:00", "2027-03-27T07:00", False),
        # Sunday 2027-03-28, the clocks go forward at 02:00: 08:00-18:00 is 06:00-16:00 UTC.
        ("2027-03-28T06:00", "2027-03-28T16:00", True),
        ("2027-03-28T07:00", "2027-03-28T17:00", False),
        ("2027-03-28T05:30", "2027-03-28T06:30", False),
        # Sunday 2027-10-31, the clocks go back at 03:00: winter time again, 07:00-17:00 UTC.
        ("2027-10-31T07:00", "2027-10-31T17:00", True),
        ("2027-10-31T06:00", "2027-10-31T07:00", False),
        # Saturday 2027-10-30 is still summer time.
        ("2027-10-30T06:00", "2027-10-30T16:00", True),
        ("2027-10-30T16:00", "2027-10-30T17:00", False),
    ],
)
def test_berlin_opening_hours_are_local_time_on_both_sides_of_each_change(start, end, inside):
    assert opening(EVERY_DAY_8_TO_18, BERLIN, start, end) is inside


@pytest.mark.parametrize(
    ("start", "end", "inside"),
    [
        ("2027-03-13T13:00", "2027-03-13T23:00", True),  # Saturday, EST (UTC-5)
        ("2027-03-13T12:00", "2027-03-13T13:00", False),  # 07:00-08:00 EST
        ("2027-03-14T12:00", "2027-03-14T22:00", True),  # Sunday, EDT (UTC-4) from 02:00
        ("2027-03-14T22:00", "2027-03-14T22:30", False),  # 18:00-18:30 EDT
        ("2027-11-06T12:00", "2027-11-06T22:00", True),  # Saturday, still EDT
        ("2027-11-07T12:00", "2027-11-07T13:00", False),  # Sunday 07:00-08:00 EST
        ("2027-11-07T13:00", "2027-11-07T23:00", True),  # 08:00-18:00 EST
    ],
)
def test_new_york_opening_hours_follow_its_own_changes(start, end, inside):
    assert opening(EVERY_DAY_8_TO_18, NEW_YORK, start, end) is inside


def test_a_whole_local_day_is_23_hours_in_march_and_25_in_october():
    all_day = {day: [["00:00", "24:00"]] for day in DAYS}
    assert opening(all_day, BERLIN, "2027-03-27T23:00", "2027-03-28T22:00")
    assert not opening(all_day, BERLIN, "2027-03-27T23:00", "2027-03-28T23:00")
    assert opening(all_day, BERLIN, "2027-10-30T22:00", "2027-10-31T23:00")


def test_a_span_may_end_at_midnight_but_a_request_may_not_cross_into_the_next_day():
    late = {"fri": [["20:00", "24:00"]], "sat": [["00:00", "02:00"]]}
    # Friday 2027-10-29, summer time: 22:00-24:00 local is 20:00-22:00 UTC.
    assert opening(late, BERLIN, "2027-10-29T20:00", "2027-10-29T22:00")
    assert not opening(late, BERLIN, "2027-10-29T21:00", "2027-10-29T23:00")


def test_a_request_must_lie_within_one_span_not_across_a_gap_or_a_seam():
    split = {"mon": [["08:00", "12:00"], ["13:00", "18:00"]]}
    seam = {"mon": [["08:00", "12:00"], ["12:00", "18:00"]]}
    # Monday 2027-03-29, summer time (UTC+2).
    assert opening(split, BERLIN, "2027-03-29T11:00", "2027-03-29T12:00")  # 13:00-14:00
    assert not opening(split, BERLIN, "2027-03-29T09:30", "2027-03-29T11:30")  # 11:30-13:30
    assert not opening(seam, BERLIN, "2027-03-29T09:00", "2027-03-29T11:00")  # 11:00-13:00
    assert opening(seam, BERLIN, "2027-03-29T10:00", "2027-03-29T11:00")  # 12:00-13:00


def test_a_closed_day_refuses_everything_and_says_so():
    errors = broken({"opening_hours": {"mon": [["08:00", "18:00"]]}}, BERLIN,
                    "2027-03-28T08:00", "2027-03-28T09:00")  # fmt: skip
    assert list(errors) == ["event_time"]
    assert "opening_hours" in errors["event_time"][0]
    assert "Sunday 2027-03-28" in errors["event_time"][0]
    assert "closed" in errors["event_time"][0]


def test_notice_and_advance_are_measured_from_when_the_request_is_made():
    rules = {"min_notice_minutes": 120, "max_advance_days": 30}
    asked = "2027-03-01T10:00"
    assert broken(rules, BERLIN, "2027-03-01T12:00", "2027-03-01T13:00", asked) == {}
    too_soon = broken(rules, BERLIN, "2027-03-01T11:59", "2027-03-01T13:00", asked)
    assert "min_notice_minutes" in too_soon["event_time"][0]
    assert broken(rules, BERLIN, "2027-03-31T10:00", "2027-03-31T11:00", asked) == {}
    too_far = broken(rules, BERLIN, "2027-03-31T10:01", "2027-03-31T11:00", asked)
    assert "max_advance_days" in too_far["event_time"][0]


def test_durations_are_checked_under_duration_minutes():
    rules = {"min_duration_minutes": 30, "max_duration_minutes": 120}
    assert broken(rules, BERLIN, "2027-05-03T10:00", "2027-05-03T10:30") == {}
    assert broken(rules, BERLIN, "2027-05-03T10:00", "2027-05-03T12:00") == {}
    short = broken(rules, BERLIN, "2027-05-03T10:00", "2027-05-03T10:29")
    long = broken(rules, BERLIN, "2027-05-03T10:00", "2027-05-03T12:01")
    assert "min_duration_minutes" in short["duration_minutes"][0]
    assert "max_duration_minutes" in long["duration_minutes"][0]


def test_every_broken_rule_is_named():
    rules = {"min_notice_minutes": 60, "max_duration_minutes": 30,
             "opening_hours": {"mon": [["08:00", "09:00"]]}}  # fmt: skip
    errors = broken(rules, BERLIN, "2027-01-01T00:30", "2027-01-01T01:30")
    assert len(errors["event_time"]) == 2
    assert len(errors["duration_minutes"]) == 1


def test_closed_times_are_the_gaps_between_spans_in_utc():
    hours = {"sat": [["08:00", "18:00"]], "sun": [["08:00", "18:00"]]}
    gaps = closed(hours, BERLIN, utc("2027-03-27T00:00"), utc("2027-03-29T00:00"))
    assert gaps == [
        (utc("2027-03-27T00:00"), utc("2027-03-27T07:00")),  # winter time
        (utc("2027-03-27T17:00"), utc("2027-03-28T06:00")),  # summer time from Sunday 02:00
        (utc("2027-03-28T16:00"), utc("2027-03-29T00:00")),
    ]


def test_spans_ending_and_starting_at_midnight_leave_no_gap():
    hours = {"fri": [["20:00", "24:00"]], "sat": [["00:00", "02:00"]]}
    # Friday 2027-10-29 20:00 local is 18:00 UTC; Saturday 02:00 local is 00:00 UTC.
    gaps = closed(hours, BERLIN, utc("2027-10-29T17:00"), utc("2027-10-30T01:00"))
    assert gaps == [
        (utc("2027-10-29T17:00"), utc("2027-10-29T18:00")),
        (utc("2027-10-30T00:00"), utc("2027-10-30T01:00")),
    ]


def test_no_opening_hours_close_nothing():
    assert closed(None, BERLIN, utc("2027-03-27T00:00"), utc("2027-03-29T00:00")) == []


def test_quota_periods_are_local_calendar_days_weeks_and_months():
    start = utc("2027-03-28T10:00")  # Sunday, the day Berlin's clocks go forward
    (first, after), name = quota_period("day", BERLIN, start)
    assert (first, after) == (utc("2027-03-27T23:00"), utc("2027-03-28T22:00"))  # 23 hours
    assert "2027-03-28" in name
    (first, after), name = quota_period("week", BERLIN, start)
    assert (first, after) == (utc("2027-03-21T23:00"), utc("2027-03-28T22:00"))
    assert "Monday 2027-03-22" in name
    (first, after), name = quota_period("month", NEW_YORK, utc("2027-11-01T03:00"))
    assert (first, after) == (utc("2027-10-01T04:00"), utc("2027-11-01T04:00"))  # still October
    assert "2027-10" in name


def test_the_ends_of_time_do_not_overflow():
    end_of_time = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    assert closed(EVERY_DAY_8_TO_18, NEW_YORK, end_of_time - timedelta(days=2), end_of_time)
    assert closed(EVERY_DAY_8_TO_18, BERLIN, datetime(1, 1, 1, tzinfo=UTC), utc("0001-01-03T00:00"))
    quota_period("month", BERLIN, end_of_time)
