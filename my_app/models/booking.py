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


BOOKING_STATUSES = tuple(status.value for status in BookingStatus)
MAX_DURATION_MINUTES = 10080


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class BookableResource(db.Model):
    """Something that can be booked: a speaker, a room, a vehicle."""

    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default=sa.text("''"))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The secret of the calendar feed link (`calendar_url`); rotating it revokes old links.
    calendar_token: Mapped[str | None] = mapped_column(
        sa.String(64), unique=True, index=True, default=new_calendar_token
    )


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
    # Bumped by every status change (the guarded UPDATE); the request's ETag.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

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
