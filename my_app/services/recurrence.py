"""Recurrence rules: the RFC 5545 subset a series may use, and its occurrences in UTC.

Pure functions: no database, no clock. A rule is expanded with python-dateutil's
`rrule` over naive local times of the series' IANA zone, starting at the local
wall-clock time of the first occurrence, and each local time is then placed in
the zone with `zoneinfo` (PEP 495, fold=0): a series at 10:00 stays at 10:00
local across daylight saving changes, so its UTC time moves. A local time that
the spring change skips is read with the offset before the change, which moves
it forward by the gap (02:30 becomes 03:30 summer time); one that the autumn
repeats is its first occurrence. The same reading as the opening hours of
services/rules.py.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import islice, pairwise
from zoneinfo import ZoneInfo

from dateutil import rrule as du

from my_app.errors import UnprocessableEntity
from my_app.models.series import MAX_OCCURRENCES

FIELD = "recurrence.rrule"
FREQUENCIES = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY}
WEEKDAYS = {
    "MO": du.MO,
    "TU": du.TU,
    "WE": du.WE,
    "TH": du.TH,
    "FR": du.FR,
    "SA": du.SA,
    "SU": du.SU,
}
PARTS = ("FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL")
MAX_INTERVAL = 1000
MAX_SPAN = timedelta(days=100 * 365)
_BYDAY = re.compile(r"([+-]?)([0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL = re.compile(r"([0-9]{8})(?:T([0-9]{6})(Z?))?")
_SUPPORTED = (
    "Use FREQ=DAILY, WEEKLY or MONTHLY with INTERVAL, BYDAY, BYMONTHDAY and exactly one of "
    "COUNT or UNTIL, e.g. FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10."
)


@dataclass(frozen=True)
class Rule:
    """A parsed rule: dateutil's arguments, but `dtstart` and (a local) `until`."""

    freq: int
    interval: int = 1
    byweekday: tuple | None = None
    bymonthday: tuple[int, ...] | None = None
    count: int | None = None
    until: str | None = None  # as written: its meaning depends on the series' zone


def refuse(message: str, field: str = FIELD) -> UnprocessableEntity:
    return UnprocessableEntity({field: [message]}, "The recurrence is not one this service runs.")


def parse(text: str) -> Rule:
    """The rule `text` ("FREQ=WEEKLY;BYDAY=MO;COUNT=10", an "RRULE:" prefix allowed), or
    422 under `recurrence.rrule` saying what to change."""
    body = text.strip().upper().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for item in filter(None, body.split(";")):
        name, equals, value = item.partition("=")
        if not equals or not value:
            raise refuse(f"{item!r} is not NAME=VALUE. {_SUPPORTED}")
        if name not in PARTS:
            raise refuse(f"{name} is not supported. {_SUPPORTED}")
        if name in parts:
            raise refuse(f"{name} is given twice.")
        parts[name] = value
    if "FREQ" not in parts:
        raise refuse(f"FREQ is missing. {_SUPPORTED}")
    freq = FREQUENCIES.get(parts["FREQ"])
    if freq is None:
        raise refuse(f"FREQ={parts['FREQ']} is not supported: use DAILY, WEEKLY or MONTHLY.")
    if ("COUNT" in parts) == ("UNTIL" in parts):
        raise refuse("Give exactly one of COUNT (how many) or UNTIL (the last day).")
    return Rule(
        freq=freq,
        interval=_number(parts, "INTERVAL", 1, MAX_INTERVAL) or 1,
        byweekday=_weekdays(parts.get("BYDAY"), freq),
        bymonthday=_monthdays(parts.get("BYMONTHDAY"), freq),
        count=_number(parts, "COUNT", 1, MAX_OCCURRENCES),
        until=_checked_until(parts.get("UNTIL")),
    )


def _number(parts: dict[str, str], name: str, lowest: int, highest: int) -> int | None:
    if name not in parts:
        return None
    value = parts[name]
    if not value.isascii() or not value.isdigit() or not lowest <= int(value) <= highest:
        raise refuse(f"{name} must be a whole number from {lowest} to {highest}.")
    return int(value)


def _weekdays(value: str | None, freq: int) -> tuple | None:
    if value is None:
        return None
    days = []
    for item in value.split(","):
        match = _BYDAY.fullmatch(item)
        if match is None:
            raise refuse(f"BYDAY={item!r}: use MO, TU, WE, TH, FR, SA, SU (2TU, -1FR monthly).")
        sign, ordinal, day = match.groups()
        if ordinal is None:
            if sign:
                raise refuse(f"BYDAY={item!r}: a sign needs an ordinal, as in -1FR.")
            days.append(WEEKDAYS[day])
            continue
        if freq != du.MONTHLY:
            raise refuse(f"BYDAY={item!r}: ordinals such as 2TU or -1FR need FREQ=MONTHLY.")
        if not 1 <= int(ordinal) <= 5:
            raise refuse(f"BYDAY={item!r}: the ordinal must be 1 to 5 or -1 to -5.")
        days.append(WEEKDAYS[day](int(f"{sign}{ordinal}")))
    return tuple(days)


