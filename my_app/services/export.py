"""CSV exports of lists: every matching row, as lines of CSV, read in keyset batches.

A batch is read, written and let go before the next one is read, so memory
stays flat however many rows match; they come from the read replica when
it may serve the caller (my_app/replica.py). Cells a spreadsheet would run as a
formula are neutralised as OWASP's CSV injection guidance says: a leading
`=`, `+`, `-`, `@`, tab or carriage return gets a `'` in front.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import Any

from marshmallow import Schema, fields

from my_app import replica
from my_app.services.pagination import Page

BATCH = 500
# ASCII, and the fullwidth forms some spreadsheets also take for = + - @.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def columns(schema: Schema) -> list[str]:
    """The header row: the schema's fields, nested ones flattened (`address.country`)."""
    names = []
    for name, field in schema.fields.items():
        if isinstance(field, fields.Nested):
            names += [f"{name}.{inner}" for inner in columns(field.schema)]
        else:
            names.append(name)
    return names


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def reversible_cell(text: str) -> str:
    """`cell` for a sheet that comes back (`typed_cell`): a leading `'` is marked as well,
    so that dropping one leading `'` on the way in gives back exactly what was written."""
    return "'" + text if text.startswith((*FORMULA_STARTS, "'")) else text


def typed_cell(text: str) -> str:
    """A cell as typed: a leading `'` is a spreadsheet's "this is text" mark, not the value."""
    return text.removeprefix("'")


def lines(fetch: Callable[..., Page], filters: dict[str, Any], schema: Schema) -> Iterator[str]:
    """Every row `fetch(limit=…, cursor=…, **filters)` pages through, dumped by `schema`, as CSV.

    The first batch is read now, before the caller starts answering, so a refusal
    (403, a bad cursor) is raised while a proper error answer can still be given.
    """
    filters = {**filters, "limit": BATCH}
    with replica.reads():
        first = fetch(**filters)
    return _lines(first, fetch, filters, schema)


def _lines(page: Page, fetch, filters: dict[str, Any], schema: Schema) -> Iterator[str]:
    header = columns(schema)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    while True:
        for row in page.items:
            flat = flatten(schema.dump(row))
            writer.writerow([cell(flat.get(name)) for name in header])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if page.next_cursor is None:
            return
        with replica.reads():
            page = fetch(**{**filters, "cursor": page.next_cursor})
