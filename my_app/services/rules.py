"""A resource's booking rules, checked in one place for every path that creates or accepts.

Pure functions of the rules, the request's [start, end) in UTC and the moment it
was asked: no database, no clock. Times are UTC inside; opening hours and quota
periods are local times of the resource's IANA zone, converted with `zoneinfo`
day by day, so 08:00-18:00 means 08:00-18:00 on the days daylight saving starts
and ends too. A local time that a spring-forward skips counts with the offset
before the change (02:30 is 03:30 summer time); one that the autumn repeats is
its first occurrence (PEP 495's fold=0).
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from my_app.errors import UnprocessableEntity

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Interval = tuple[datetime, datetime]
EARLIEST, LATEST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


def require_followed(resource, start: datetime, end: datetime, asked_at: datetime) -> None:
    """422 naming each rule of `resource` that a request for [start, end) breaks."""
    errors = violations(resource.rules, ZoneInfo(resource.time_zone), start, end, asked_at)
    if errors:
        raise UnprocessableEntity(errors, "The request breaks the resource's booking rules.")


def followed(resource, start: datetime, end: datetime, asked_at: datetime) -> bool:
    """Whether a request for [start, end) made at `asked_at` follows every rule of `resource`."""
    return not violations(resource.rules, ZoneInfo(resource.time_zone), start, end, asked_at)


def violations(
    rules: Mapping, zone: ZoneInfo, start: datetime, end: datetime, asked_at: datetime
) -> dict[str, list[str]]:
    """The rules broken by a request for [start, end) made at `asked_at`, by field."""
    errors: dict[str, list[str]] = {}

    def broken(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    notice, advance = rules.get("min_notice_minutes"), rules.get("max_advance_days")
    if notice is not None and start - asked_at < timedelta(minutes=notice):
        broken("event_time", f"Must be booked {notice} minutes ahead or more (min_notice_minutes).")
    if advance is not None and start - asked_at > timedelta(days=advance):
        broken("event_time", f"Must lie at most {advance} days ahead (max_advance_days).")
    hours = rules.get("opening_hours")
    if hours is not None and not within_one_span(hours, zone, start, end):
        broken("event_time", _outside_message(hours, zone, start))
    minutes = (end - start) / timedelta(minutes=1)
    shortest, longest = rules.get("min_duration_minutes"), rules.get("max_duration_minutes")
    if shortest is not None and minutes < shortest:
        broken("duration_minutes", f"Must be at least {shortest} minutes (min_duration_minutes).")
    if longest is not None and minutes > longest:
        broken("duration_minutes", f"Must be at most {longest} minutes (max_duration_minutes).")
    return errors


def _outside_message(hours: Mapping, zone: ZoneInfo, start: datetime) -> str:
    day = _local_date(start, zone)
    spans = ", ".join(f"{begin}-{finish}" for begin, finish in hours.get(DAYS[day.weekday()], []))
    opening = f"open {spans}" if spans else "closed"
    return (
        f"Must lie within one opening span of one day (opening_hours); on {day:%A %Y-%m-%d} "
        f"the resource is {opening}, {zone.key} time."
    )


def within_one_span(hours: Mapping, zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    """[start, end) lies inside one opening span of the local day it starts on."""
    day = _local_date(start, zone)
    return any(begin <= start and end <= finish for begin, finish in open_spans(hours, zone, day))


def open_spans(hours: Mapping, zone: ZoneInfo, day: date) -> list[Interval]:
    """The opening spans of one local day, in UTC."""
    return [
        (_instant(day, begin, zone), _instant(day, finish, zone))
        for begin, finish in hours.get(DAYS[day.weekday()], [])
    ]


def _instant(day: date, clock: str, zone: ZoneInfo, days_after: int = 0) -> datetime:
    """The UTC moment of local `clock` ("HH:MM", up to "24:00") `days_after` days after `day`;
    held at the ends of representable time beyond years 1-9999."""
    hour, minute = (int(part) for part in clock.split(":"))
    try:
        local_day = day + timedelta(days=days_after + hour // 24)
        return datetime.combine(local_day, time(hour % 24, minute), zone).astimezone(UTC)
    except OverflowError:
        return EARLIEST if day.year == 1 else LATEST


def _local_date(moment: datetime, zone: ZoneInfo) -> date:
    try:
        return moment.astimezone(zone).date()
    except OverflowError:  # at the ends of time: the UTC date will do
        return moment.date()


def shifted(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, held at the ends of representable time."""
    try:
        return moment + delta
    except OverflowError:
        return EARLIEST if delta < timedelta(0) else LATEST


def closed(hours: Mapping | None, zone: ZoneInfo, start: datetime, end: datetime) -> list[Interval]:
    """The times within [start, end) outside the opening hours, in order, merged."""
    if hours is None:
        return []
    first, last = _local_date(start, zone), _local_date(end, zone)
    first -= timedelta(days=first > date.min)  # a span of the day before may reach into today
    spans = (span for n in range((last - first).days + 1)
             for span in open_spans(hours, zone, first + timedelta(days=n)))  # fmt: skip
    gaps, cursor = [], start
    for begin, finish in sorted(spans):
        if begin > cursor:
            gaps.append((cursor, min(begin, end)))
        cursor = max(cursor, finish)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append((cursor, end))
    return [(begin, finish) for begin, finish in gaps if begin < finish]


def quota_period(per: str, zone: ZoneInfo, start: datetime) -> tuple[Interval, str]:
    """The calendar day, week (Monday to Sunday) or month, in `zone`, that `start` falls in:
    its bounds in UTC and its name."""
    day = _local_date(start, zone)
    if per == "day":
        first, days, name = day, 1, f"the day {day}"
    elif per == "week":
        first = day - timedelta(days=day.weekday())
        days, name = 7, f"the week of Monday {first}"
    else:
        first = day.replace(day=1)
        days, name = monthrange(first.year, first.month)[1], f"the month {first:%Y-%m}"
    bounds = (_instant(first, "00:00", zone), _instant(first, "00:00", zone, days_after=days))
    return bounds, f"{name} ({zone.key})"
