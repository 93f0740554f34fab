"""The one error path: domain exceptions and every HTTP error become problem+json (RFC 9457)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from marshmallow import ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from blacklist import BlacklistUnavailable
from my_app import metrics

PROBLEM_MIMETYPE = "application/problem+json"
log = logging.getLogger(__name__)


class AppError(Exception):
    """A failure the client can act on; `status`, `title` and `slug` describe its kind."""

    status = 500
    title = "Internal Server Error"
    slug = "internal-error"

    def __init__(self, detail: str | None = None, **extra: Any):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class BadRequest(AppError):
    status, title, slug = 400, "Bad Request", "bad-request"


class Unauthorized(AppError):
    status, title, slug = 401, "Unauthorized", "unauthorized"


class InvalidToken(Unauthorized):
    """A token that was valid once but no longer speaks for anyone (revoked, account gone)."""

    slug = "invalid-token"


class Forbidden(AppError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(AppError):
    status, title, slug = 404, "Not Found", "not-found"


class Conflict(AppError):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(AppError):
    status, title, slug = 412, "Precondition Failed", "precondition-failed"


class UnprocessableEntity(AppError):
    status, title, slug = 422, "Unprocessable Entity", "validation-error"

    def __init__(self, errors: dict[str, list[str]], detail: str = "The request is invalid."):
        super().__init__(detail, errors=errors)


def problem(
    status: int,
    title: str,
    detail: str,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """Build an `application/problem+json` response."""
    body = {
        "type": f"urn:my-app:problem:{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def unauthorized(detail: str, error: str = "invalid_token") -> Response:
    """A 401 for any token problem, with the RFC 6750 challenge."""
    response = problem(401, "Unauthorized", detail, slug="invalid-token")
    response.headers["WWW-Authenticate"] = f'Bearer error="{error}"'
    return response


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into `{"address.country": [...]}`."""
    if isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            return {prefix or "_schema": list(messages)}
        flat: dict[str, list[str]] = {}
        for index, item in enumerate(messages):
            flat.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    if isinstance(messages, dict):
        flat = {}
        for key, value in messages.items():
            path = str(key) if not prefix else f"{prefix}.{key}"
            if key == "_schema" and prefix:
                path = prefix
            flat.update(flatten_errors(value, path))
        return flat
    return {prefix or "_schema": [str(messages)]}


def handle_app_error(error: AppError) -> Response:
    if isinstance(error, InvalidToken):
        return unauthorized(error.detail)
    return problem(error.status, error.title, error.detail, slug=error.slug, **error.extra)


def handle_validation_error(error: ValidationError) -> Response:
    return handle_app_error(UnprocessableEntity(flatten_errors(error.messages)))


def handle_http_exception(error: HTTPException) -> Response:
    code = error.code or 500
    headers = {}
    if code == 405 and error.get_headers():
        allow = dict(error.get_headers()).get("Allow")
        if allow:
            headers["Allow"] = allow
    detail = error.description or error.name
    if code >= 500:
        detail = "The server could not complete the request."
    return problem(code, error.name, detail, headers=headers)


def handle_unavailable(error: Exception) -> Response:
    # SQLite's extended code tells a lock waited for in vain (SQLITE_BUSY) from one refused
    # at once (SQLITE_BUSY_SNAPSHOT: a read transaction that tried to become a writer).
    code = getattr(getattr(error, "orig", None), "sqlite_errorname", None)
    log.error("dependency unavailable: %s%s", error, f" [{code}]" if code else "")
    return problem(
        503,
        "Service Unavailable",
        "A service this request depends on is unavailable; try again shortly.",
        slug="service-unavailable",
        headers={"Retry-After": "5"},
    )


def handle_blacklist_unavailable(error: BlacklistUnavailable) -> Response:
    metrics.blacklist_error()
    return handle_unavailable(error)


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error", exc_info=error)
    return problem(500, "Internal Server Error", "The server could not complete the request.")


def is_connection_error(error: DBAPIError) -> bool:
    return isinstance(error, OperationalError) or bool(error.connection_invalidated)


def handle_database_error(error: DBAPIError) -> Response:
    if is_connection_error(error):
        return handle_unavailable(error)
    return handle_unexpected(error)


def init_app(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(BlacklistUnavailable, handle_blacklist_unavailable)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(PoolTimeout, handle_unavailable)  # no free connection in time
    app.register_error_handler(RedisError, handle_unavailable)  # e.g. the rate limits' storage
    app.register_error_handler(Exception, handle_unexpected)
