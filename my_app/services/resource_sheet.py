"""Resources in bulk: the CSV sheet admins export, edit and import back.

A sheet's rows are matched to resources by name, case-insensitively like the
unique index. An import is one unit of work: every row is checked first, and if
any line is wrong nothing is stored and the report says why, line by line.
Cells are neutralised against spreadsheet formulas on the way out and the mark
taken off on the way in (services/export.py), so a round trip changes nothing.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError

from my_app.errors import flatten_errors
from my_app.extensions import db
from my_app.models import BookableResource, User
from my_app.schemas.resource_csv import COLUMNS, dump_row, load_row
from my_app.services import catalog, export
from my_app.services.permissions import require_admin
from my_app.services.transaction import transaction

MAX_REPORTED = 100  # lines with errors the report names; a sheet refused once is fixed once
LINE = "_line"  # the key of errors about a whole line rather than one cell


def export_sheet(actor: User) -> str:
    """Every resource as a CSV row in COLUMNS, header first."""
    require_admin(actor)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for resource in db.session.scalars(sa.select(BookableResource).order_by(BookableResource.id)):
        row = dump_row(resource)
        writer.writerow([export.reversible_cell(row[column]) for column in COLUMNS])
    return buffer.getvalue()


def import_sheet(actor: User, text: str) -> dict[str, Any]:
    """Create or update the sheet's resources, all or none: `{"created", "updated", "errors"}`."""
    require_admin(actor)
    rows, errors = _read(text)
    with transaction(conflict="A resource of the sheet was created meanwhile; import it again."):
        existing = {r.name.lower(): r for r in db.session.scalars(sa.select(BookableResource))}
        first_line: dict[str, int] = {}
        for line, data in rows:
            key = data["name"].lower()
            if key in first_line:
                errors.append(_error(line, "name", f"Line {first_line[key]} names it too."))
                continue
            first_line[key] = line
            if conflicts := _conflicts(existing.get(key), data.get("rules", {})):
                errors.append({"line": line, "errors": conflicts})
        if errors:
            errors.sort(key=lambda error: error["line"])
            return {"created": 0, "updated": 0, "errors": errors[:MAX_REPORTED]}
        created = updated = 0
        for _line, data in rows:
            resource = existing.get(data["name"].lower())
            if resource is None:
                resource = BookableResource()
                _apply(resource, data)
                db.session.add(resource)
                created += 1
            elif _apply(resource, data):
                updated += 1
    return {"created": created, "updated": updated, "errors": []}


def _read(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
    """The rows loaded, by first line, and the lines refused."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[dict[str, Any]] = []
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        if problems := _header_problems(header):
            return rows, [{"line": 1, "errors": {LINE: problems}}]
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not cells:
                continue  # a blank line
            if len(cells) != len(header):
                message = f"The line has {len(cells)} cells; the header names {len(header)}."
                errors.append(_error(start, LINE, message))
                continue
            try:
                typed = map(export.typed_cell, cells)
                rows.append((start, load_row(dict(zip(header, typed, strict=True)))))
            except ValidationError as error:
                errors.append({"line": start, "errors": flatten_errors(error.messages)})
    except csv.Error as error:  # a cell larger than the csv module takes, or bad quoting
        errors.append(_error(reader.line_num or 1, LINE, f"Not readable as CSV: {error}."))
    return rows, errors


def _header_problems(header: list[str]) -> list[str]:
    known = ", ".join(COLUMNS)
    if "name" not in header:
        return [f"The first line names the columns: name, then any of {known}."]
    problems = [f"Unknown column {name[:40]!r}." for name in header if name not in COLUMNS]
    problems += [f"Column {name!r} twice." for name in COLUMNS if header.count(name) > 1]
    return problems + ([f"The columns are {known}."] if problems else [])


def _error(line: int, key: str, message: str) -> dict[str, Any]:
    return {"line": line, "errors": {key: [message]}}


def _conflicts(resource: BookableResource | None, rules: dict[str, Any]) -> dict[str, list[str]]:
    """Rules each valid but wrong together, once the row's are merged into the resource's."""

    def merged(name: str) -> Any:
        return rules.get(name, getattr(resource, name) if resource is not None else None)

    return catalog.rule_conflicts(merged("min_duration_minutes"), merged("max_duration_minutes"))


def _apply(resource: BookableResource, data: dict[str, Any]) -> bool:
    """Set the row's values on the resource; whether any of them changed it."""
    changed = False
    for field, value in (data | data.get("rules", {})).items():
        if field != "rules" and getattr(resource, field) != value:
            setattr(resource, field, value)
            changed = True
    return changed
