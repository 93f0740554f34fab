"""The revocation store: what a token check asks, answered by the database, cached in Redis.

The database is the source of truth for everything that must not be
forgotten: a session is live while its row is (the `sessions` table), an
account is what its row says (its token version), and a spent refresh token
with its successor are entries of the `token_blacklist` table. Every entry
carries the moment after which it no longer matters, so it can be forgotten
(`flask --app wsgi prune-blacklist`).

An authenticated request asks one question, `check`: is the token's session
live, and what is the account now (role, status, token version)? The
database answers in one query. Redis, when configured, answers it in one
MGET from explicit records — a session marked live or ended, an account's
columns or its deletion — and a key it lacks means "ask the database", never
"valid": losing Redis's data (a flush, an eviction, a failover) loses
nothing. Each store does its own I/O on its own connection: it never commits,
or waits on, the caller's transaction. This module knows nothing of my_app.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa

Account = dict[str, Any]  # the public columns of a user row, JSON-friendly


class BlacklistUnavailable(RuntimeError):
    """The store cannot be reached; no token may be let through unchecked."""


@dataclass(frozen=True)
class Check:
    revoked: bool  # the session has ended (or never was)
    account: Account | None  # None: the account no longer exists
    session_ends: datetime | None = None  # while live: when the session ends at the latest


@dataclass(frozen=True)
class Tables:
    """What the database store reads and writes, and which account columns it copies."""

    entries: sa.Table
    sessions: sa.Table
    users: sa.Table
    account_columns: tuple[str, ...]


class Blacklist(Protocol):
    def add(self, key: str, expires_at: datetime, value: str = "1") -> bool:
        """Record `key` until `expires_at`; True only for the caller that added it first."""

    def get(self, key: str) -> str | None:
        """The value recorded under `key`, while it lasts."""

    def check(self, sid: str, user_id: int) -> Check:
        """Whether session `sid` of account `user_id` has ended, and the account's state."""

    def session_ending(self, user_id: int, sid: str) -> None:
        """Session `sid` of `user_id` is about to end (its row to go): refuse its tokens now."""

    def account_changing(self, user_id: int) -> None:
        """The account is being changed, not yet committed: stop trusting any copy of it."""

    def account_changed(self, user_id: int, account: Account | None) -> None:
        """The account was changed (or deleted, `None`) and the change committed."""

    def prune(self) -> int:
        """Forget entries past their expiry; return how many were removed."""


def user_key(user_id: int | str, key: str) -> str:
    """`key` of user `user_id`'s, with the hash tag all of that user's keys share, so that
    the keys one check reads together live in one Redis Cluster slot."""
    return f"{{u{user_id}}}:{key}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DatabaseBlacklist:
    """The source of truth: entries in their table, sessions and accounts in theirs."""

    def __init__(self, engine: Callable[[], sa.Engine], tables: Tables):
        self.engine = engine
        self.tables = tables

    def _connect(self) -> sa.Connection:
        # Each statement commits by itself: nothing else rides along, nothing waits.
        return self.engine().connect().execution_options(isolation_level="AUTOCOMMIT")

    def add(self, key: str, expires_at: datetime, value: str = "1") -> bool:
        entries = self.tables.entries
        with self._connect() as connection:
            insert = _insert_for(connection.dialect.name, entries)
            statement = (
                insert.values(key=key, expires_at=expires_at, value=value)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(entries.c.key)
            )
            return connection.execute(statement).first() is not None

    def get(self, key: str) -> str | None:
        entries = self.tables.entries
        query = sa.select(entries.c.value).where(
            entries.c.key == key, entries.c.expires_at > _utcnow()
        )
        with self._connect() as connection:
            return connection.execute(query).scalar()

    def check(self, sid: str, user_id: int) -> Check:
        sessions, users = self.tables.sessions, self.tables.users
        session = (
            sa.select(sessions.c.expires_at)
            .where(
                sessions.c.sid == sid,
                sessions.c.user_id == user_id,
                sessions.c.expires_at > _utcnow(),
            )
            .scalar_subquery()
        )
        columns = (users.c[name] for name in self.tables.account_columns)
        # One row whether or not the account exists: the session's end, left-joined to it.
        flag = sa.select(session.label("session_ends")).subquery()
        query = sa.select(flag.c.session_ends, *columns).select_from(
            flag.outerjoin(users, users.c.id == user_id)
        )
        with self._connect() as connection:
            row = dict(connection.execute(query).mappings().one())
        ends = row.pop("session_ends")
        return Check(
            revoked=ends is None,
            account=row if row["id"] is not None else None,
            session_ends=ends,
        )

    def session_ending(self, user_id: int, sid: str) -> None:
        """Nothing to do: `check` reads the session's row itself."""

    def account_changing(self, user_id: int) -> None:
        """Nothing to do: `check` reads the account's row itself."""

    def account_changed(self, user_id: int, account: Account | None) -> None:
        """Nothing to do: `check` reads the account's row itself."""

    def prune(self) -> int:
        entries = self.tables.entries
        with self._connect() as connection:
            removed = connection.execute(
                sa.delete(entries).where(entries.c.expires_at <= _utcnow())
            )
            return removed.rowcount


