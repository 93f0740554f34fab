"""Opaque keyset cursors: what they encode and what they refuse."""

import pytest

from my_app.errors import UnprocessableEntity
from my_app.services.pagination import Page, decode_cursor, encode_cursor, page, row_id


def test_a_cursor_round_trips_its_values_without_padding():
    cursor = encode_cursor(["2030-01-01T00:00:00+00:00", 42])
    assert "=" not in cursor
    assert decode_cursor(cursor, str, row_id) == ["2030-01-01T00:00:00+00:00", 42]


@pytest.mark.parametrize(
    "cursor",
    ["abc", "%%%", "", encode_cursor({"id": 1}), encode_cursor([1, 2]), encode_cursor(["x"])],
)
def test_a_cursor_that_is_not_ours_is_422_naming_the_cursor(cursor):
    with pytest.raises(UnprocessableEntity) as caught:
        decode_cursor(cursor, row_id)
    assert caught.value.extra["errors"] == {"cursor": ["Not a cursor returned by this API."]}


@pytest.mark.parametrize("value", [0, -1, 2**31, 2**70, True, "1", 1.5, None])
def test_row_id_refuses_what_no_row_can_have(value):
    with pytest.raises(ValueError):
        row_id(value)


@pytest.mark.parametrize("value", [1, 2**31 - 1])
def test_row_id_accepts_32_bit_ids(value):
    assert row_id(value) == value


def test_page_cuts_the_extra_row_and_points_after_the_last_kept():
    cut = page([1, 2, 3], limit=2, key=lambda row: [row])
    assert cut.items == [1, 2]
    assert decode_cursor(cut.next_cursor, row_id) == [2]


def test_the_last_page_has_no_cursor():
    assert page([1, 2], limit=2, key=lambda row: [row]) == Page([1, 2], None)
