"""JWT sessions: issuing pairs, rotating refresh tokens, revocation, and who a token speaks for.

A login starts a session (`sid`), shared by every token pair it yields.
Refresh rotates: the presented refresh token is spent atomically through the
revocation store, so of several concurrent uses one spends it. Presented
again within `REFRESH_GRACE_SECONDS` (two tabs, a retried request), it gets
the same successor refresh token and a fresh access token: one session, one
chain. Presented after that, it is theft: the whole session ends (reuse
detection). `ver` is the user's token version: bumping it ends every
session of that user.

Every authenticated request costs one round trip to the store (`check`),
which answers whether the token is revoked and what the account looks like
now; `current_user` is that `Account`, not a database row.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy.orm import make_transient_to_detached

import blacklist
from blacklist import get_blacklist
from my_app.errors import InvalidToken, NotFound
from my_app.extensions import db
from my_app.models import BlacklistEntry, LoginSession, User
from my_app.models.session import USER_AGENT_LENGTH
from my_app.models.types import utcnow
from my_app.models.user import AccountRules
from my_app.schemas.base import MAX_ID

Claims = dict[str, Any]
ACCOUNT_COLUMNS = (
    "id", "username", "email", "role", "status", "confirmed_at", "created_at", "token_version",
)  # fmt: skip
SUCCESSOR_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Account(AccountRules):
    """The caller as the revocation store knows them: enough to authorize and to show."""

    id: int
    username: str
    email: str
    role: str
    status: str
    confirmed_at: datetime | None
    created_at: datetime
    token_version: int

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Account:
        values = dict(record)
        for name in ("confirmed_at", "created_at"):
            if isinstance(values[name], str):
                values[name] = datetime.fromisoformat(values[name])
        return cls(**values)


def as_user(account: Account | User) -> User:
    """The account as a `User` of this request's session, without reading the row again.

    Built from the revocation store's copy (which the services keep current) and added
    to the session as an unchanged, persistent row; a column the copy lacks loads from
    the database if something asks for it. Relationships to the caller (a request's
    `requested_by`, `decided_by`) then cost no query.
    """
    if isinstance(account, User):
        return account
    key = sa.inspect(User).identity_key_from_primary_key((account.id,))
    held = db.session.identity_map.get(key)
    if held is not None:
        return held
    user = User(**{name: getattr(account, name) for name in ACCOUNT_COLUMNS})
    make_transient_to_detached(user)
    db.session.add(user)
    return user


def _record(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in ACCOUNT_COLUMNS}


def _load_account(user_id: int) -> dict[str, Any] | None:
    """An account's columns, read on a connection of its own (not the request's session)."""
    users = User.__table__
    query = sa.select(*(users.c[name] for name in ACCOUNT_COLUMNS)).where(users.c.id == user_id)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(query).mappings().first()
    return None if row is None else dict(row)


# ---------------------------------------------------------------- issuing


def _jti_key(claims: Claims) -> str:
    return blacklist.user_key(claims["sub"], f"jti:{claims['jti']}")


def _sid_key(claims: Claims) -> str:
    return blacklist.user_key(claims["sub"], f"sid:{claims['sid']}")


def _successor_key(claims: Claims) -> str:
    return blacklist.user_key(claims["sub"], f"next:{claims['jti']}")


def _token_expiry(claims: Claims) -> datetime:
    return datetime.fromtimestamp(claims["exp"], UTC)


def _session_expiry() -> datetime:
    # No token of a session outlives the newest refresh token, issued at the latest now.
    return datetime.now(UTC) + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]


def _access_token(account: Account | User, sid: str) -> str:
    claims = {"sid": sid, "ver": account.token_version}
    return create_access_token(identity=str(account.id), additional_claims=claims)


def _pair(access_token: str, refresh_token: str) -> dict[str, Any]:
    return {
        "access_token": access_token,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()),
    }


def issue_pair(account: Account | User, sid: str | None = None) -> dict[str, Any]:
    """A token pair of session `sid`, or of a new session (a login), which gets its row."""
    if sid is None:
        sid = uuid.uuid4().hex
        _start_session(account.id, sid)
    claims = {"sid": sid, "ver": account.token_version}
    refresh_token = create_refresh_token(identity=str(account.id), additional_claims=claims)
    return _pair(_access_token(account, sid), refresh_token)


def rotate(claims: Claims, account: Account) -> dict[str, Any]:
    """Spend the refresh token in `claims` and hand out the session's next pair."""
    store = get_blacklist()
    now = time.time()
    if store.add(_jti_key(claims), _token_expiry(claims), value=json.dumps({"spent_at": now})):
        pair = issue_pair(account, sid=claims["sid"])
        grace = timedelta(seconds=current_app.config["REFRESH_GRACE_SECONDS"])
        store.add(_successor_key(claims), datetime.now(UTC) + grace, pair["refresh_token"])
        _touch_session(claims["sid"])  # after the successor: a racing twin need not wait on it
        return pair
    successor = _successor_within_grace(store, claims)
    if successor is None:
        end_session(claims)
        raise InvalidToken("This refresh token has already been used; the session is ended.")
    return _pair(_access_token(account, claims["sid"]), successor)


