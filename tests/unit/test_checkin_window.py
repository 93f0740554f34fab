"""The check-in window: from 15 minutes before the start until checkin_minutes after it."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from marshmallow import ValidationError

from my_app.schemas.rules import RulesSchema
from my_app.services.followups import checkin_window

START = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)


def _booking(minutes: int = 60):
    return SimpleNamespace(event_time=START, end_time=START + timedelta(minutes=minutes))


def test_the_window_opens_15_minutes_early_and_closes_checkin_minutes_after_the_start():
    opens, closes = checkin_window(_booking(), SimpleNamespace(checkin_minutes=10))
    assert (opens, closes) == (START - timedelta(minutes=15), START + timedelta(minutes=10))


def test_without_checkin_minutes_the_window_closes_at_the_end():
    _, closes = checkin_window(_booking(90), SimpleNamespace(checkin_minutes=None))
    assert closes == START + timedelta(minutes=90)


def test_approval_deadline_hours_take_fractions_of_whole_minutes():
    loaded = RulesSchema().load({"approval_deadline_hours": 0.5, "checkin_minutes": 15})
    assert loaded == {"approval_deadline_hours": 0.5, "checkin_minutes": 15}
    assert RulesSchema().load({"approval_deadline_hours": None}) == {
        "approval_deadline_hours": None
    }


@pytest.mark.parametrize(
    "rules",
    [{"approval_deadline_hours": 0}, {"approval_deadline_hours": 1 / 7},
     {"checkin_minutes": 0}, {"checkin_minutes": 24 * 60 + 1}, {"checkin_minutes": "10"},
     {"reminder_minutes": 0}, {"reminder_minutes": 7 * 24 * 60 + 1}],
)  # fmt: skip
def test_after_acceptance_rules_out_of_range_are_refused(rules):
    with pytest.raises(ValidationError) as refused:
        RulesSchema().load(rules)
    assert set(refused.value.messages) == set(rules)
