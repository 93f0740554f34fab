"""Sessions: /refresh rotation and reuse detection, /logout, /logout_all, forged tokens."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from flask_jwt_extended import create_access_token

from tests.conftest import ALL_STACKS
from tests.support.api import ApiClient, bearer
from tests.support.concurrency import at_once


@pytest.fixture(params=ALL_STACKS)
def stack(request):
    """Sessions are checked on every blacklist store, PostgreSQL's table included."""
    return request.param


def _assert_refused(response):
    assert response.status_code == 401, response.json
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_refresh_returns_a_new_pair_and_spends_the_old_token(api):
    account = api.user()
    response = api.client.post("/refresh", headers=account.refresh_headers)
    assert response.status_code == 200
    pair = response.json
    assert pair["token_type"] == "Bearer"
    assert pair["refresh_token"] != account.tokens["refresh_token"]
    assert api.client.get("/me", headers=bearer(pair["access_token"])).status_code == 200
    assert api.client.post("/refresh", headers=bearer(pair["refresh_token"])).status_code == 200


@pytest.fixture
def graceless_api(stack, make_app, mailbox):
    """The API with REFRESH_GRACE_SECONDS=0: every second presentation is a reuse."""
    app = make_app(blacklist=stack[1], REFRESH_GRACE_SECONDS=0)
    return ApiClient(app.test_client(), app.test_cli_runner(), mailbox)


def test_reusing_a_spent_refresh_token_after_the_grace_revokes_the_whole_session(graceless_api):
    api = graceless_api
    account = api.user()
    rotated = api.client.post("/refresh", headers=account.refresh_headers).json
    _assert_refused(api.client.post("/refresh", headers=account.refresh_headers))
    _assert_refused(api.client.get("/me", headers=bearer(rotated["access_token"])))
    _assert_refused(api.client.post("/refresh", headers=bearer(rotated["refresh_token"])))
    _assert_refused(api.client.get("/me", headers=account.headers))


def test_reuse_ends_only_that_session(graceless_api):
    api = graceless_api
    account = api.user()
    other = api.login(account.username).json
    api.client.post("/refresh", headers=account.refresh_headers)
    api.client.post("/refresh", headers=account.refresh_headers)
    assert api.client.get("/me", headers=bearer(other["access_token"])).status_code == 200


def test_a_refresh_retried_within_the_grace_gets_the_same_successor(api):
    account = api.user()
    first = api.client.post("/refresh", headers=account.refresh_headers).json
    again = api.client.post("/refresh", headers=account.refresh_headers)
    assert again.status_code == 200
    assert again.json["refresh_token"] == first["refresh_token"]
    assert api.client.get("/me", headers=bearer(again.json["access_token"])).status_code == 200
    assert api.client.get("/me", headers=bearer(first["access_token"])).status_code == 200
    assert api.client.post("/refresh", headers=bearer(first["refresh_token"])).status_code == 200


def test_ten_simultaneous_refreshes_with_one_token_leave_one_working_session(app, api):
    account = api.user()

    def refresh(client):
        response = client.post("/refresh", headers=account.refresh_headers)
        return response.status_code, response.json

    results = at_once(app, [refresh] * 10)
    assert [status for status, _ in results] == [200] * 10, results
    successors = {body["refresh_token"] for _, body in results}
    assert len(successors) == 1  # one session, one chain
    for _, body in results:
        assert api.client.get("/me", headers=bearer(body["access_token"])).status_code == 200
    (successor,) = successors
    assert api.client.post("/refresh", headers=bearer(successor)).status_code == 200


def test_access_token_is_refused_by_refresh(api):
    account = api.user()
    _assert_refused(api.client.post("/refresh", headers=account.headers))


def test_refresh_token_is_refused_where_an_access_token_is_needed(api):
    account = api.user()
    _assert_refused(api.client.get("/me", headers=account.refresh_headers))


def test_logout_revokes_the_access_and_refresh_token_of_that_login(api):
    account = api.user()
    other = api.login(account.username).json
    response = api.client.post("/logout", headers=account.headers)
    assert response.status_code == 200
    assert "message" in response.json
    _assert_refused(api.client.get("/me", headers=account.headers))
    _assert_refused(api.client.post("/refresh", headers=account.refresh_headers))
    _assert_refused(api.client.post("/logout", headers=account.headers))
    assert api.client.get("/me", headers=bearer(other["access_token"])).status_code == 200


def test_logout_also_revokes_tokens_rotated_from_that_login(api):
    account = api.user()
    rotated = api.client.post("/refresh", headers=account.refresh_headers).json
    api.client.post("/logout", headers=bearer(rotated["access_token"]))
    _assert_refused(api.client.post("/refresh", headers=bearer(rotated["refresh_token"])))


