"""Login sessions as their owners see them (`GET /sessions`).

A row is what a session looks like, not whether it is alive: the revocation
store decides that. Every path that ends sessions removes their rows too.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from my_app.extensions import db
from my_app.models.types import UTCDateTime, utcnow

USER_AGENT_LENGTH = 256


class LoginSession(db.Model):
    __tablename__ = "sessions"
    __table_args__ = (
        sa.Index("ix_sessions_user_id_created_at", "user_id", "created_at"),
        {"sqlite_autoincrement": True},  # GET /sessions shows ids: one never names two sessions
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the newest refresh token of the session expires: after that the row is forgotten.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(USER_AGENT_LENGTH))
