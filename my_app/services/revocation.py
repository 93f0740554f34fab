"""The revocation store as the services use it: what its keys mean, and its copy of accounts.

`blacklist.py` is the store itself (the database, with Redis as a cache in front)
and knows nothing of my_app. Here are its entries (`jti:<id>` a spent refresh
token, `next:<jti>` the refresh token that replaced it, kept encrypted), the
account columns it copies, and the SQLAlchemy listeners that keep that copy
true: whatever path changes an account (HTTP, CLI, a job), the store hears of it
before the commit (stop trusting the copy) and after it (the new copy).

Each call is one round trip on the store's own connection, never inside the
request's transaction: on SQLite the database store writes to the same file, and
would wait on a unit of work that holds the write lock.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app

import blacklist
from blacklist import Blacklist, BlacklistUnavailable, Check, Tables
from my_app.extensions import db
from my_app.models import BlacklistEntry, LoginSession, User

Claims = dict[str, Any]
ACCOUNT_COLUMNS = (
    "id", "username", "email", "role", "status", "confirmed_at", "created_at", "token_version",
)  # fmt: skip
NONCE_BYTES = 12
log = logging.getLogger(__name__)


def store() -> Blacklist:
    return blacklist.get_blacklist()


def _token_key(claims: Claims) -> str:
    return f"jti:{claims['jti']}"


def _successor_key(claims: Claims) -> str:
    return f"next:{claims['jti']}"


def _token_expiry(claims: Claims) -> datetime:
    return datetime.fromtimestamp(claims["exp"], UTC)


def check(claims: Claims, user_id: int) -> Check:
    """Whether the token's session has ended, and account `user_id` as it is now.

    A refresh token's own spending is judged by the rotation, which knows the grace period.
    """
    return store().check(claims["sid"], user_id)


def session_ending(user_id: int, sid: str) -> None:
    """Every token of `user_id`'s session `sid` is refused from now on; its row goes next."""
    store().session_ending(user_id, sid)


def spend(claims: Claims) -> bool:
    """Mark the refresh token in `claims` spent, now; True only for the first to spend it."""
    spent = json.dumps({"spent_at": time.time()})
    return store().add(_token_key(claims), _token_expiry(claims), value=spent)


def spent_at(claims: Claims) -> float:
    """When the refresh token in `claims` was spent (0 if it is not recorded)."""
    return json.loads(store().get(_token_key(claims)) or "{}").get("spent_at", 0)


def name_successor(claims: Claims, refresh_token: str, until: datetime) -> None:
    """Remember, until `until`, the refresh token that replaced the one in `claims`.

    Encrypted: the database never holds a token that would work if read from it.
    """
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher().encrypt(nonce, refresh_token.encode(), claims["jti"].encode())
    store().add(_successor_key(claims), until, base64.b64encode(nonce + sealed).decode())


def successor(claims: Claims) -> str | None:
    value = store().get(_successor_key(claims))
    if value is None:
        return None
    raw = base64.b64decode(value)
    nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    return _cipher().decrypt(nonce, sealed, claims["jti"].encode()).decode()


def _cipher() -> AESGCM:
    """AES-GCM under a key of its own, derived from the key that signs the tokens."""
    secret = current_app.config["JWT_SECRET_KEY"].encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"my_app/successor")
    return AESGCM(key.derive(secret))


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
            _changing(changed, user.id)
            changed[user.id] = account_record(user)
    for user in session.deleted:
        if isinstance(user, User):
            _changing(changed, user.id)
            changed[user.id] = None


def _changing(changed: dict[int, Any], user_id: int) -> None:
    # Before the commit, so that a failed write to the store fails the unit of work instead
    # of leaving a stale copy behind it.
    if user_id not in changed:
        store().account_changing(user_id)


def _publish_changed_users(session) -> None:
    changed = session.info.pop("changed_accounts", {})
    if changed:
        revocations = store()
        for user_id, record in changed.items():
            try:
                revocations.account_changed(user_id, record)
            except BlacklistUnavailable as error:
                # Committed already, and harmless: the copy is marked as changing, so every
                # reader asks the database until that mark expires (blacklist.RedisBlacklist).
                log.warning("could not cache account %s after a change: %s", user_id, error)


def _forget_changed_users(session, previous_transaction) -> None:
    session.info.pop("changed_accounts", None)


def init_app(app: Flask) -> None:
    tables = Tables(
        entries=BlacklistEntry.__table__,
        sessions=LoginSession.__table__,
        users=User.__table__,
        account_columns=ACCOUNT_COLUMNS,
    )
    revocations = blacklist.make_blacklist(app.config, engine=lambda: db.engine, tables=tables)
    blacklist.init_app(app, revocations)
    if not sa.event.contains(db.session, "after_flush", _remember_changed_users):
        sa.event.listen(db.session, "after_flush", _remember_changed_users)
        sa.event.listen(db.session, "after_commit", _publish_changed_users)
        sa.event.listen(db.session, "after_soft_rollback", _forget_changed_users)
