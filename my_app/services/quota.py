"""Quotas: how many hours of a resource one requester may hold per day, week or month.

A requester's pending and accepted requests whose start falls in one calendar
period of the resource's zone add up to at most the quota. The count and the
insert that follows it are one unit of work under a lock per requester and
resource, so two submits at the same moment cannot both take the last hour:
on PostgreSQL a transaction-scoped advisory lock on the pair (resource,
requester); SQLite's write transactions take turns anyway.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from my_app.errors import Conflict
from my_app.extensions import db
from my_app.models import BookableResource, BookingRequest, BookingStatus, User
from my_app.services import rules
from my_app.services.permissions import is_approver

COUNTED = (BookingStatus.PENDING, BookingStatus.ACCEPTED)


def require_room(requester: User, resource: BookableResource, start: datetime, minutes: int):
    """409 if `minutes` more from `start` would pass the requester's quota; inside the
    submit's transaction, before its insert. Admins and the resource's approvers have none."""
    refused = refusals(requester, resource, [start], minutes)
    if refused:
        raise Conflict(refused[0])


def refusals(
    requester: User, resource: BookableResource, starts: list[datetime], minutes: int
) -> dict[int, str]:
    """For a series: the index of each of `starts` (in order) that would pass the quota,
    with why, counting the requester's requests and the series' own earlier starts that
    fit. One query; inside the submit's transaction, as `require_room`."""
    if resource.quota_minutes is None or requester.is_admin or not starts:
        return {}
    if is_approver(requester, resource.id):
        return {}
    _take_turn(resource.id, requester.id)
    zone = ZoneInfo(resource.time_zone)
    periods = [rules.quota_period(resource.quota_per, zone, start) for start in starts]
    column_type = BookingRequest.event_time.type
    rows = db.session.execute(
        sa.select(BookingRequest.event_time, BookingRequest.duration_minutes).where(
            BookingRequest.resource_id == resource.id,
            BookingRequest.requested_by_id == requester.id,
            BookingRequest.status.in_(COUNTED),
            BookingRequest.event_time >= sa.literal(periods[0][0][0], column_type),
            BookingRequest.event_time < sa.literal(periods[-1][0][1], column_type),
        )
    )
    used: Counter[datetime] = Counter()
    for start, duration in rows:
        used[rules.quota_period(resource.quota_per, zone, start)[0][0]] += duration
    refused = {}
    for index, ((first, _after), period) in enumerate(periods):
        if used[first] + minutes > resource.quota_minutes:
            refused[index] = _passed(resource, period, used[first])
        else:
            used[first] += minutes
    return refused


def _passed(resource: BookableResource, period: str, used: int) -> str:
    return (
        f"The request would pass your quota of {_hours(resource.quota_minutes)} hours per "
        f"{resource.quota_per} for {period}: {_hours(used)} hours are already requested."
    )


def _take_turn(resource_id: int, requester_id: int) -> None:
    """Held until the transaction ends: one submit per requester and resource at a time."""
    if db.session.get_bind().dialect.name == "postgresql":
        key = (sa.cast(sa.literal(value), sa.Integer) for value in (resource_id, requester_id))
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(*key)))


def _hours(minutes: int) -> str:
    return f"{minutes / 60:g}"