def _successor_within_grace(store, claims: Claims) -> str | None:
    """The refresh token that replaced this spent one, if it was spent a moment ago."""
    spent = json.loads(store.get(_jti_key(claims)) or "{}")
    grace = current_app.config["REFRESH_GRACE_SECONDS"]
    deadline = spent.get("spent_at", 0) + grace
    while time.time() < deadline:
        successor = store.get(_successor_key(claims))
        if successor is not None:
            return successor
        time.sleep(SUCCESSOR_POLL_SECONDS)  # the first refresh is still being answered
    return None


# ---------------------------------------------------------------- session rows (GET /sessions)


def _client() -> tuple[str | None, str | None]:
    if not has_request_context():
        return None, None
    address = (request.remote_addr or "")[:64] or None
    agent = request.user_agent.string[:USER_AGENT_LENGTH] or None
    return address, agent


def _start_session(user_id: int, sid: str) -> None:
    address, agent = _client()
    now = utcnow()
    db.session.add(
        LoginSession(
            sid=sid,
            user_id=user_id,
            created_at=now,
            last_used_at=now,
            expires_at=_session_expiry(),
            ip=address,
            user_agent=agent,
        )
    )
    db.session.commit()


def _touch_session(sid: str) -> None:
    """A refresh: the session was used now, and lives as long as its newest refresh token."""
    address, _ = _client()
    values: dict[str, Any] = {"last_used_at": utcnow(), "expires_at": _session_expiry()}
    if address:
        values["ip"] = address
    db.session.execute(sa.update(LoginSession).where(LoginSession.sid == sid).values(**values))
    db.session.commit()


def forget_sessions(user_id: int, keep_sid: str | None = None) -> None:
    """Delete the rows of `user_id`'s sessions (all but `keep_sid`); the caller commits."""
    query = sa.delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep_sid is not None:
        query = query.where(LoginSession.sid != keep_sid)
    db.session.execute(query)


def list_sessions(actor: Account, current_sid: str | None) -> list[dict[str, Any]]:
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


def end_session_by_id(actor: Account, session_id: int) -> None:
    """End one of the actor's sessions, as its own logout would; another's is not found."""
    row = db.session.scalar(
        sa.select(LoginSession).where(
            LoginSession.id == session_id, LoginSession.user_id == actor.id
        )
    )
    if row is None:
        raise NotFound(f"You have no session {session_id}.")
    sid = row.sid
    db.session.commit()  # the store writes on its own connection: hold no read lock (SQLite)
    end_session({"sid": sid, "sub": str(actor.id)})


