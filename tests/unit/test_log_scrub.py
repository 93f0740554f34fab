"""What a log line may say about a request target (my_app/log.py)."""

import pytest

from my_app.log import safe_path, scrub


@pytest.mark.parametrize(
    "target, logged",
    [
        ("/resources/1/calendar.ics?token=abc", "/resources/1/calendar.ics"),
        ("/user_confirm/eyJ.abc.def", "/user_confirm/..."),
        ("/USER_CONFIRM/eyJ.abc.def?next=1", "/user_confirm/..."),
        ("/user_confirm", "/user_confirm"),  # no token to hide
        ("/app/reset-password?token=abc&x=1", "/app/reset-password"),
        ("/me", "/me"),
    ],
)
def test_safe_path_drops_the_query_and_masks_confirmation_tokens(target, logged):
    assert safe_path(target) == logged


def test_scrub_cleans_a_quoted_request_line_and_keeps_the_rest():
    line = '127.0.0.1 - - [x] "GET /user_confirm/tok?a=b HTTP/1.1" 400 - "GET /x?token=t"'
    assert scrub(line) == '127.0.0.1 - - [x] "GET /user_confirm/... HTTP/1.1" 400 - "GET /x"'
