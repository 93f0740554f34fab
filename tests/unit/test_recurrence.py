"""Expanding a series' rule: wall-clock times kept across daylight saving, the RFC 5545
subset, and refusals that say what to change."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from my_app.errors import UnprocessableEntity
from my_app.services.recurrence import occurrences, overlapping, parse

BERLIN = ZoneInfo("Europe/Berlin")


def local(*parts) -> datetime:
    return datetime(*parts, tzinfo=BERLIN).astimezone(UTC)


def expand(rrule: str, first: datetime, exdates=()) -> list[datetime]:
    return [
        moment.astimezone(BERLIN) for moment in occurrences(parse(rrule), first, BERLIN, exdates)
    ]


def refusal(rrule: str, first: datetime | None = None, exdates=()) -> dict:
    with pytest.raises(UnprocessableEntity) as raised:
        occurrences(parse(rrule), first or local(2027, 3, 1, 10), BERLIN, exdates)
    return raised.value.extra["errors"]


def test_a_weekly_series_stays_at_ten_local_across_both_changes():
    starts = expand("FREQ=WEEKLY;UNTIL=20271108", local(2027, 3, 15, 10))
    assert all((s.hour, s.minute) == (10, 0) for s in starts)
    assert {s.date().isoformat() for s in starts} >= {"2027-03-22", "2027-03-29", "2027-10-25",
                                                       "2027-11-01"}  # fmt: skip
    utc_hours = {s.astimezone(UTC).hour for s in starts}
    assert utc_hours == {8, 9}  # 10:00 CET is 09:00 UTC, 10:00 CEST 08:00 UTC
    assert len(starts) == 35


def test_a_time_in_the_spring_gap_moves_forward_by_the_gap():
    starts = expand("FREQ=WEEKLY;COUNT=3", local(2027, 3, 21, 2, 30))
    assert [s.isoformat() for s in starts] == [
        "2027-03-21T02:30:00+01:00",
        "2027-03-28T03:30:00+02:00",  # 02:30 does not exist that night
        "2027-04-04T02:30:00+02:00",
    ]


def test_a_repeated_autumn_time_is_its_first_occurrence():
    starts = expand("FREQ=DAILY;COUNT=3", local(2027, 10, 30, 2, 30))
    assert starts[1].isoformat() == "2027-10-31T02:30:00+02:00"
    assert starts[2].astimezone(UTC) - starts[1].astimezone(UTC) == timedelta(hours=25)


def test_last_friday_of_every_month():
    starts = expand("FREQ=MONTHLY;BYDAY=-1FR;COUNT=4", local(2027, 1, 29, 10))
    assert [s.date().isoformat() for s in starts] == [
        "2027-01-29", "2027-02-26", "2027-03-26", "2027-04-30",
    ]  # fmt: skip


def test_second_tuesday_of_every_month():
    starts = expand("FREQ=MONTHLY;BYDAY=2TU;COUNT=3", local(2027, 1, 12, 10))
    assert [s.date().isoformat() for s in starts] == ["2027-01-12", "2027-02-09", "2027-03-09"]


def test_the_31st_skips_the_months_without_one():
    starts = expand("FREQ=MONTHLY;BYMONTHDAY=31;COUNT=4", local(2027, 1, 31, 10))
    assert [s.date().isoformat() for s in starts] == [
        "2027-01-31", "2027-03-31", "2027-05-31", "2027-07-31",
    ]  # fmt: skip


def test_weekdays_with_an_interval():
    starts = expand("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=4", local(2027, 3, 1, 10))
    assert [s.date().isoformat() for s in starts] == [
        "2027-03-01", "2027-03-03", "2027-03-15", "2027-03-17",
    ]  # fmt: skip


def test_exdates_are_local_start_times_left_out():
    starts = expand("FREQ=WEEKLY;COUNT=4", local(2027, 3, 22, 10), [datetime(2027, 3, 29, 10)])
    assert [s.date().isoformat() for s in starts] == ["2027-03-22", "2027-04-05", "2027-04-12"]


def test_an_exdate_that_is_no_occurrence_is_refused():
    errors = refusal("FREQ=WEEKLY;COUNT=4", exdates=[datetime(2027, 3, 8, 9)])
    assert "recurrence.exdates" in errors


def test_until_a_date_includes_that_day():
    starts = expand("FREQ=DAILY;UNTIL=20270305", local(2027, 3, 1, 10))
    assert len(starts) == 5


def test_until_a_utc_time_is_read_in_the_zone():
    assert len(expand("FREQ=DAILY;UNTIL=20270303T090000Z", local(2027, 3, 1, 10))) == 3
    assert len(expand("FREQ=DAILY;UNTIL=20270303T085959Z", local(2027, 3, 1, 10))) == 2


def test_366_occurrences_are_fine_and_367_are_refused():
    assert len(expand("FREQ=DAILY;COUNT=366", local(2027, 3, 1, 10))) == 366
    assert "recurrence.rrule" in refusal("FREQ=DAILY;COUNT=367")
    assert "366" in refusal("FREQ=DAILY;UNTIL=20300101")["recurrence.rrule"][0]


@pytest.mark.parametrize(
    ("rrule", "hint"),
    [
        ("FREQ=YEARLY;COUNT=3", "DAILY, WEEKLY or MONTHLY"),
        ("FREQ=WEEKLY;COUNT=3;BYHOUR=10", "BYHOUR is not supported"),
        ("FREQ=WEEKLY;BYSETPOS=1;COUNT=3", "BYSETPOS is not supported"),
        ("FREQ=WEEKLY", "exactly one of COUNT"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20280101", "exactly one of COUNT"),
        ("COUNT=3", "FREQ is missing"),
        ("FREQ=WEEKLY;BYDAY=2MO;COUNT=3", "need FREQ=MONTHLY"),
        ("FREQ=MONTHLY;BYDAY=6MO;COUNT=3", "1 to 5"),
        ("FREQ=WEEKLY;BYMONTHDAY=1;COUNT=3", "BYMONTHDAY cannot"),
        ("FREQ=MONTHLY;BYMONTHDAY=32;COUNT=3", "1 to 31"),
        ("FREQ=DAILY;COUNT=0", "from 1 to 366"),
        ("FREQ=DAILY;INTERVAL=x;COUNT=3", "INTERVAL"),
        ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL must be a date"),
        ("FREQ=DAILY;COUNT=3;COUNT=4", "twice"),
        ("FREQ", "NAME=VALUE"),
    ],
)
def test_anything_outside_the_subset_is_refused_with_a_hint(rrule, hint):
    with pytest.raises(UnprocessableEntity) as raised:
        parse(rrule)
    assert hint in raised.value.extra["errors"]["recurrence.rrule"][0]


def test_a_first_time_that_is_no_occurrence_is_refused():
    message = refusal("FREQ=WEEKLY;BYDAY=TU;COUNT=3", local(2027, 3, 1, 10))["recurrence.rrule"]
    assert "not an occurrence" in message[0] and "Monday 2027-03-01" in message[0]


def test_until_before_the_start_leaves_none():
    assert "before the first" in refusal("FREQ=DAILY;UNTIL=20270201")["recurrence.rrule"][0]


def test_exdates_leaving_nothing_are_refused():
    assert "recurrence.rrule" in refusal("FREQ=DAILY;COUNT=1", exdates=[datetime(2027, 3, 1, 10)])


def test_a_rule_matching_rarely_ends_within_a_hundred_years_or_is_refused():
    errors = refusal("FREQ=MONTHLY;INTERVAL=1000;COUNT=3")
    assert "100 years" in errors["recurrence.rrule"][0]


def test_overlapping_occurrences_are_found():
    starts = [local(2027, 3, 1, 10), local(2027, 3, 2, 10)]
    assert overlapping(starts, timedelta(hours=24)) is None
    assert overlapping(starts, timedelta(hours=25)) == tuple(starts)


def test_the_first_occurrence_is_event_time_to_the_microsecond():
    first = local(2027, 3, 1, 10, 0, 30, 250)
    starts = occurrences(parse("FREQ=DAILY;COUNT=2"), first, BERLIN)
    assert starts == [first, first + timedelta(days=1)]