def forget_expired_sessions() -> int:
    """Delete the rows of sessions whose last refresh token has expired; how many."""
    removed = db.session.execute(
        sa.delete(LoginSession).where(LoginSession.expires_at <= utcnow())
    ).rowcount
    db.session.commit()
    return removed


# ---------------------------------------------------------------- revoking


def end_session(claims: Claims) -> None:
    """Revoke every token of the session `claims` belongs to, everywhere at once."""
    get_blacklist().add(_sid_key(claims), _session_expiry())
    db.session.execute(sa.delete(LoginSession).where(LoginSession.sid == claims["sid"]))
    db.session.commit()


def revoke_all_sessions(user: User, keep_sid: str | None = None) -> None:
    """Make every token `user` holds invalid from the next request on; the caller commits.

    `keep_sid`'s row stays, for a session that goes on with a pair of the new version.
    """
    user.token_version += 1
    forget_sessions(user.id, keep_sid)


def end_all_sessions(actor: Account) -> None:
    revoke_all_sessions(db.session.get(User, actor.id))
    db.session.commit()


# ---------------------------------------------------------------- checking


def _user_id(claims: Claims) -> int:
    subject = claims.get("sub")
    if not (isinstance(subject, str) and subject.isascii() and subject.isdigit()):
        raise InvalidToken("The token does not name a user.")
    user_id = int(subject)
    if not 0 < user_id <= MAX_ID:
        raise InvalidToken("The token's account no longer exists.")
    return user_id


def is_revoked(claims: Claims) -> bool:
    """The one store round trip of a protected request; remembers the account for `load_user`.

    A refresh token's own spending is judged by `rotate`, which knows the grace period.
    """
    if "sid" not in claims or "jti" not in claims:
        raise InvalidToken("The token has been revoked.")
    user_id = _user_id(claims)
    keys = (_sid_key(claims),) if claims.get("type") == "refresh" else (
        _jti_key(claims), _sid_key(claims),
    )  # fmt: skip
    check = get_blacklist().check(keys, user_id)
    g.token_account = check.account
    return check.revoked


def load_user(claims: Claims) -> Account:
    """The account a valid token speaks for; refuses tokens of deleted, disabled or reset ones."""
    record = g.pop("token_account", None)
    if record is None:
        raise InvalidToken("The token's account no longer exists.")
    account = Account.from_record(record)
    if claims.get("ver") != account.token_version:
        raise InvalidToken("The token has been revoked.")
    if not account.is_active:
        raise InvalidToken("The token's account is disabled.")
    return account


# ---------------------------------------------------------------- keeping the store current


def _remember_changed_users(session, flush_context) -> None:
    changed = session.info.setdefault("changed_accounts", {})
    for user in session.dirty | session.new:
        if isinstance(user, User):
            changed[user.id] = _record(user)
    for user in session.deleted:
        if isinstance(user, User):
            changed[user.id] = None


def _publish_changed_users(session) -> None:
    changed = session.info.pop("changed_accounts", {})
    if changed:
        store = get_blacklist()
        for user_id, record in changed.items():
            store.account_changed(user_id, record)


def _forget_changed_users(session, previous_transaction) -> None:
    session.info.pop("changed_accounts", None)


def init_app(app: Flask) -> None:
    store = blacklist.make_blacklist(
        app.config,
        engine=lambda: db.engine,
        table=BlacklistEntry.__table__,
        users=User.__table__,
        account_columns=ACCOUNT_COLUMNS,
        load_account=_load_account,
    )
    blacklist.init_app(app, store)
    if not sa.event.contains(db.session, "after_flush", _remember_changed_users):
        # Whatever path changes an account (HTTP, CLI, a job), the store hears of it after commit.
        sa.event.listen(db.session, "after_flush", _remember_changed_users)
        sa.event.listen(db.session, "after_commit", _publish_changed_users)
        sa.event.listen(db.session, "after_soft_rollback", _forget_changed_users)
