"""The token blacklist: one small interface, two stores.

Keys are opaque strings (`jti:<id>` for one token, `sid:<id>` for a whole
login session). Every entry carries the moment after which it no longer
matters, so stores can forget it: Redis through a TTL, the database through
`flask --app wsgi prune-blacklist`. Both stores are shared by every worker
and every host, and both survive restarts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import redis
import sqlalchemy as sa
from flask import Flask, current_app

EXTENSION_KEY = "blacklist"


class BlacklistUnavailable(RuntimeError):
    """The store cannot be reached; no token may be let through unchecked."""


class Blacklist(Protocol):
    def add(self, key: str, expires_at: datetime) -> bool:
        """Record `key` until `expires_at`; True only for the caller that added it first."""

    def contains_any(self, *keys: str) -> bool:
        """Whether any of `keys` is blacklisted now."""

    def prune(self) -> int:
        """Forget entries past their expiry; return how many were removed."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DatabaseBlacklist:
    """Entries in the `token_blacklist` table, through the request's session."""

    def __init__(self, db):
        self.db = db

    @property
    def _table(self) -> sa.Table:
        from my_app.models.token import BlacklistEntry

        return BlacklistEntry.__table__

    def _insert(self):
        dialect = self.db.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - only the two supported databases
            raise RuntimeError(f"unsupported database {dialect}")
        return insert(self._table)

    def add(self, key: str, expires_at: datetime) -> bool:
        statement = (
            self._insert()
            .values(key=key, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(self._table.c.key)
        )
        # The store owns its writes: an entry is durable, and visible to every
        # worker, as soon as `add` returns.
        inserted = self.db.session.execute(statement).first() is not None
        self.db.session.commit()
        return inserted

    def contains_any(self, *keys: str) -> bool:
        table = self._table
        query = (
            sa.select(sa.literal(1))
            .where(table.c.key.in_(keys), table.c.expires_at > _utcnow())
            .limit(1)
        )
        return self.db.session.execute(query).first() is not None

    def prune(self) -> int:
        table = self._table
        removed = self.db.session.execute(sa.delete(table).where(table.c.expires_at <= _utcnow()))
        self.db.session.commit()
        return removed.rowcount


class RedisBlacklist:
    """Entries as Redis keys whose TTL is the remaining lifetime of what they revoke."""

    def __init__(self, client: redis.Redis, prefix: str):
        self.client = client
        self.prefix = prefix

    def add(self, key: str, expires_at: datetime) -> bool:
        ttl_ms = max(1, int((expires_at - _utcnow()).total_seconds() * 1000))
        try:
            return bool(self.client.set(self.prefix + key, "1", nx=True, px=ttl_ms))
        except redis.RedisError as exc:
            raise BlacklistUnavailable(str(exc)) from exc

    def contains_any(self, *keys: str) -> bool:
        try:
            return self.client.exists(*(self.prefix + key for key in keys)) > 0
        except redis.RedisError as exc:
            raise BlacklistUnavailable(str(exc)) from exc

    def prune(self) -> int:
        return 0  # Redis forgets expired keys by itself.


def make_blacklist(app: Flask) -> Blacklist:
    if app.config["BLACKLIST_BACKEND"] == "redis":
        client = redis.Redis.from_url(
            app.config["REDIS_URL"],
            socket_timeout=2,
            socket_connect_timeout=2,
            health_check_interval=30,
        )
        return RedisBlacklist(client, app.config["BLACKLIST_REDIS_PREFIX"])
    from my_app.extensions import db

    return DatabaseBlacklist(db)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = make_blacklist(app)


def get_blacklist() -> Blacklist:
    return current_app.extensions[EXTENSION_KEY]
