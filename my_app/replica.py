"""Reads that tolerate seconds of lag (CSV exports, calendar feeds, availability) from a
read replica, `DATABASE_REPLICA_URL`, while every caller still sees their own writes.

`with replica.reads():` runs the block's `db.session` queries on the replica, or on the
primary when
- the caller wrote in the last `REPLICA_MAX_LAG_SECONDS` (+ the lag check's age): a
  commit that flushed something pins its caller to the primary for that long, through a
  Redis marker when Redis is configured (every worker and host sees it) and in this
  process. A replica whose lag is within that bound has replayed anything older;
- the replica is down or lags more than `REPLICA_MAX_LAG_SECONDS` (checked at most once a
  second per process; a replica that could not be reached is left alone for longer).

Everything else (revocation checks, account loads, idempotency claims, every read before
a write) never enters such a block, and stays on the primary.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context
from flask_jwt_extended import get_jwt_identity
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from my_app import database
from my_app.extensions import db

log = logging.getLogger(__name__)
EXTENSION_KEY = "replica"
CHECK_SECONDS = 1.0
DOWN_SECONDS = 5.0
# Caught up (all it received is replayed) counts as no lag: an idle primary sends nothing.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 1e9)
END
"""


class Replica:
    def __init__(self, engine: sa.Engine, max_lag: float, markers=None, prefix: str = ""):
        self.engine = engine
        self.max_lag = max_lag
        self.pin_seconds = max_lag + CHECK_SECONDS
        self.markers = markers  # a Redis client, or None: this process only
        self.prefix = prefix
        self._pinned: dict[str, float] = {}
        self._usable = False
        self._checked_until = 0.0
        self._lock = threading.Lock()

    def _marker(self, user_id: str) -> str:
        from blacklist import user_key

        return self.prefix + user_key(user_id, "wrote")

    def pin(self, user_id: str) -> None:
        self._pinned[user_id] = time.monotonic() + self.pin_seconds
        if self.markers is not None:
            try:
                self.markers.set(self._marker(user_id), 1, px=int(self.pin_seconds * 1000))
            except RedisError as error:  # the write is committed; other hosts may read stale
                log.warning("could not pin %s to the primary: %s", user_id, error)

    def pinned(self, user_id: str | None) -> bool:
        if user_id is None:
            return False
        if self._pinned.get(user_id, 0) > time.monotonic():
            return True
        self._pinned.pop(user_id, None)
        if self.markers is None:
            return False
        try:
            return bool(self.markers.exists(self._marker(user_id)))
        except RedisError:
            return True  # cannot tell: the primary is always right

    def usable(self) -> bool:
        """The replica answers and lags at most `max_lag` seconds (as of at most 1 s ago)."""
        now = time.monotonic()
        if now < self._checked_until:
            return self._usable
        with self._lock:
            if now < self._checked_until:
                return self._usable
            try:
                with self.engine.connect() as connection:
                    lag = connection.exec_driver_sql(LAG_SQL).scalar()
                usable, again = float(lag) <= self.max_lag, CHECK_SECONDS
                if not usable:
                    log.warning("the read replica lags %.1f s; reading from the primary", lag)
            except (DBAPIError, PoolTimeout) as error:
                log.warning("the read replica is unavailable; reading from the primary: %s", error)
                usable, again = False, DOWN_SECONDS
            self._usable, self._checked_until = usable, time.monotonic() + again
            return usable


def _replica() -> Replica | None:
    return current_app.extensions.get(EXTENSION_KEY)


def _caller() -> str | None:
    """Who is asking: the subject of the request's verified token, if any."""
    if not has_request_context():
        return None
    try:
        return get_jwt_identity()
    except RuntimeError:  # no token was verified for this request
        return None


@contextmanager
def reads() -> Iterator[None]:
    """Run the block's `db.session` reads on the replica when it may serve this caller."""
    replica = _replica()
    if replica is None or replica.pinned(_caller()) or not replica.usable():
        yield
        return
    registry = db.session.registry
    primary = registry()
    session = Session(bind=replica.engine, autoflush=False)
    # Rows read here may still load relationships: the session lives as long as the
    # primary's (the end of the request, or of a streamed answer).
    primary.info.setdefault("replica_sessions", []).append(session)
    registry.set(session)
    try:
        yield
    finally:
        registry.set(primary)


def _pin_writer(session) -> None:
    if session.info.pop(database.WROTE, False):
        replica = _replica()
        caller = _caller() if replica is not None else None
        if caller is not None:
            replica.pin(caller)


def _note_write(session, _flush_context) -> None:
    session.info[database.WROTE] = True


def _note_statement(state) -> None:
    # UPDATE and DELETE statements run through the session without a flush, and so do
    # SELECTs that write through data-modifying CTEs (marked WRITES).
    writes = state.is_insert or state.is_update or state.is_delete
    if writes or state.execution_options.get(database.WRITES):
        state.session.info[database.WROTE] = True


def _forget_write(session, _previous_transaction) -> None:
    session.info.pop(database.WROTE, None)


def _close_replica_sessions(_exc: BaseException | None) -> None:
    if db.session.registry.has():
        for session in db.session().info.pop("replica_sessions", []):
            session.close()


def init_app(app: Flask) -> None:
    """A replica engine when `DATABASE_REPLICA_URL` is set; call after `database.init_app`."""
    url = app.config["DATABASE_REPLICA_URL"]
    if not url:
        return
    engine = database.make_engine(app, url)
    markers = None
    if app.config["REDIS_URL"]:
        import redis_client

        markers = redis_client.make_client(app.config["REDIS_URL"], timeout=2)
    app.extensions[EXTENSION_KEY] = Replica(
        engine,
        app.config["REPLICA_MAX_LAG_SECONDS"],
        markers,
        app.config["BLACKLIST_REDIS_PREFIX"],
    )
    app.teardown_appcontext(_close_replica_sessions)
    if not sa.event.contains(db.session, "after_flush", _note_write):
        sa.event.listen(db.session, "after_flush", _note_write)
        sa.event.listen(db.session, "do_orm_execute", _note_statement)
        sa.event.listen(db.session, "after_commit", _pin_writer)
        sa.event.listen(db.session, "after_soft_rollback", _forget_write)


def dispose(app: Flask) -> None:
    replica = app.extensions.get(EXTENSION_KEY)
    if replica is not None:
        replica.engine.dispose()
