"""Blacklist entries for the database store of `blacklist.py`."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from my_app.extensions import db
from my_app.models.types import UTCDateTime


class BlacklistEntry(db.Model):
    __tablename__ = "token_blacklist"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    value: Mapped[str | None] = mapped_column(sa.Text)
