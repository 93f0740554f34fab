"""The resource sheet's cells: what each form means, and dump then load gives back the values."""

from types import SimpleNamespace

import pytest
from marshmallow import ValidationError

from my_app.models.booking import RULE_NAMES
from my_app.schemas.resource_csv import dump_row, load_row
from my_app.services.export import reversible_cell, typed_cell

WEEK = {"mon": [["08:00", "12:00"], ["13:00", "24:00"]], "tue": [], "wed": [], "thu": [],
        "fri": [], "sat": [["10:00", "11:30"]], "sun": []}  # fmt: skip


def _resource(**rules):
    every = dict.fromkeys(RULE_NAMES)
    return SimpleNamespace(
        name="Room", description="", active=True, time_zone="UTC", approval="required",
        rules=every | rules,
    )  # fmt: skip


@pytest.mark.parametrize(
    "rules",
    [
        {},
        {"opening_hours": WEEK, "buffer_minutes": 0, "quota": {"hours": 1 / 60, "per": "day"}},
        {"opening_hours": {day: [] for day in WEEK}, "quota": {"hours": 744, "per": "month"}},
        {"min_notice_minutes": 5, "max_advance_days": 3660, "min_duration_minutes": 1,
         "max_duration_minutes": 10080},
        {"checkin_minutes": 15, "reminder_minutes": 60, "approval_deadline_hours": 0.5},
    ],
)  # fmt: skip
def test_a_dumped_row_loads_back_to_the_same_rules(rules):
    loaded = load_row(dump_row(_resource(**rules)))
    expected = _resource(**rules).rules
    assert {**expected, **loaded["rules"]} == expected


def test_opening_hours_and_quota_cells_read_as_the_json_forms():
    cells = {
        "name": "Room",
        "opening_hours": " Mon=08:00-12:00  13:00-18:00 ; sat=",
        "quota": "1.5 / Week",
    }
    rules = load_row(cells)["rules"]
    assert rules["opening_hours"]["mon"] == [["08:00", "12:00"], ["13:00", "18:00"]]
    assert rules["opening_hours"]["sat"] == rules["opening_hours"]["tue"] == []
    assert rules["quota"] == {"hours": 1.5, "per": "week"}


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ({"opening_hours": "mon 08:00-12:00"}, "opening_hours"),
        ({"opening_hours": "mon=08:00-12:00;mon=13:00-14:00"}, "opening_hours"),
        ({"opening_hours": "monday=08:00-12:00"}, "opening_hours"),
        ({"opening_hours": "mon=08:00"}, "opening_hours"),
        ({"opening_hours": "mon=8:00-12:00"}, "opening_hours.mon.0.0"),
        ({"quota": "10"}, "quota"),
        ({"quota": "nan/day"}, "quota"),
        ({"quota": "0/day"}, "quota.hours"),
        ({"buffer_minutes": "1e3"}, "buffer_minutes"),
        ({"active": "yes"}, "active"),
        ({"name": " "}, "name"),
    ],
)
def test_a_cell_in_the_wrong_form_is_refused_under_its_column(cells, column):
    with pytest.raises(ValidationError) as refused:
        load_row({"name": "Room", **cells})
    flat = str(refused.value.messages)
    assert column.split(".")[0] in refused.value.messages, flat


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@SUM(A1)", "'quoted", "''", "plain", ""])
def test_the_formula_mark_comes_off_exactly_as_it_went_on(text):
    assert typed_cell(reversible_cell(text)) == text
    assert not reversible_cell(text).startswith(("=", "+", "-", "@"))
