"""`@idempotent`: the `Idempotency-Key` request header, for safe retries of a POST.

With the header, the request is answered once per (user, key): the first time
it runs, and its answer, an error included, is kept (my_app/services/idempotency.py);
a retry with the same key and body gets that answer again with
`Idempotent-Replayed: true`, and books nothing. Without the header, the
endpoint simply runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps

from flask import Response, request
from flask_jwt_extended import current_user

from my_app import errors
from my_app.digests import sha256
from my_app.resources.endpoint import declaration
from my_app.services import idempotency
from my_app.services.idempotency import HEADER

REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")  # printable ASCII, as a structured-field string
PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": "1-255 printable characters, unique per intended submission: a retry "
    "with the same key and body gets the first answer again and books nothing",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}


def idempotent(view: Callable) -> Callable:
    """Honour `Idempotency-Key`; goes below `@authenticated`, above `@body` and `@response`."""
    doc = declaration(view)
    if doc.auth is not None or doc.response is None or doc.body is None:
        raise TypeError("@idempotent goes below @authenticated and above @body and @response")
    doc.request_headers.append(PARAMETER)
    doc.response_headers[REPLAYED_HEADER] = (
        "`true` when this is the stored answer to an earlier request"
    )
    doc.errors |= {409, 422}  # the key still in flight; the key reused with another body

    @wraps(view)
    def run(self, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(self, *args, **kwargs)
        return _once(_checked(key), lambda: view(self, *args, **kwargs))

    return run


def _once(key: str, call: Callable[[], Response]) -> Response:
    claimed = idempotency.claim(current_user.id, key, fingerprint())
    if isinstance(claimed, idempotency.Answer):
        return _replay(claimed)
    try:
        response = call()
    except Exception as error:
        response = errors.response_for(error)
    except BaseException:
        idempotency.release(claimed)
        raise
    if response.status_code >= 500:
        idempotency.release(claimed)
    else:
        answer = idempotency.Answer(
            response.status_code, response.content_type, response.get_data(as_text=True)
        )
        idempotency.record(claimed, answer)
    return response


def _checked(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise errors.UnprocessableEntity(
            {HEADER: ["Must be 1 to 255 printable ASCII characters."]},
            detail=f"The {HEADER} header is invalid.",
        )
    return key


def fingerprint() -> str:
    """SHA-256 of the method, path and body (JSON compared by value, not by spelling)."""
    raw = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        canonical = raw
    digest = sha256(f"{request.method} {request.path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


def _replay(answer: idempotency.Answer) -> Response:
    response = Response(answer.body, status=answer.status, content_type=answer.content_type)
    response.headers[REPLAYED_HEADER] = "true"
    return response
