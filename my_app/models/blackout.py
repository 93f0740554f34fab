"""Times a resource cannot be booked: maintenance, holidays."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from my_app.extensions import db
from my_app.models.types import UTCDateTime, utcnow


class Blackout(db.Model):
    __tablename__ = "blackouts"
    __table_args__ = (
        sa.CheckConstraint("end_time > start_time", name="interval"),
        sa.Index("ix_blackouts_resource_start_time", "resource_id", "start_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("resources.id", ondelete="CASCADE"))
    # Half-open [start_time, end_time), like a booking's interval.
    start_time: Mapped[datetime] = mapped_column(UTCDateTime)
    end_time: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
