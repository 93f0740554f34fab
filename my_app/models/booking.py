"""Bookable resources, booking requests and their append-only history."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from my_app.extensions import db
from my_app.models.types import UTCDateTime, utcnow
from my_app.models.user import User


class BookingStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    RELEASED = "released"


BOOKING_STATUSES = tuple(status.value for status in BookingStatus)
MAX_DURATION_MINUTES = 10080


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


APPROVALS = ("required", "auto")
QUOTA_PERIODS = ("day", "week", "month")
# The rules a resource's requests follow; None is no limit (see services/rules.py).
RULE_NAMES = (
    "min_notice_minutes",
    "max_advance_days",
    "min_duration_minutes",
    "max_duration_minutes",
    "buffer_minutes",
    "opening_hours",
    "quota",
    "checkin_minutes",
    "reminder_minutes",
    "approval_deadline_hours",
)


class BookableResource(db.Model):
    """Something that can be booked: a speaker, a room, a vehicle; and its booking rules."""

    __tablename__ = "resources"
    __table_args__ = (
        sa.CheckConstraint(f"approval IN {APPROVALS}", name="approval"),
        sa.CheckConstraint(f"quota_per IN {QUOTA_PERIODS}", name="quota_per"),
        sa.CheckConstraint("(quota_minutes IS NULL) = (quota_per IS NULL)", name="quota"),
        sa.CheckConstraint("buffer_minutes >= 0", name="buffer"),
        sa.CheckConstraint("checkin_minutes > 0", name="checkin"),
        sa.CheckConstraint("reminder_minutes > 0", name="reminder"),
        sa.CheckConstraint("approval_deadline_minutes > 0", name="approval_deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default=sa.text("''"))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The secret of the calendar feed link (`calendar_url`); rotating it revokes old links.
    calendar_token: Mapped[str | None] = mapped_column(
        sa.String(64), unique=True, index=True, default=new_calendar_token
    )
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC", server_default="UTC")
    approval: Mapped[str] = mapped_column(
        sa.String(16), default="required", server_default="required"
    )
    min_notice_minutes: Mapped[int | None]
    max_advance_days: Mapped[int | None]
    min_duration_minutes: Mapped[int | None]
    max_duration_minutes: Mapped[int | None]
    # Read by the database itself when a request becomes accepted (migration 0007).
    buffer_minutes: Mapped[int | None]
    # {"mon": [["08:00", "18:00"]], ..., "sun": []}: local times in `time_zone`.
    opening_hours: Mapped[dict | None] = mapped_column(sa.JSON)
    quota_minutes: Mapped[int | None]
    quota_per: Mapped[str | None] = mapped_column(sa.String(8))
    # After acceptance (services/followups.py): the check-in window after the start, the
    # reminder ahead of it, and how long a request may wait before it is escalated.
    checkin_minutes: Mapped[int | None]
    reminder_minutes: Mapped[int | None]
    approval_deadline_minutes: Mapped[int | None]

    @property
    def approval_deadline_hours(self) -> float | None:
        minutes = self.approval_deadline_minutes
        return None if minutes is None else minutes / 60

    @approval_deadline_hours.setter
    def approval_deadline_hours(self, value: float | None) -> None:
        self.approval_deadline_minutes = None if value is None else round(value * 60)

    @property
    def quota(self) -> dict | None:
        if self.quota_minutes is None:
            return None
        return {"hours": self.quota_minutes / 60, "per": self.quota_per}

    @quota.setter
    def quota(self, value: dict | None) -> None:
        self.quota_minutes = None if value is None else round(value["hours"] * 60)
        self.quota_per = None if value is None else value["per"]

    @property
    def rules(self) -> dict:
        """The rules as the API shows them: every rule, None where there is no limit."""
        return {name: getattr(self, name) for name in RULE_NAMES}

    approvers: Mapped[list[User]] = relationship(secondary="resource_approvers", order_by=User.id)


sa.Index("uq_resources_name_lower", sa.func.lower(BookableResource.name), unique=True)


class BookingRequest(db.Model):
    __tablename__ = "booking_requests"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {BOOKING_STATUSES}", name="status"),
        sa.CheckConstraint(
            f"duration_minutes BETWEEN 1 AND {MAX_DURATION_MINUTES}", name="duration"
        ),
        sa.CheckConstraint("end_time > event_time", name="interval"),
        # Keyset listing: every filter is followed by the (event_time, id) sort key.
        sa.Index("ix_booking_requests_event_time_id", "event_time", "id"),
        sa.Index("ix_booking_requests_status_event_time_id", "status", "event_time", "id"),
        sa.Index("ix_booking_requests_resource_event_time_id", "resource_id", "event_time", "id"),
        sa.Index(
            "ix_booking_requests_requester_event_time_id", "requested_by_id", "event_time", "id"
        ),
        sa.Index("ix_booking_requests_series_event_time_id", "series_id", "event_time", "id"),
        # Events and webhooks name requests by id, after their deletion too: never reused.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("resources.id"))
    topic: Mapped[str] = mapped_column(sa.String(200))
    event_time: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int]
    end_time: Mapped[datetime] = mapped_column(UTCDateTime)
    street: Mapped[str] = mapped_column(sa.String(200))
    city: Mapped[str] = mapped_column(sa.String(120))
    state: Mapped[str | None] = mapped_column(sa.String(120))
    postal_code: Mapped[str | None] = mapped_column(sa.String(32))
    country: Mapped[str] = mapped_column(sa.String(2))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", server_default="pending")
    # A deleted account takes its requests with it; a deleted admin's decisions stay.
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The series the request is an occurrence of (services/series.py); None for a one-off.
    series_id: Mapped[int | None] = mapped_column(sa.ForeignKey("booking_series.id"))
    # Bumped by every status change (the guarded UPDATE) and the check-in; the request's ETag.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Claims of the jobs that act once per request (services/followups.py): set by the one
    # guarded UPDATE that wins, before the mail leaves.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")

    @property
    def address(self) -> dict[str, str | None]:
        return {
            "street": self.street,
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
            "country": self.country,
        }


# No two accepted requests of one resource overlap in [event_time, end_time): PostgreSQL
# refuses them with an exclusion constraint (on the btree_gist extension); SQLite, whose
# writers are serialised, with triggers. As migration 0002 made them.
BookingRequest.__table__.append_constraint(
    ExcludeConstraint(
        (BookingRequest.resource_id, "="),
        (
            sa.func.tstzrange(
                BookingRequest.event_time, BookingRequest.end_time, sa.literal_column("'[)'")
            ),
            "&&",
        ),
        name="ex_booking_requests_no_overlap",
        using="gist",
        where=BookingRequest.status == "accepted",
    ).ddl_if(dialect="postgresql")
)
sa.event.listen(
    BookingRequest.__table__,
    "before_create",
    sa.DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(dialect="postgresql"),
)
_OVERLAP = """
    SELECT RAISE(ABORT, 'booking_overlap: accepted requests of a resource may not overlap')
    WHERE EXISTS (
        SELECT 1 FROM booking_requests AS other
        WHERE other.resource_id = NEW.resource_id
          AND other.status = 'accepted'
          AND other.id IS NOT NEW.id
          AND other.event_time < NEW.end_time
          AND NEW.event_time < other.end_time
    );
