"""Keyset pagination with opaque cursors.

A cursor is the sort key of the last row of a page, base64url-encoded JSON.
Pages are read with `WHERE (key) > (cursor) ORDER BY key LIMIT n + 1`, so they
stay exact while rows come and go and cost the same on page 1 and page 1,000.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from my_app.errors import UnprocessableEntity


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *converters: Callable[[Any], Any]) -> list[Any]:
    """The values in `cursor`, each passed through its converter (e.g. `int`)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(converters):
            raise ValueError("wrong shape")
        return [convert(value) for convert, value in zip(converters, values, strict=True)]
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise UnprocessableEntity({"cursor": ["Not a cursor returned by this API."]}) from None


def row_id(value: Any) -> int:
    """A cursor's id: an integer a row could have."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**31:
        raise ValueError("not a row id")
    return value


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def page(rows: list[Any], limit: int, key: Callable[[Any], list[Any]]) -> Page:
    """Cut a `limit + 1` fetch to `limit` rows and the cursor of the next page, if any."""
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, encode_cursor(key(rows[-1])))
