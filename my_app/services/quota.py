"""Quotas: how many hours of a resource one requester may hold per day, week or month.

A requester's pending and accepted requests whose start falls in one calendar
period of the resource's zone add up to at most the quota. The count and the
insert that follows it are one unit of work under a lock per requester and
resource, so two submits at the same moment cannot both take the last hour:
on PostgreSQL a transaction-scoped advisory lock on the pair (resource,
requester); SQLite's write transactions take turns anyway.
"""

from __future__ import annotations

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
    if resource.quota_minutes is None or requester.is_admin:
        return
    if is_approver(requester, resource.id):
        return
    _take_turn(resource.id, requester.id)
    zone = ZoneInfo(resource.time_zone)
    (first, after), period = rules.quota_period(resource.quota_per, zone, start)
    column_type = BookingRequest.event_time.type
    used = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(BookingRequest.duration_minutes), 0)).where(
            BookingRequest.resource_id == resource.id,
            BookingRequest.requested_by_id == requester.id,
            BookingRequest.status.in_(COUNTED),
            BookingRequest.event_time >= sa.literal(first, column_type),
            BookingRequest.event_time < sa.literal(after, column_type),
        )
    )
    if used + minutes > resource.quota_minutes:
        raise Conflict(
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