"""
for _trigger in (
    "CREATE TRIGGER booking_no_overlap_insert BEFORE INSERT ON booking_requests "
    f"WHEN NEW.status = 'accepted' BEGIN {_OVERLAP} END",
    "CREATE TRIGGER booking_no_overlap_update BEFORE UPDATE OF "
    "status, event_time, end_time, resource_id ON booking_requests "
    f"WHEN NEW.status = 'accepted' BEGIN {_OVERLAP} END",
):
    sa.event.listen(
        BookingRequest.__table__, "after_create", sa.DDL(_trigger).execute_if(dialect="sqlite")
    )


# Accepted requests of a resource also keep its `buffer_minutes` apart: a trigger reads the
# buffer as it is when a row becomes accepted (or an accepted one moves), so raising it never
# undoes an acceptance. On PostgreSQL the trigger first takes the resource's row, the turn
# that accepts of one resource take. As migration 0007 made them.
_BECOMES_ACCEPTED = """NEW.status = 'accepted' AND (OLD.status IS DISTINCT FROM 'accepted'
    OR OLD.event_time IS DISTINCT FROM NEW.event_time OR OLD.end_time IS DISTINCT FROM NEW.end_time
    OR OLD.resource_id IS DISTINCT FROM NEW.resource_id)"""
_PG_BUFFER = """
CREATE FUNCTION booking_keeps_buffer() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    buffer interval;
BEGIN
    SELECT make_interval(mins => coalesce(buffer_minutes, 0)) INTO buffer
    FROM resources WHERE id = NEW.resource_id FOR NO KEY UPDATE;
    IF buffer > interval '0' AND EXISTS (
        SELECT 1 FROM booking_requests AS other
        WHERE other.resource_id = NEW.resource_id
          AND other.status = 'accepted'
          AND other.id <> NEW.id
          AND tstzrange(other.event_time, other.end_time, '[)')
              && tstzrange(NEW.event_time - buffer, NEW.end_time + buffer, '[)')
    ) THEN
        RAISE EXCEPTION 'booking_buffer: accepted requests of resource % keep % apart',
            NEW.resource_id, buffer
            USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'booking_buffer';
    END IF;
    RETURN NEW;
