"""POST /login and the password rules behind it."""

import threading

import bcrypt
import pytest

from my_app.extensions import limiter
from my_app.services import accounts
from tests.support.api import PASSWORD, assert_problem


def test_login_by_username_returns_a_bearer_pair(api):
    account = api.user("alice")
    response = api.login("alice")
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert api.client.get("/me", headers=account.headers).json["id"] == account.id


def test_login_by_email_in_any_case(api):
    api.user("bob")
    assert api.login("BOB@example.com").status_code == 200


def test_login_username_is_case_insensitive_and_trimmed(api):
    api.user("carol")
    assert api.login("  Carol ").status_code == 200


def test_unknown_user_and_wrong_password_get_the_same_401(api):
    api.user("dave")
    unknown = api.login("nobody")
    wrong = api.login("dave", "wrong password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json == wrong.json
    assert unknown.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_user_still_spends_a_bcrypt_check(api, monkeypatch):
    api.user("erin")
    calls = []
    real_checkpw = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: calls.append(1) or real_checkpw(*a))
    api.login("nobody")
    api.login("erin", "wrong password")
    assert len(calls) == 2


def test_a_login_whose_password_changes_during_its_check_gets_a_dead_pair(api, app, monkeypatch):
    """The pair carries the token version read with the hash that was checked: a password
    changed (every session ended) while bcrypt ran leaves that login's pair refused."""
    account = api.user("heidi")
    real_verify = accounts.verify_password

    def verify_while_the_password_changes(password, password_hash):
        matched = real_verify(password, password_hash)

        def rotate():  # another request, on its own session
            with app.app_context():
                accounts.replace_password(account.id, "a brand new passphrase")

        thread = threading.Thread(target=rotate)
        thread.start()
        thread.join()
        return matched

    monkeypatch.setattr(accounts, "verify_password", verify_while_the_password_changes)
    response = api.login("heidi")
    monkeypatch.undo()
    assert response.status_code == 200
    assert_problem(api.client.get("/me", headers=account.headers), 401)  # the earlier pair
    late = {"Authorization": f"Bearer {response.json['access_token']}"}
    assert_problem(api.client.get("/me", headers=late), 401)
    assert api.login("heidi", "a brand new passphrase").status_code == 200


def test_unconfirmed_account_is_403_only_after_the_right_password(api):
    api.register("frank")
    assert api.login("frank", "wrong password").status_code == 401
    response = api.login("frank")
    assert response.status_code == 403
    assert "onfirm" in response.json["detail"]


def test_disabled_account_is_403_only_after_the_right_password(api):
    admin = api.admin()
    user = api.user("grace")
    api.client.patch(f"/user/{user.id}", json={"status": "disabled"}, headers=admin.headers)
    assert api.login("grace", "wrong password").status_code == 401
    assert api.login("grace").status_code == 403


# The password hashing rules themselves: tests/unit/test_passwords.py.


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "x"},
        {"password": PASSWORD},
        {"username": "", "password": PASSWORD},
        {"username": "x", "password": PASSWORD, "remember": True},
    ],
)
def test_login_invalid_body_is_422(api, body):
    response = api.client.post("/login", json=body)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


def test_failed_logins_are_throttled(make_app, stack):
    """More in tests/accounts/test_rate_limits.py; here, that /login is limited at all."""
    app = make_app(blacklist=stack[1], RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_FAILURES="3/minute")
    with app.app_context():
        limiter.reset()  # the limiter object outlives each test's app
    client = app.test_client()
    statuses = [
        client.post("/login", json={"username": "x", "password": "y"}).status_code for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
