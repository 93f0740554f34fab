"""Safe retries: one answer per (user, idempotency key) (IETF httpapi draft).

A key belongs to the user who sent it. The first request with a key claims it
by INSERTing a row that the unique constraint on (user, key) lets exactly one
request win, on PostgreSQL and SQLite alike, and commits the claim before any
work starts. The winner does the work and records its answer (status, content
type and body) on the row; everyone else reads the row:

- same fingerprint, answered: the recorded answer, to be given again;
- same fingerprint, still in flight: 409, retry later;
- another fingerprint (a different request): 422.

A 5xx or an unexpected failure releases the claim, so the client's retry runs
afresh. A claim left in flight for ABANDONED_AFTER (its worker died between
claiming and answering: uWSGI's harakiri stops any request after 30 s) is
taken over by the next request with the key. Keys expire after
`IDEMPOTENCY_HOURS`; an expired key is free again and
`flask --app wsgi prune-blacklist` deletes the dead rows.

The HTTP side (the header, the fingerprint of the request, replaying the
answer) is my_app/resources/idempotency.py.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from my_app import errors
from my_app.extensions import db
from my_app.models import IdempotencyKey
from my_app.models.types import utcnow
from my_app.services.transaction import transaction

HEADER = "Idempotency-Key"  # the key's name in this API, as its errors say it
ABANDONED_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Answer:
    """The first answer given under a key."""

    status: int
    content_type: str | None
    body: str | None


def claim(user_id: int, key: str, fingerprint: str) -> int | Answer:
    """The id of the row this request claimed, or the answer recorded for the key."""
    for _ in range(3):
        now = utcnow()
        try:
            with transaction():
                return _insert(user_id, key, fingerprint, now)
        except IntegrityError:
            pass  # someone holds this key: see what they left
        row = db.session.scalar(
            sa.select(IdempotencyKey).where(
                IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
            )
        )
        if row is None:
            continue  # released (the first attempt failed) or pruned meanwhile
        stale = _staleness(row, now)
        if stale is not None:
            with transaction():  # unless a concurrent request acted on it first
                db.session.execute(
                    sa.delete(IdempotencyKey).where(IdempotencyKey.id == row.id, *stale)
                )
            continue
        answer = _answer_for(row, fingerprint)
        db.session.rollback()
        return answer
    raise errors.Conflict(f"The {HEADER} is busy; retry the request.")


def _insert(user_id: int, key: str, fingerprint: str, now: datetime) -> int:
    return db.session.scalar(
        sa.insert(IdempotencyKey)
        .values(
            user_id=user_id,
            key=key,
            fingerprint=fingerprint,
            created_at=now,
            expires_at=now + timedelta(hours=current_app.config["IDEMPOTENCY_HOURS"]),
        )
        .returning(IdempotencyKey.id)
    )


def _staleness(row: IdempotencyKey, now: datetime) -> tuple | None:
    """What makes the row free to take (expired, or abandoned in flight), or None if it holds."""
    if row.expires_at <= now:
        return (IdempotencyKey.expires_at <= now,)
    if row.status_code is None and row.created_at <= now - ABANDONED_AFTER:
        return (IdempotencyKey.status_code.is_(None), IdempotencyKey.created_at == row.created_at)
    return None


def _answer_for(row: IdempotencyKey, fingerprint: str) -> Answer:
    if row.fingerprint != fingerprint:
        raise errors.UnprocessableEntity(
            {HEADER: ["This key was already used with a different request."]},
            detail=f"The {HEADER} was already used with a different request body.",
        )
    if row.status_code is None:
        raise errors.Conflict(
            f"A request with this {HEADER} is still being processed; retry it shortly."
        )
    return Answer(row.status_code, row.content_type, row.body)


def record(claimed: int, answer: Answer) -> None:
    """Keep the answer given under the claimed key."""
    db.session.rollback()  # whatever the work left open
    with transaction():
        db.session.execute(
            sa.update(IdempotencyKey)
            .where(IdempotencyKey.id == claimed)
            .values(status_code=answer.status, content_type=answer.content_type, body=answer.body)
        )


def release(claimed: int) -> None:
    """Free the key for a retry; if the database itself fails, the key expires in time."""
    with suppress(Exception):  # the failure has its answer already
        db.session.rollback()
        with transaction():
            db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.id == claimed))


def prune(now: datetime | None = None) -> int:
    """Delete expired keys; how many."""
    with transaction():
        result = db.session.execute(
            sa.delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or utcnow()))
        )
    return result.rowcount
