"""The booking state machine's table: which status may move where."""

import pytest

from my_app.models.booking import BOOKING_STATUSES
from my_app.services.bookings import TRANSITIONS, can_move

ALLOWED = {
    ("pending", "accepted"),
    ("pending", "rejected"),
    ("pending", "cancelled"),
    ("pending", "expired"),
    ("accepted", "cancelled"),
}


@pytest.mark.parametrize("to_status", BOOKING_STATUSES)
@pytest.mark.parametrize("from_status", BOOKING_STATUSES)
def test_only_the_documented_moves_are_allowed(from_status, to_status):
    assert can_move(from_status, to_status) is ((from_status, to_status) in ALLOWED)


def test_rejected_cancelled_and_expired_are_final():
    assert set(TRANSITIONS) == {"pending", "accepted"}
    assert not any(can_move(final, to) for final in ("rejected", "cancelled", "expired")
                   for to in BOOKING_STATUSES)  # fmt: skip


def test_an_unknown_status_moves_nowhere():
    assert not can_move("archived", "pending")
    assert not can_move("pending", "archived")
