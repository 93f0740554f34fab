"""Accounts."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from my_app.extensions import db
from my_app.models.types import UTCDateTime, utcnow

ROLES = ("admin", "requester")
ACCOUNT_STATUSES = ("active", "disabled")


class AccountRules:
    """What a role, a status and a confirmation time mean, for a row or its cached copy."""

    role: str
    status: str
    confirmed_at: datetime | None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_active(self) -> bool:
        return self.status == "active"


def first_token_version() -> int:
    return secrets.randbelow(2**52) + 1  # exact in JSON numbers, far from the 64-bit limit


class User(AccountRules, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(f"role IN {ROLES}", name="role"),
        sa.CheckConstraint(f"status IN {ACCOUNT_STATUSES}", name="status"),
        {"sqlite_autoincrement": True},  # an id, once deleted, is never given to another
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80))
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(128))
    role: Mapped[str] = mapped_column(
        sa.String(16), default="requester", server_default="requester"
    )
    status: Mapped[str] = mapped_column(sa.String(16), default="active", server_default="active")
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # In every token; bumped to end every session at once (logout_all, disabling, a new
    # password). It starts at random, so that no other account ever shares an account's version.
    token_version: Mapped[int] = mapped_column(sa.BigInteger, default=first_token_version)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}>"


# Usernames are unique regardless of case, and login looks them up through this index.
sa.Index("uq_users_username_lower", sa.func.lower(User.username), unique=True)
