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
    ("accepted", "released"),
}


@pytest.mark.parametrize("to_status", BOOKING_STATUSES)
@pytest.mark.parametrize("from_status", BOOKING_STATUSES)
def test_only_the_documented_moves_are_allowed(from_status, to_status):
    assert can_move(from_status, to_status) is ((from_status, to_status) in ALLOWED)


def test_rejected_cancelled_expired_and_released_are_final():
    assert set(TRANSITIONS) == {"pending", "accepted"}
    finals = ("rejected", "cancelled", "expired", "released")
    assert not any(can_move(final, to) for final in finals
                   for to in BOOKING_STATUSES)  # fmt: skip


def test_an_unknown_status_moves_nowhere():
    assert not can_move("archived", "pending")
    assert not can_move("pending", "archived")
