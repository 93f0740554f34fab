"""The console's refresh cookie: set by /login and /refresh, accepted by /refresh with CSRF."""

import pytest

from config import load_config
from tests.support.api import bearer


@pytest.fixture
def stack():
    return ("sqlite", "database")


def _cookie(client, name: str, path: str):
    return client.get_cookie(name, domain="localhost", path=path)


def _set_cookie_headers(response, name: str) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]


def _signed_in(api):
    account = api.user()
    return account, api.login(account.username, account.password)


def test_login_sets_an_httponly_strict_refresh_cookie_scoped_to_refresh(api):
    _, response = _signed_in(api)
    assert response.status_code == 200
    (header,) = _set_cookie_headers(response, "refresh_token_cookie")
    assert header.split(";")[0] == f"refresh_token_cookie={response.json['refresh_token']}"
    attributes = {part.strip().lower() for part in header.split(";")[1:]}
    assert {"httponly", "path=/refresh", "samesite=strict"} <= attributes
    assert "secure" not in attributes  # plain HTTP in development and tests
    (csrf,) = _set_cookie_headers(response, "csrf_refresh_token")
    assert "httponly" not in csrf.lower()  # the console's script reads it to send it back


def test_refresh_by_cookie_with_its_csrf_header_rotates_the_cookie(api, client):
    _, login = _signed_in(api)
    csrf = _cookie(client, "csrf_refresh_token", "/app").value
    response = client.post("/refresh", headers={"X-CSRF-TOKEN": csrf})
    assert response.status_code == 200, response.json
    assert response.json["refresh_token"] != login.json["refresh_token"]
    assert (
        _cookie(client, "refresh_token_cookie", "/refresh").value == response.json["refresh_token"]
    )
    assert client.get("/me", headers=bearer(response.json["access_token"])).status_code == 200


def test_refresh_by_cookie_without_the_csrf_header_is_401(api, client):
    _signed_in(api)
    response = client.post("/refresh")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.post("/refresh", headers={"X-CSRF-TOKEN": "not-the-cookie-value"})
    assert wrong.status_code == 401


def test_bearer_refresh_works_as_before_and_sets_no_csrf_requirement(api, app):
    _, login = _signed_in(api)
    fresh_client = app.test_client()  # no cookies at all: an API client
    response = fresh_client.post("/refresh", headers=bearer(login.json["refresh_token"]))
    assert response.status_code == 200, response.json
    assert set(response.json) == {"access_token", "refresh_token", "token_type", "expires_in"}
    again = fresh_client.post("/refresh", headers=bearer(response.json["refresh_token"]))
    assert again.status_code == 200


def test_bearer_header_wins_over_the_cookie(api, client):
    _, login = _signed_in(api)
    # The cookie jar holds a valid refresh cookie; the header carries an access token: 401.
    response = client.post("/refresh", headers=bearer(login.json["access_token"]))
    assert response.status_code == 401
    assert _cookie(client, "refresh_token_cookie", "/refresh") is not None


def test_a_revoked_cookie_is_refused_and_cleared(api, app, client):
    _, login = _signed_in(api)
    other_client = app.test_client()  # the session ends elsewhere, e.g. from the API
    ended = other_client.post("/logout", headers=bearer(login.json["access_token"]))
    assert ended.status_code == 200
    csrf = _cookie(client, "csrf_refresh_token", "/app").value
    response = client.post("/refresh", headers={"X-CSRF-TOKEN": csrf})
    assert response.status_code == 401
    assert _cookie(client, "refresh_token_cookie", "/refresh") is None


def test_logout_clears_the_refresh_cookie(api, client):
    _, login = _signed_in(api)
    assert _cookie(client, "refresh_token_cookie", "/refresh") is not None
    response = client.post("/logout", headers=bearer(login.json["access_token"]))
    assert response.status_code == 200
    assert _cookie(client, "refresh_token_cookie", "/refresh") is None
    assert _cookie(client, "csrf_refresh_token", "/app") is None


def test_logout_everywhere_clears_the_refresh_cookie(api, client):
    _, login = _signed_in(api)
    assert client.post("/logout_all", headers=bearer(login.json["access_token"])).status_code == 200
    assert _cookie(client, "refresh_token_cookie", "/refresh") is None


def test_failed_login_sets_no_cookie(api, client):
    account = api.user()
    client.delete_cookie("refresh_token_cookie", path="/refresh")
    response = api.login(account.username, "wrong password entirely")
    assert response.status_code == 401
    assert not _set_cookie_headers(response, "refresh_token_cookie")


def test_production_marks_the_cookies_secure():
    secret = "x" * 40
    config = load_config(
        "production",
        {"SECRET_KEY": secret, "JWT_SECRET_KEY": "y" * 40, "MAIL_BACKEND": "ses"},
    )
    assert config.JWT_COOKIE_SECURE is True
    assert load_config("development", {}).JWT_COOKIE_SECURE is False