def _insert_for(dialect: str, table: sa.Table):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database {dialect}")
    return insert(table)


LIVE, ENDED = b"live", b"ended"
CHANGING = b'"changing"'


class RedisBlacklist:
    """A cache in Redis in front of the database store, holding explicit answers only.

    `sess:<sid>` is `live` or `ended`; `acct:<id>` is the account's columns, `null`
    for a deleted account, or `"changing"` while a change is being committed. A
    missing key, or `"changing"`, sends `check` to the database, whose answer is
    written back with SET NX: a reader holding an older answer can never
    overwrite a newer record, nor a `"changing"` one. Records live `ttl` seconds
    (a live session no longer than the session); entries (spent refresh tokens)
    go to the database only.

    A writer marks first and commits after: `session_ending` writes `ended`
    before the row goes, `account_changing` writes `"changing"` before the commit
    and `account_changed` the new record after it. Should that last write fail,
    the `"changing"` marker expires after `changing_ttl` seconds (longer than any
    unit of work may last), and readers meanwhile ask the database: no copy is
    ever stale, however a write to Redis fails.
    """

    def __init__(
        self,
        client,
        prefix: str,
        database: DatabaseBlacklist,
        ttl: int = 600,
        changing_ttl: int = 60,
    ):
        self.client = client
        self.prefix = prefix
        self.database = database
        self.ttl = ttl
        self.changing_ttl = changing_ttl

    def _account_key(self, user_id: int) -> str:
        return self.prefix + user_key(user_id, "acct")

    def _session_key(self, user_id: int, sid: str) -> str:
        return self.prefix + user_key(user_id, f"sess:{sid}")

    def _call(self, operation: Callable[[], Any]) -> Any:
        import redis

        try:
            return operation()
        except redis.RedisError as exc:
            raise BlacklistUnavailable(str(exc)) from exc

    def add(self, key: str, expires_at: datetime, value: str = "1") -> bool:
        return self.database.add(key, expires_at, value)

    def get(self, key: str) -> str | None:
        return self.database.get(key)

    def check(self, sid: str, user_id: int) -> Check:
        session_key, account_key = self._session_key(user_id, sid), self._account_key(user_id)
        session, record = self._call(lambda: self.client.mget([session_key, account_key]))
        if session == ENDED:
            return Check(revoked=True, account=None)
        if session == LIVE and record is not None and record != CHANGING:
            return Check(revoked=False, account=json.loads(record))
        found = self.database.check(sid, user_id)
        self._call(lambda: self._fill(session_key, account_key, found))
        return found

    def _fill(self, session_key: str, account_key: str, found: Check) -> None:
        pipeline = self.client.pipeline(transaction=False)
        if found.revoked:
            pipeline.set(session_key, ENDED, ex=self.ttl, nx=True)
        else:
            remaining = (found.session_ends - _utcnow()).total_seconds()
            ttl_ms = max(1, int(min(self.ttl, remaining) * 1000))
            pipeline.set(session_key, LIVE, px=ttl_ms, nx=True)
        pipeline.set(account_key, _record(found.account), ex=self.ttl, nx=True)
        pipeline.execute()

    def session_ending(self, user_id: int, sid: str) -> None:
        key = self._session_key(user_id, sid)
        self._call(lambda: self.client.set(key, ENDED, ex=self.ttl))

    def account_changing(self, user_id: int) -> None:
        key = self._account_key(user_id)
        self._call(lambda: self.client.set(key, CHANGING, ex=self.changing_ttl))

    def account_changed(self, user_id: int, account: Account | None) -> None:
        key = self._account_key(user_id)
        self._call(lambda: self.client.set(key, _record(account), ex=self.ttl))

    def prune(self) -> int:
        return self.database.prune()  # Redis forgets its records by itself


def _record(account: Account | None) -> str:
    return json.dumps(account, default=_json_default)  # null: a deleted account


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in an account record")


EXTENSION_KEY = "blacklist"


def make_blacklist(
    config: dict[str, Any], engine: Callable[[], sa.Engine], tables: Tables
) -> Blacklist:
    """The store `config` asks for, over the tables it keeps and reads."""
    database = DatabaseBlacklist(engine, tables)
    if config["BLACKLIST_BACKEND"] != "redis":
        return database
    import redis_client

    client = redis_client.make_client(config["REDIS_URL"], timeout=2)
    return RedisBlacklist(client, config["BLACKLIST_REDIS_PREFIX"], database)


def init_app(app, store: Blacklist) -> None:
    app.extensions[EXTENSION_KEY] = store


def get_blacklist() -> Blacklist:
    from flask import current_app

    return current_app.extensions[EXTENSION_KEY]
