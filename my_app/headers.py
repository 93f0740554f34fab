"""Response headers every API answer carries."""

from flask import Flask, Response

API_MIMETYPES = {"application/json", "application/problem+json"}


def _secure(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype in API_MIMETYPES:
        # Bodies hold tokens and personal data: no shared or browser caching.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_secure)