def test_logout_all_revokes_every_session_of_the_user_only(api):
    account = api.user()
    second = api.login(account.username).json
    bystander = api.user()
    assert api.client.post("/logout_all", headers=account.headers).status_code == 200
    _assert_refused(api.client.get("/me", headers=account.headers))
    _assert_refused(api.client.get("/me", headers=bearer(second["access_token"])))
    _assert_refused(api.client.post("/refresh", headers=bearer(second["refresh_token"])))
    assert api.client.get("/me", headers=bystander.headers).status_code == 200
    assert api.login(account.username).status_code == 200


def test_revocation_survives_a_restart(api, make_app, stack):
    account = api.user()
    api.client.post("/logout", headers=account.headers)
    restarted = make_app(blacklist=stack[1]).test_client()
    _assert_refused(restarted.get("/me", headers=account.headers))


def _segments(token):
    def decode(part):
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    header, payload, signature = token.split(".")
    return decode(header), decode(payload), signature


def _encode(part):
    return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")


def test_alg_none_token_is_401(api):
    account = api.user()
    _, payload, _ = _segments(account.tokens["access_token"])
    forged = f"{_encode({'alg': 'none', 'typ': 'JWT'})}.{_encode(payload)}."
    _assert_refused(api.client.get("/me", headers=bearer(forged)))


def test_token_with_altered_claims_is_401(api):
    victim = api.user()
    attacker = api.user()
    header, payload, signature = _segments(attacker.tokens["access_token"])
    payload["sub"] = str(victim.id)
    forged = f"{_encode(header)}.{_encode(payload)}.{signature}"
    _assert_refused(api.client.get("/me", headers=bearer(forged)))


def test_token_signed_with_another_key_is_401(api, app):
    account = api.user()
    real_key = app.config["JWT_SECRET_KEY"]
    app.config["JWT_SECRET_KEY"] = "an-attacker-key-that-is-long-enough-0000"
    with app.app_context():
        forged = create_access_token(
            identity=str(account.id), additional_claims={"sid": "x", "ver": 1}
        )
    app.config["JWT_SECRET_KEY"] = real_key
    _assert_refused(api.client.get("/me", headers=bearer(forged)))


def test_expired_token_is_401(api, app):
    account = api.user()
    with app.app_context():
        expired = create_access_token(
            identity=str(account.id),
            additional_claims={"sid": "s", "ver": 1},
            expires_delta=timedelta(seconds=-5),
        )
    response = api.client.get("/me", headers=bearer(expired))
    _assert_refused(response)
    assert "expired" in response.json["detail"]


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "Bearer not-a-jwt", "Token x"],
)
def test_missing_or_malformed_authorization_is_401(api, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    _assert_refused(api.client.get("/me", headers=headers))


def test_token_of_a_deleted_user_is_401(api):
    account = api.user()
    admin = api.admin()
    assert api.client.delete(f"/user/{account.id}", headers=admin.headers).status_code == 200
    _assert_refused(api.client.get("/me", headers=account.headers))
    _assert_refused(api.client.post("/refresh", headers=account.refresh_headers))


def test_token_of_a_disabled_user_is_401_and_stays_dead_after_reenabling(api):
    account = api.user()
    admin = api.admin()
    patch = {"status": "disabled"}
    assert (
        api.client.patch(f"/user/{account.id}", json=patch, headers=admin.headers).status_code
        == 200
    )
    _assert_refused(api.client.get("/me", headers=account.headers))
    api.client.patch(f"/user/{account.id}", json={"status": "active"}, headers=admin.headers)
    _assert_refused(api.client.get("/me", headers=account.headers))
    assert api.login(account.username).status_code == 200


@pytest.mark.parametrize("stack", [("sqlite", "database")])
def test_token_errors_are_401_with_testing_off(make_app, stack):
    client = make_app(blacklist=stack[1], TESTING=False).test_client()
    for headers in ({}, bearer("a.b.c"), bearer("x")):
        _assert_refused(client.get("/me", headers=headers))
        _assert_refused(client.post("/refresh", headers=headers))


def test_tokens_name_their_issuer_and_audience_and_others_are_401(api, app):
    account = api.user()
    _, payload, _ = _segments(account.tokens["access_token"])
    assert payload["iss"] == payload["aud"] == "my_app"
    key = app.config["JWT_SECRET_KEY"]

    def sign(claims):
        return bearer(jwt.encode(claims, key, algorithm="HS256"))

    assert api.client.get("/me", headers=sign(payload)).status_code == 200
    for claim in ("iss", "aud"):
        without = {name: value for name, value in payload.items() if name != claim}
        _assert_refused(api.client.get("/me", headers=sign(without)))
    for claim, value in (("iss", "another-issuer"), ("aud", "another-service")):
        _assert_refused(api.client.get("/me", headers=sign({**payload, claim: value})))
