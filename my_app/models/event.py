"""The booking events outbox and each delivery attempt made from it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from my_app.extensions import db
from my_app.models.types import UTCDateTime, utcnow

EVENT_STATUSES = ("pending", "delivered", "failed")


class BookingEvent(db.Model):
    """One change of a booking request, written in the change's own transaction.

    `booking_id` is deliberately not a foreign key: `booking.deleted` outlives its row.
    """

    __tablename__ = "booking_events"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {EVENT_STATUSES}", name="status"),
        sa.Index("ix_booking_events_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(40))
    booking_id: Mapped[int] = mapped_column(index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[str] = mapped_column(sa.Text)  # the exact JSON body that is sent and signed
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BookingEventAttempt(db.Model):
    """One try of one event at one target (the SNS topic or a webhook URL); never updated."""

    __tablename__ = "booking_event_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(
        sa.ForeignKey("booking_events.id", ondelete="CASCADE"), index=True
    )
    target: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool]
    error: Mapped[str | None] = mapped_column(sa.Text)
