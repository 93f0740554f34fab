"""Login sessions: the row each login writes (GET /sessions lists them), and ending them.

A login starts a session (`sid`), shared by every token pair it yields. Its row
is the session: the session is live while the row is and `expires_at` has not
passed, and every request's token check reads that (through the revocation
store's cache). `expires_at` is when the session's newest refresh token
expires, and never later than `SESSION_MAX_DAYS` after the login, however often
it is refreshed. Ending a session tells the store, then deletes its row.
`token_version` is the user's token version: bumping it ends every session of
that user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from my_app.errors import NotFound
from my_app.extensions import db
from my_app.models import LoginSession, User
from my_app.models.session import USER_AGENT_LENGTH
from my_app.models.types import utcnow
from my_app.services import revocation
from my_app.services.transaction import end_reading, transaction

ADDRESS_LENGTH = 64


@dataclass(frozen=True)
class Client:
    """Where a login or a refresh comes from, as the request told it."""

    address: str | None = None
    user_agent: str | None = None

    def row_values(self) -> dict[str, str | None]:
        return {
            "ip": (self.address or "")[:ADDRESS_LENGTH] or None,
            "user_agent": (self.user_agent or "")[:USER_AGENT_LENGTH] or None,
        }


def new_sid() -> str:
    return uuid.uuid4().hex


def expiry(created_at: datetime) -> datetime:
    """When a refresh token issued now in a session that began at `created_at` expires."""
    config = current_app.config
    latest = created_at + timedelta(days=config["SESSION_MAX_DAYS"])
    return min(datetime.now(UTC) + config["JWT_REFRESH_TOKEN_EXPIRES"], latest)


def start(user_id: int, sid: str, client: Client) -> datetime:
    """Add the row of a new session; in the caller's transaction. When its first pair expires."""
    now = utcnow()
    expires_at = expiry(now)
    db.session.add(
        LoginSession(
            sid=sid,
            user_id=user_id,
            created_at=now,
            last_used_at=now,
            expires_at=expires_at,
            **client.row_values(),
        )
    )
    return expires_at


def renewal(sid: str) -> datetime | None:
    """When a refresh token of session `sid` issued now expires; None when the session has ended."""
    created_at = db.session.scalar(
        sa.select(LoginSession.created_at).where(
            LoginSession.sid == sid, LoginSession.expires_at > utcnow()
        )
    )
    if created_at is None:
        return None
    expires_at = expiry(created_at)
    return expires_at if expires_at > datetime.now(UTC) else None


def touch(sid: str, client: Client, expires_at: datetime) -> None:
    """A refresh: the session was used now, and lives until its newest refresh token expires."""
    values: dict[str, Any] = {"last_used_at": utcnow(), "expires_at": expires_at}
    address = client.row_values()["ip"]
    if address:
        values["ip"] = address
    db.session.execute(sa.update(LoginSession).where(LoginSession.sid == sid).values(**values))


def forget(user_id: int, keep_sid: str | None = None) -> None:
    """Delete the rows of `user_id`'s sessions (all but `keep_sid`); in the caller's transaction."""
    query = sa.delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep_sid is not None:
        query = query.where(LoginSession.sid != keep_sid)
    db.session.execute(query)


def revoke_all(user: User, keep_sid: str | None = None) -> None:
    """Make every token `user` holds invalid from the next request on; in the caller's transaction.

    `keep_sid`'s row stays, for a session that goes on with a pair of the new version.
    The increment is SQL's (`token_version + 1`), so racing bumps never undo one another.
    """
    user.token_version = User.token_version + 1
    forget(user.id, keep_sid)


def list_sessions(actor, current_sid: str | None) -> list[dict[str, Any]]:
    """The actor's live logins, newest first; `current` marks the one asking."""
    query = (
        sa.select(LoginSession)
        .where(LoginSession.user_id == actor.id, LoginSession.expires_at > utcnow())
        .order_by(LoginSession.created_at.desc(), LoginSession.id.desc())
    )
    return [
        {
            "id": row.id,
            "created_at": row.created_at,
            "last_used_at": row.last_used_at,
            "ip": row.ip,
            "user_agent": row.user_agent,
            "current": row.sid == current_sid,
        }
        for row in db.session.scalars(query)
    ]


def end_session(user_id: int, sid: str) -> None:
    """Revoke every token of `user_id`'s session `sid`, everywhere at once (a logout); its
    row goes."""
    revocation.session_ending(user_id, sid)
    with transaction():
        _delete(sid)


def end_session_by_id(actor, session_id: int) -> None:
    """End one of the actor's sessions, as its own logout would; another's is not found."""
    sid = db.session.scalar(
        sa.select(LoginSession.sid).where(
            LoginSession.id == session_id, LoginSession.user_id == actor.id
        )
    )
    if sid is None:
        raise NotFound(f"You have no session {session_id}.")
    end_reading()  # the store writes on its own connection (the same SQLite file)
    revocation.session_ending(actor.id, sid)
    with transaction():
        _delete(sid)


def _delete(sid: str) -> None:
    db.session.execute(sa.delete(LoginSession).where(LoginSession.sid == sid))


def end_all_sessions(actor) -> None:
    """End every session of the actor (a logout everywhere)."""
    with transaction():
        revoke_all(db.session.get(User, actor.id))


def forget_expired_sessions() -> int:
    """Delete the rows of sessions whose last refresh token has expired; how many."""
    with transaction():
        removed = db.session.execute(
            sa.delete(LoginSession).where(LoginSession.expires_at <= utcnow())
        ).rowcount
    return removed
