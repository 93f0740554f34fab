"""The revocation store: the token blacklist and what it must know of accounts, in one place.

Keys are opaque strings (`jti:<id>` for one token, `sid:<id>` for a whole
login session), named with `user_key` so that the keys one check reads
share a Redis Cluster hash tag (`{u<user id>}`). Every entry carries the
moment after which it no longer matters, so stores can forget it: Redis
through a TTL, the database through `flask --app wsgi prune-blacklist`.
Both stores are shared by every worker and every host, and both survive
restarts.

An authenticated request asks one question, `check`: is the token or its
session revoked, and what is the account's current state (role, status,
token version)? Each store answers it in one round trip: Redis with one
MGET of the blacklist keys and a small per-account record that the
services rewrite whenever they change an account; the database with one
query. Each store does its own I/O, on its own connection: it never commits,
or waits on, the caller's transaction.
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
    revoked: bool
    account: Account | None  # None: the account no longer exists


class Blacklist(Protocol):
    def add(self, key: str, expires_at: datetime, value: str = "1") -> bool:
        """Record `key` until `expires_at`; True only for the caller that added it first."""

    def get(self, key: str) -> str | None:
        """The value recorded under `key`, while it lasts."""

    def check(self, keys: tuple[str, ...], user_id: int) -> Check:
        """Whether any of `keys` is blacklisted now, and the state of account `user_id`."""

    def account_changed(self, user_id: int, account: Account | None) -> None:
        """The account was changed (or deleted, `None`) and the change committed."""

    def prune(self) -> int:
        """Forget entries past their expiry; return how many were removed."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def user_key(user_id: int | str, key: str) -> str:
    """`key` of user `user_id`'s, with the hash tag all of that user's keys share."""
    return f"{{u{user_id}}}:{key}"


def _untagged(key: str) -> str:
    # The database store's rows, and Redis keys written before the tags, have none.
    return key.split("}:", 1)[1] if key.startswith("{") else key


