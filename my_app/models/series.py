"""A series: booking requests that recur by a rule, one request per occurrence."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from my_app.extensions import db
from my_app.models.types import UTCDateTime, utcnow
from my_app.models.user import User

MAX_OCCURRENCES = 366  # of one series


class BookingSeries(db.Model):
    __tablename__ = "booking_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("resources.id"), index=True)
    # The RFC 5545 rule as given, and the zone its wall-clock times are read in.
    rrule: Mapped[str] = mapped_column(sa.String(500))
    time_zone: Mapped[str] = mapped_column(sa.String(64))
    # Local start times left out, "2027-03-08T10:00:00" (no offset).
    exdates: Mapped[list] = mapped_column(sa.JSON)
    # What was left out at submission or rejected as a conflict on acceptance:
    # [{"event_time", "reason", "conflicts": [ids]}].
    skipped: Mapped[list] = mapped_column(sa.JSON)
    requested_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requested_by: Mapped[User] = relationship(lazy="joined")
