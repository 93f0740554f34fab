"""The console's session when the access token expires: one refresh, then the call again."""

import time
from datetime import timedelta

import pytest

from tests.support.api import PASSWORD


@pytest.fixture
def app(make_app):
    return make_app(JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=2))


def test_an_expired_access_token_is_refreshed_once_and_the_call_retried(browser, api):
    requester = api.user()
    api.booking(requester, topic="Still here after expiry")
    page = browser()
    page.sign_in(requester.username, PASSWORD)
    time.sleep(3)  # the access token in the page's memory has expired
    page.click("My requests", "nav")
    page.wait_text("Still here after expiry")
    assert page.driver.current_url.endswith("/app/requests")
