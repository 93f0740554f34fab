"""The revocation store as the services use it: what its keys mean, and its copy of accounts.

`blacklist.py` is the store itself (Redis or a table) and knows nothing of my_app.
Here are its keys (`jti:<id>` one token, `sid:<id>` a whole login session,
`next:<jti>` the refresh token that replaced a spent one; each under its user's
hash tag, `blacklist.user_key`, so one check reads one Redis Cluster slot), the account columns it
copies, and the SQLAlchemy listeners that keep that copy current: whatever path
changes an account (HTTP, CLI, a job), the store hears of it after the commit.

Each call is one round trip on the store's own connection, never inside the
request's transaction: on SQLite the database store writes to the same file, and
would wait on a unit of work that holds the write lock.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask

import blacklist
from blacklist import Blacklist, Check
from my_app.extensions import db
from my_app.models import BlacklistEntry, User

Claims = dict[str, Any]
ACCOUNT_COLUMNS = (
    "id", "username", "email", "role", "status", "confirmed_at", "created_at", "token_version",
)  # fmt: skip


def store() -> Blacklist:
    return blacklist.get_blacklist()


def _token_key(claims: Claims) -> str:
    return blacklist.user_key(claims["sub"], f"jti:{claims['jti']}")


def _session_key(user_id: int, sid: str) -> str:
    return blacklist.user_key(user_id, f"sid:{sid}")


def _successor_key(claims: Claims) -> str:
    return blacklist.user_key(claims["sub"], f"next:{claims['jti']}")


def _token_expiry(claims: Claims) -> datetime:
    return datetime.fromtimestamp(claims["exp"], UTC)


def check(claims: Claims, user_id: int) -> Check:
    """Whether the token (or its session) is revoked, and account `user_id` as it is now.

    A refresh token's own spending is judged by the rotation, which knows the grace period.
    """
    keys = (_session_key(user_id, claims["sid"]),)
    if claims.get("type") != "refresh":
        keys = (_token_key(claims), *keys)
    return store().check(keys, user_id)


def revoke_session(user_id: int, sid: str, until: datetime) -> None:
    """Every token of `user_id`'s session `sid` is refused from now on (until none could be
    valid)."""
    store().add(_session_key(user_id, sid), until)


def spend(claims: Claims) -> bool:
    """Mark the refresh token in `claims` spent, now; True only for the first to spend it."""
    spent = json.dumps({"spent_at": time.time()})
    return store().add(_token_key(claims), _token_expiry(claims), value=spent)


def spent_at(claims: Claims) -> float:
    """When the refresh token in `claims` was spent (0 if it is not recorded)."""
    return json.loads(store().get(_token_key(claims)) or "{}").get("spent_at", 0)


def name_successor(claims: Claims, refresh_token: str, until: datetime) -> None:
    """Remember, until `until`, the refresh token that replaced the one in `claims`."""
    store().add(_successor_key(claims), until, refresh_token)


def successor(claims: Claims) -> str | None:
    return store().get(_successor_key(claims))


def prune() -> int:
    """Forget entries past their expiry (the database store; Redis forgets by itself)."""
    return store().prune()


# ---------------------------------------------------------------- the store's copy of accounts


def account_record(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in ACCOUNT_COLUMNS}


def load_account(user_id: int) -> dict[str, Any] | None:
    """An account's columns, read on a connection of its own (not the request's session)."""
    users = User.__table__
    query = sa.select(*(users.c[name] for name in ACCOUNT_COLUMNS)).where(users.c.id == user_id)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(query).mappings().first()
    return None if row is None else dict(row)


def _remember_changed_users(session, flush_context) -> None:
    changed = session.info.setdefault("changed_accounts", {})
    for user in session.dirty | session.new:
        if isinstance(user, User):
            changed[user.id] = account_record(user)
    for user in session.deleted:
        if isinstance(user, User):
            changed[user.id] = None


def _publish_changed_users(session) -> None:
    changed = session.info.pop("changed_accounts", {})
    if changed:
        revocations = store()
        for user_id, record in changed.items():
            revocations.account_changed(user_id, record)


def _forget_changed_users(session, previous_transaction) -> None:
    session.info.pop("changed_accounts", None)


def init_app(app: Flask) -> None:
    revocations = blacklist.make_blacklist(
        app.config,
        engine=lambda: db.engine,
        table=BlacklistEntry.__table__,
        users=User.__table__,
        account_columns=ACCOUNT_COLUMNS,
        load_account=load_account,
    )
    blacklist.init_app(app, revocations)
    if not sa.event.contains(db.session, "after_flush", _remember_changed_users):
        sa.event.listen(db.session, "after_flush", _remember_changed_users)
        sa.event.listen(db.session, "after_commit", _publish_changed_users)
        sa.event.listen(db.session, "after_soft_rollback", _forget_changed_users)