class DatabaseBlacklist:
    """Entries in the blacklist table; the account comes from the same query."""

    def __init__(
        self,
        engine: Callable[[], sa.Engine],
        table: sa.Table,
        users: sa.Table,
        account_columns: tuple[str, ...],
    ):
        self.engine = engine
        self.table = table
        self.users = users
        self.account_columns = account_columns

    def _connect(self) -> sa.Connection:
        # Each statement commits by itself: nothing else rides along, nothing waits.
        return self.engine().connect().execution_options(isolation_level="AUTOCOMMIT")

    def add(self, key: str, expires_at: datetime, value: str = "1") -> bool:
        with self._connect() as connection:
            insert = _insert_for(connection.dialect.name, self.table)
            statement = (
                insert.values(key=_untagged(key), expires_at=expires_at, value=value)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(self.table.c.key)
            )
            return connection.execute(statement).first() is not None

    def get(self, key: str) -> str | None:
        query = sa.select(self.table.c.value).where(
            self.table.c.key == _untagged(key), self.table.c.expires_at > _utcnow()
        )
        with self._connect() as connection:
            return connection.execute(query).scalar()

    def check(self, keys: tuple[str, ...], user_id: int) -> Check:
        listed = (
            sa.select(sa.literal(1))
            .where(
                self.table.c.key.in_([_untagged(key) for key in keys]),
                self.table.c.expires_at > _utcnow(),
            )
            .exists()
        )
        flag = sa.select(listed.label("revoked")).subquery()
        query = sa.select(
            flag.c.revoked, *(self.users.c[name] for name in self.account_columns)
        ).select_from(flag.outerjoin(self.users, self.users.c.id == user_id))
        with self._connect() as connection:
            row = dict(connection.execute(query).mappings().one())
        revoked = bool(row.pop("revoked"))
        return Check(revoked=revoked, account=row if row["id"] is not None else None)

    def account_changed(self, user_id: int, account: Account | None) -> None:
        """Nothing to do: `check` reads the account's row itself."""

    def prune(self) -> int:
        with self._connect() as connection:
            removed = connection.execute(
                sa.delete(self.table).where(self.table.c.expires_at <= _utcnow())
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


class RedisBlacklist:
    """Entries as Redis keys whose TTL is the remaining lifetime of what they revoke.

    Accounts are cached as `acct:<id>` records, written by the services after
    each committed change (and a tombstone on deletion), and otherwise filled
    from the database on a miss with SET NX, so a reader holding an older row
    can never overwrite a newer record. Records expire after `account_ttl`
    seconds, which bounds staleness should a write after a commit be lost.
    """

    def __init__(
        self,
        client,
        prefix: str,
        load_account: Callable[[int], Account | None],
        account_ttl: int = 600,
        legacy_keys: bool = False,
    ):
        self.client = client
        self.prefix = prefix
        self.load_account = load_account
        self.account_ttl = account_ttl
        self.legacy_keys = legacy_keys

    def _account_key(self, user_id: int) -> str:
        return self.prefix + user_key(user_id, "acct")

    def _keys(self, keys: tuple[str, ...]) -> list[str]:
        """The Redis keys of `keys`; on one server, also their names from before the hash
        tags, so that nothing revoked then comes back (one MGET still, on one node)."""
        named = [self.prefix + key for key in keys]
        if self.legacy_keys:
            named += [self.prefix + _untagged(key) for key in keys if key.startswith("{")]
        return named

    def _call(self, operation: Callable[[], Any]) -> Any:
        import redis

        try:
            return operation()
        except redis.RedisError as exc:
            raise BlacklistUnavailable(str(exc)) from exc

    def add(self, key: str, expires_at: datetime, value: str = "1") -> bool:
        ttl_ms = max(1, int((expires_at - _utcnow()).total_seconds() * 1000))
        if self._added_before_tags(key):  # e.g. a refresh token spent then: not first now
            return False
        return bool(
            self._call(lambda: self.client.set(self.prefix + key, value, nx=True, px=ttl_ms))
        )

    def _added_before_tags(self, key: str) -> bool:
        legacy = _untagged(key)
        if not self.legacy_keys or legacy == key:
            return False
        return bool(self._call(lambda: self.client.exists(self.prefix + legacy)))

    def get(self, key: str) -> str | None:
        value = self._call(lambda: self.client.get(self.prefix + key))
        return None if value is None else value.decode()

    def check(self, keys: tuple[str, ...], user_id: int) -> Check:
        # One MGET: a revocation marker's value means it is there; the last is the record.
        *markers, record = self._call(
            lambda: self.client.mget([*self._keys(keys), self._account_key(user_id)])
        )
        listed = sum(marker is not None for marker in markers)
        if record is None:
            account = self.load_account(user_id)
            self._store(user_id, account, only_if_absent=True)
        else:
            account = json.loads(record)
        return Check(revoked=listed > 0, account=account)

    def account_changed(self, user_id: int, account: Account | None) -> None:
        self._store(user_id, account, only_if_absent=False)

    def _store(self, user_id: int, account: Account | None, only_if_absent: bool) -> None:
        record = json.dumps(account, default=_json_default)  # null: a tombstone
        self._call(
            lambda: self.client.set(
                self._account_key(user_id), record, ex=self.account_ttl, nx=only_if_absent
            )
        )

    def prune(self) -> int:
        return 0  # Redis forgets expired keys by itself.


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in an account record")


EXTENSION_KEY = "blacklist"


def make_blacklist(
    config: dict[str, Any],
    engine: Callable[[], sa.Engine],
    table: sa.Table,
    users: sa.Table,
    account_columns: tuple[str, ...],
    load_account: Callable[[int], Account | None],
) -> Blacklist:
    """The store `config` asks for, given the tables it keeps and reads."""
    if config["BLACKLIST_BACKEND"] == "redis":
        import redis_client

        client = redis_client.make_client(config["REDIS_URL"], timeout=2)
        legacy_keys = not redis_client.is_cluster(client)
        return RedisBlacklist(
            client, config["BLACKLIST_REDIS_PREFIX"], load_account, legacy_keys=legacy_keys
        )
    return DatabaseBlacklist(engine, table, users, account_columns)


def init_app(app, store: Blacklist) -> None:
    app.extensions[EXTENSION_KEY] = store


def get_blacklist() -> Blacklist:
    from flask import current_app

    return current_app.extensions[EXTENSION_KEY]
