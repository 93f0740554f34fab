"""The resource sheet: a resource as one CSV row of text cells, and back.

Cells are written the way people type them in a spreadsheet, then loaded by the
same schema as `PATCH /resources/<id>`, so a cell is refused with PATCH's message:

    name,description,active,time_zone,approval,min_notice_minutes,...,opening_hours,quota
    Room A,,true,Europe/Berlin,auto,60,,,,15,mon=08:00-12:00 13:00-18:00;tue=08:00-18:00,10/week

An empty cell is the column's default: no rule, no description, active, "UTC",
approval "required". `opening_hours` lists days as `day=HH:MM-HH:MM …` separated by
`;` (a day left out is closed); `quota` is hours per period, `10/week` or `1.5/day`.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, validate

from my_app.models.booking import RULE_NAMES
from my_app.schemas.base import NonBlank
from my_app.schemas.booking import ResourceUpdateSchema
from my_app.schemas.rules import DAYS, Hours

COLUMNS = ("name", "description", "active", "time_zone", "approval", *RULE_NAMES)
DEFAULTS = {"description": "", "active": True, "time_zone": "UTC", "approval": "required"}
OPENING_HOURS_FORM = "Write opening hours as mon=08:00-12:00 13:00-18:00;tue=08:00-18:00."
QUOTA_FORM = "Write a quota as hours/period, e.g. 10/week or 1.5/day."
_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")
_DECIMAL = re.compile(r"[+-]?[0-9]{1,12}\.[0-9]{1,12}")  # approval_deadline_hours: 0.5
_QUOTA = re.compile(r"([0-9]{1,6}(?:\.[0-9]{1,20})?)\s*/\s*([a-z]{1,8})")
_SPAN = re.compile(r"([0-9:]{1,5})-([0-9:]{1,5})")


class ResourceRowSchema(ResourceUpdateSchema):
    """One row: what PATCH takes, with the name that matches the row to its resource."""

    name = NonBlank(required=True, validate=validate.Length(max=120))


_ROW = ResourceRowSchema()


def load_row(cells: dict[str, str]) -> dict[str, Any]:
    """The row's changes in PATCH's shape (rules under `rules`); ValidationError by column."""
    values, errors = {}, {}
    for column, text in cells.items():
        try:
            values[column] = _value(column, text)
        except ValidationError as error:
            errors[column] = error.messages
    rules = {name: values.pop(name) for name in RULE_NAMES if name in values}
    try:
        data = _ROW.load({**values, **({"rules": rules} if rules else {})})
    except ValidationError as error:
        messages = dict(error.messages)
        errors |= messages.pop("rules", {}) | messages
    if errors:
        raise ValidationError(errors)
    return data


def _value(column: str, text: str) -> Any:
    if text.strip() == "" and column != "name":
        return DEFAULTS.get(column)
    if column == "active":
        return {"true": True, "false": False}.get(text.strip().lower(), text)
    if column == "opening_hours":
        return _opening_hours(text)
    if column == "quota":
        return _quota(text)
    if column in RULE_NAMES:
        number = text.strip()
        if _INTEGER.fullmatch(number):
            return int(number)
        return float(number) if _DECIMAL.fullmatch(number) else text
    return text


def _opening_hours(text: str) -> dict[str, list]:
    week: dict[str, list] = {}
    for part in filter(None, (part.strip() for part in text.split(";"))):
        day, equals, spans = part.partition("=")
        day = day.strip().lower()
        if not equals or day not in DAYS or day in week:
            raise ValidationError(f"{OPENING_HOURS_FORM} Each of {', '.join(DAYS)} at most once.")
        week[day] = [_span(span) for span in spans.split()]
    return week


def _span(text: str) -> list[str]:
    match = _SPAN.fullmatch(text)
    if match is None:
        raise ValidationError(OPENING_HOURS_FORM)
    return list(match.groups())


def _quota(text: str) -> dict[str, Any]:
    match = _QUOTA.fullmatch(text.strip().lower())
    if match is None:
        raise ValidationError(QUOTA_FORM)
    hours, per = match.groups()
    return {"hours": float(hours), "per": per}


def dump_row(resource: Any) -> dict[str, str]:
    """The resource's cells, in the forms `load_row` reads back to the same values."""
    rules = resource.rules
    row = {
        "name": resource.name,
        "description": resource.description,
        "active": "true" if resource.active else "false",
        "time_zone": resource.time_zone,
        "approval": resource.approval,
    }
    for name in RULE_NAMES:
        value = rules[name]
        row[name] = "" if value is None else str(value)
    if (week := rules["opening_hours"]) is not None:
        days = (f"{day}=" + " ".join(f"{a}-{b}" for a, b in week.get(day, [])) for day in DAYS)
        row["opening_hours"] = ";".join(days)
    if rules["quota"] is not None:
        hours = Hours()._serialize(rules["quota"]["hours"], "hours", None)
        row["quota"] = f"{hours!r}/{rules['quota']['per']}"
    return row