END $$
"""
# SQLite stores times as text ('YYYY-MM-DD HH:MM:SS.ffffff'): moved by the buffer, same form.
_SQLITE_BUFFER = """
    SELECT RAISE(ABORT, 'booking_buffer: accepted requests of a resource keep its buffer apart')
    WHERE EXISTS (
        SELECT 1 FROM booking_requests AS other JOIN resources AS r ON r.id = NEW.resource_id
        WHERE r.buffer_minutes > 0
          AND other.resource_id = NEW.resource_id
          AND other.status = 'accepted'
          AND other.id IS NOT NEW.id
          AND other.event_time
              < (datetime(NEW.end_time, '+' || r.buffer_minutes || ' minutes')
                 || substr(NEW.end_time, 20))
          AND (datetime(NEW.event_time, '-' || r.buffer_minutes || ' minutes')
               || substr(NEW.event_time, 20)) < other.end_time
    );
"""
_BUFFER_COLUMNS = "status, event_time, end_time, resource_id"
for _ddl, _dialect in (
    (_PG_BUFFER, "postgresql"),
    ("CREATE TRIGGER booking_buffer_insert BEFORE INSERT ON booking_requests FOR EACH ROW "
     "WHEN (NEW.status = 'accepted') EXECUTE FUNCTION booking_keeps_buffer()", "postgresql"),
    (f"CREATE TRIGGER booking_buffer_update BEFORE UPDATE OF {_BUFFER_COLUMNS} "
     f"ON booking_requests FOR EACH ROW WHEN ({_BECOMES_ACCEPTED}) "
     "EXECUTE FUNCTION booking_keeps_buffer()", "postgresql"),
    ("CREATE TRIGGER booking_buffer_insert BEFORE INSERT ON booking_requests "
     f"WHEN NEW.status = 'accepted' BEGIN {_SQLITE_BUFFER} END", "sqlite"),
    (f"CREATE TRIGGER booking_buffer_update BEFORE UPDATE OF {_BUFFER_COLUMNS} "
     f"ON booking_requests WHEN {_BECOMES_ACCEPTED.replace('IS DISTINCT FROM', 'IS NOT')} "
     f"BEGIN {_SQLITE_BUFFER} END", "sqlite"),
):  # fmt: skip
    sa.event.listen(
        BookingRequest.__table__,
        "after_create",
        sa.DDL(_ddl.replace("%", "%%")).execute_if(dialect=_dialect),  # DDL formats with %
    )


class BookingHistory(db.Model):
    """One row per status change, submission included; never updated."""

    __tablename__ = "booking_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        sa.ForeignKey("booking_requests.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(sa.Text)

    by: Mapped[User | None] = relationship(lazy="joined")
