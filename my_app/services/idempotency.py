"""Safe retries: the `Idempotency-Key` request header (IETF httpapi draft).

A key belongs to the user who sent it. The first request with a key claims it
by INSERTing a row that the unique constraint on (user, key) lets exactly one
request win, on PostgreSQL and SQLite alike, and commits the claim before any
work starts. The winner runs the endpoint and stores its answer (status and
body) on the row; everyone else reads the row:

- same fingerprint, answered: the stored answer again, `Idempotent-Replayed: true`;
- same fingerprint, still in flight: 409, retry later;
- another fingerprint (a different body): 422.

A 5xx or an unexpected failure releases the claim, so the client's retry runs
afresh. A claim left in flight for ABANDONED_AFTER (its worker died between
claiming and answering: uWSGI's harakiri stops any request after 30 s) is
taken over by the next request with the key. Keys expire after
`IDEMPOTENCY_HOURS`; an expired key is free again and
`flask --app wsgi prune-blacklist` deletes the dead rows.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Response, current_app, request
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from my_app import errors
from my_app.extensions import db
from my_app.models import IdempotencyKey
from my_app.models.types import utcnow

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")  # printable ASCII, as a structured-field string
ABANDONED_AFTER = timedelta(minutes=2)


def fingerprint() -> str:
    """SHA-256 of the method, path and body (JSON compared by value, not by spelling)."""
    raw = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = raw
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


def check_key(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise errors.UnprocessableEntity(
            {HEADER: ["Must be 1 to 255 printable ASCII characters."]},
            detail=f"The {HEADER} header is invalid.",
        )
    return key


def run(user_id: int, key: str, call: Callable[[], Response]) -> Response:
    """Answer the request once per (user, key): run `call` the first time, replay after."""
    key = check_key(key)
    print_ = fingerprint()
    claimed = _claim(user_id, key, print_)
    if isinstance(claimed, Response):
        return claimed
    try:
        response = call()
    except (errors.AppError, ValidationError, HTTPException) as error:
        response = _render_error(error)
    except BaseException:
        _release(claimed)
        raise
    if response.status_code >= 500:
        _release(claimed)
    else:
        _record(claimed, response)
    return response


def _claim(user_id: int, key: str, print_: str) -> int | Response:
    """The id of the row this request claimed, or the answer for a key already claimed."""
    for _ in range(3):
        now = utcnow()
        try:
            claimed = db.session.scalar(
                sa.insert(IdempotencyKey)
                .values(
                    user_id=user_id,
                    key=key,
                    fingerprint=print_,
                    created_at=now,
                    expires_at=now + timedelta(hours=current_app.config["IDEMPOTENCY_HOURS"]),
                )
                .returning(IdempotencyKey.id)
            )
            db.session.commit()
            return claimed
        except IntegrityError:
            db.session.rollback()  # someone holds this key: see what they left
        row = db.session.scalar(
            sa.select(IdempotencyKey).where(
                IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
            )
        )
        if row is None:
            continue  # released (the first attempt failed) or pruned meanwhile
        if row.expires_at <= now:
            _delete(row.id, IdempotencyKey.expires_at <= now)
            continue
        if row.status_code is None and row.created_at <= now - ABANDONED_AFTER:
            in_flight = IdempotencyKey.status_code.is_(None)
            _delete(row.id, in_flight, IdempotencyKey.created_at == row.created_at)
            continue
        answer = _answer_for(row, print_)
        db.session.rollback()
        return answer
    raise errors.Conflict(f"The {HEADER} is busy; retry the request.")


def _answer_for(row: IdempotencyKey, print_: str) -> Response:
    if row.fingerprint != print_:
        raise errors.UnprocessableEntity(
            {HEADER: ["This key was already used with a different request."]},
            detail=f"The {HEADER} was already used with a different request body.",
        )
    if row.status_code is None:
        raise errors.Conflict(
            f"A request with this {HEADER} is still being processed; retry it shortly."
        )
    response = Response(row.body, status=row.status_code, content_type=row.content_type)
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _record(claimed: int, response: Response) -> None:
    db.session.rollback()  # whatever the endpoint left open
    db.session.execute(
        sa.update(IdempotencyKey)
        .where(IdempotencyKey.id == claimed)
        .values(
            status_code=response.status_code,
            content_type=response.content_type,
            body=response.get_data(as_text=True),
        )
    )
    db.session.commit()


def _release(claimed: int) -> None:
    try:
        db.session.rollback()
        _delete(claimed)
    except Exception:  # the database itself failed: the key expires in time anyway
        db.session.rollback()


def _delete(row_id: int, *conditions) -> None:
    """Delete the row if it still meets `conditions` (a concurrent request may have acted)."""
    db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.id == row_id, *conditions))
    db.session.commit()


def _render_error(error: Exception) -> Response:
    db.session.rollback()
    if isinstance(error, ValidationError):
        return errors.handle_validation_error(error)
    if isinstance(error, HTTPException):
        return errors.handle_http_exception(error)
    return errors.handle_app_error(error)


def prune(now: datetime | None = None) -> int:
    """Delete expired keys; how many."""
    result = db.session.execute(
        sa.delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or utcnow()))
    )
    db.session.commit()
    return result.rowcount