def _monthdays(value: str | None, freq: int) -> tuple[int, ...] | None:
    if value is None:
        return None
    if freq == du.WEEKLY:
        raise refuse("BYMONTHDAY cannot be used with FREQ=WEEKLY; use FREQ=MONTHLY or DAILY.")
    days = []
    for item in value.split(","):
        if not re.fullmatch(r"[+-]?[0-9]{1,2}", item) or not 1 <= abs(int(item)) <= 31:
            raise refuse(f"BYMONTHDAY={item!r}: use a day from 1 to 31 (or -1 to -31).")
        days.append(int(item))
    return tuple(days)


def _checked_until(value: str | None) -> str | None:
    if value is not None:
        _until(value, ZoneInfo("UTC"))
    return value


def _until(value: str, zone: ZoneInfo) -> datetime:
    """UNTIL as a naive local time: a date means its whole day; a UTC time (…Z) is
    converted to the zone; a time without Z is local already."""
    match = _UNTIL.fullmatch(value)
    problem = "UNTIL must be a date (20271231) or a UTC time (20271231T235959Z)."
    if match is None:
        raise refuse(problem)
    day, clock, utc = match.groups()
    try:
        if clock is None:
            return datetime.combine(datetime.strptime(day, "%Y%m%d").date(), time.max)
        moment = datetime.strptime(day + clock, "%Y%m%d%H%M%S")
        if utc:
            return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
        return moment
    except (ValueError, OverflowError):
        raise refuse(problem) from None


def occurrences(
    rule: Rule, first: datetime, zone: ZoneInfo, exdates: Iterable[datetime] = ()
) -> list[datetime]:
    """The start of each occurrence in UTC, in order: `first` (aware) and the rule's later
    ones at its local wall-clock time in `zone`, but the local start times in `exdates`.

    422 if `first` is not an occurrence of the rule, if the rule has more than
    MAX_OCCURRENCES or none is left, or if an exdate is not one of them.
    """
    try:
        local_first = first.astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        raise refuse("The first occurrence leaves the years 1-9999.") from None
    if not _matches(rule, local_first):
        day = f"{local_first:%A %Y-%m-%d %H:%M}"
        raise refuse(
            f"event_time ({day}, {zone.key} time) is not an occurrence of the rule; "
            "start the series on its first occurrence."
        )
    horizon = _shifted(local_first, MAX_SPAN)
    until = _until(rule.until, zone) if rule.until else horizon
    if until < local_first:
        raise refuse("UNTIL lies before the first occurrence (event_time).")
    # COUNT=n is the first n of the unbounded rule; bounded by the horizon, a rule that
    # never matches again ends there instead of searching up to the year 9999.
    expansion = du.rrule(
        rule.freq,
        dtstart=local_first,
        interval=rule.interval,
        byweekday=rule.byweekday,
        bymonthday=rule.bymonthday,
        until=min(until, horizon),
    )
    wanted = min(rule.count or MAX_OCCURRENCES + 1, MAX_OCCURRENCES + 1)
    # dateutil drops microseconds; every occurrence keeps the first one's.
    micro = local_first.microsecond
    local = [moment.replace(microsecond=micro) for moment in islice(_safely(expansion), wanted)]
    if len(local) > MAX_OCCURRENCES:
        raise refuse(f"The rule has more than {MAX_OCCURRENCES} occurrences; end it sooner.")
    if local and (until > horizon or len(local) < (rule.count or 0)):
        raise refuse(f"The series must end within {MAX_SPAN.days // 365} years of its start.")
    left_out = set(exdates)
    unknown = sorted(left_out - set(local))
    if unknown:
        raise refuse(
            f"{unknown[0].isoformat()} is not a start of the series (exdates are local start "
            f"times in {zone.key}, without an offset).",
            "recurrence.exdates",
        )
    kept = [moment for moment in local if moment not in left_out]
    if not kept:
        raise refuse("Every occurrence is left out by exdates.")
    return [first if moment == local_first else place(moment, zone) for moment in kept]


def _matches(rule: Rule, moment: datetime) -> bool:
    """Whether `moment`'s day is one the rule's BYDAY and BYMONTHDAY allow (checked before
    expanding: dateutil would search up to the year 9999 for a first match)."""
    last = monthrange(moment.year, moment.month)[1]
    if rule.bymonthday and not any(
        moment.day == (day if day > 0 else last + 1 + day) for day in rule.bymonthday
    ):
        return False
    if not rule.byweekday:
        return True
    for weekday in rule.byweekday:
        if weekday.weekday != moment.weekday():
            continue
        n = weekday.n
        if n is None or (n > 0 and (moment.day - 1) // 7 + 1 == n):
            return True
        if n is not None and n < 0 and (last - moment.day) // 7 + 1 == -n:
            return True
    return False


def _shifted(moment: datetime, delta: timedelta) -> datetime:
    try:
        return moment + delta
    except OverflowError:
        return datetime.max


def _safely(expansion: du.rrule):
    """The rule's local times; it ends where dates leave years 1-9999."""
    try:
        yield from expansion
    except (ValueError, OverflowError):
        return


def place(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC moment of naive `local` in `zone`: fold=0, so a skipped time moves forward
    by the gap and a repeated one is its first occurrence."""
    try:
        return local.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError:
        raise refuse("An occurrence leaves the years 1-9999.") from None


def overlapping(starts: list[datetime], duration: timedelta) -> tuple[datetime, datetime] | None:
    """The first two consecutive occurrences that would overlap, if any."""
    for earlier, later in pairwise(starts):
        if earlier + duration > later:
            return earlier, later
    return None
