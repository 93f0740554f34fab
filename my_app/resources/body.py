"""Reading request bodies."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import UnsupportedMediaType


def read_json() -> Any:
    """The request's JSON body (415 if not JSON, 400 if malformed)."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the request body as application/json.")
    return request.get_json()
