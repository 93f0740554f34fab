"""SESSION_MAX_DAYS: a session ends that long after its login, however often it is refreshed."""

from datetime import UTC, datetime, timedelta

import jwt
from freezegun import freeze_time

from tests.support.api import ApiClient, assert_problem, bearer


def _expiry(token: str) -> datetime:
    claims = jwt.decode(token, options={"verify_signature": False})
    return datetime.fromtimestamp(claims["exp"], UTC)


def test_a_session_refreshed_every_month_ends_90_days_after_its_login(api):
    login = datetime.now(UTC)
    account = api.user()
    tokens = account.tokens
    for days in (29, 58, 87, 89.9):
        with freeze_time(login + timedelta(days=days)):
            response = api.client.post("/refresh", headers=bearer(tokens["refresh_token"]))
            assert response.status_code == 200, response.json
            tokens = response.json
            # Each new refresh token lives 30 days, but none beyond the session's end.
            assert _expiry(tokens["refresh_token"]) <= login + timedelta(days=90, seconds=5)
    with freeze_time(login + timedelta(days=90, minutes=1)):
        assert_problem(api.client.post("/refresh", headers=bearer(tokens["refresh_token"])), 401)
        assert api.login(account.username).status_code == 200  # a new login, a new session


def test_session_max_days_shorter_than_a_refresh_token_caps_the_first_one(make_app, stack, mailbox):
    app = make_app(blacklist=stack[1], SESSION_MAX_DAYS=2)
    api = ApiClient(app.test_client(), app.test_cli_runner(), mailbox)
    before = datetime.now(UTC)
    account = api.user()
    assert _expiry(account.tokens["refresh_token"]) <= before + timedelta(days=2, seconds=5)
    with freeze_time(before + timedelta(days=2, minutes=1)):
        assert_problem(api.client.post("/refresh", headers=account.refresh_headers), 401)
