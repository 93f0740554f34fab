"""POST /forgot_password, POST /reset_password and POST /change_password, over HTTP."""

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from freezegun import freeze_time

from tests.support.api import bearer
from tests.support.environ import PUBLIC_BASE_URL

NEW_PASSWORD = "a brand new passphrase"
PROBLEM = "application/problem+json"


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _forgot(api, email: str):
    return api.client.post("/forgot_password", json={"email": email})


def _reset(api, token: str, password: str = NEW_PASSWORD):
    return api.client.post("/reset_password", json={"token": token, "password": password})


def _reset_token(api, account) -> str:
    count = sum(m["Subject"] == "Reset your password" for m in api.mailbox.to(account.email)) + 1
    assert _forgot(api, account.email).status_code == 202
    return _token(api.mailbox.reset_link(account.email, count))


# ---------------------------------------------------------------- forgot


def test_forgot_answers_the_same_whether_or_not_the_address_exists(api, mailbox):
    account = api.user("alice")
    known = _forgot(api, account.email)
    unknown = _forgot(api, "nobody@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.json == unknown.json
    link = mailbox.reset_link(account.email)
    assert link.startswith(f"{PUBLIC_BASE_URL}/app/reset-password?token=")
    time.sleep(0.2)  # the known address's mail came; none will for the unknown one
    assert mailbox.to("nobody@example.com") == []


def test_forgot_takes_as_long_for_an_unknown_address(api):
    """The mail leaves from another thread, so sending it never lengthens the answer."""
    account = api.user("timing")

    def elapsed(email):
        started = time.perf_counter()
        _forgot(api, email)
        return time.perf_counter() - started

    known = min(elapsed(account.email) for _ in range(5))
    unknown = min(elapsed("nobody@example.com") for _ in range(5))
    assert abs(known - unknown) < 0.05


def test_the_reset_link_follows_password_reset_url(make_app, stack, mailbox):
    from tests.support.api import ApiClient

    app = make_app(blacklist=stack[1], PASSWORD_RESET_URL="https://console.example/reset?lang=en")
    api = ApiClient(app.test_client(), app.test_cli_runner(), mailbox)
    account = api.user()
    _forgot(api, account.email)
    link = mailbox.reset_link(account.email)
    assert link.startswith("https://console.example/reset?lang=en&token=")


def test_forgot_rejects_a_malformed_address(api):
    response = _forgot(api, "not an address")
    assert response.status_code == 422
    assert "email" in response.json["errors"]


# ---------------------------------------------------------------- reset


def test_reset_sets_the_password_and_ends_every_session(api):
    account = api.user("bob")
    other = api.login("bob").json
    token = _reset_token(api, account)
    response = _reset(api, token)
    assert response.status_code == 200
    assert "message" in response.json
    for pair in (account.tokens, other):
        assert api.client.get("/me", headers=bearer(pair["access_token"])).status_code == 401
        assert api.client.post("/refresh", headers=bearer(pair["refresh_token"])).status_code == 401
    assert api.login("bob").status_code == 401
    fresh = api.login("bob", NEW_PASSWORD)
    assert fresh.status_code == 200
    sessions = api.client.get("/sessions", headers=bearer(fresh.json["access_token"])).json
    assert len(sessions["sessions"]) == 1


def test_a_reset_link_works_once(api):
    account = api.user("carol")
    token = _reset_token(api, account)
    assert _reset(api, token).status_code == 200
    again = _reset(api, token, "yet another passphrase")
    assert again.status_code == 400
    assert again.content_type == PROBLEM
    assert api.login("carol", NEW_PASSWORD).status_code == 200


def test_any_password_change_kills_an_outstanding_link(api):
    account = api.user("dave")
    token = _reset_token(api, account)
    body = {"current_password": account.password, "new_password": NEW_PASSWORD}
    assert (
        api.client.post("/change_password", json=body, headers=account.headers).status_code == 200
    )
    assert _reset(api, token, "another good passphrase").status_code == 400


def test_a_tampered_or_foreign_token_is_400(api):
    account = api.user("erin")
    token = _reset_token(api, account)
    for bad in (token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], "garbage", "x.y.z"):
        response = _reset(api, bad)
        assert response.status_code == 400, bad
        assert response.content_type == PROBLEM
    # A confirmation link's token is signed with another salt: useless here.
    confirmation = api.mailbox.to(account.email)[0].get_content()
    confirm_token = next(
        line.rsplit("/", 1)[1] for line in confirmation.splitlines() if "/user_confirm/" in line
    )
    assert _reset(api, confirm_token).status_code == 400


def test_an_expired_link_is_400(api):
    account = api.user("frank")
    token = _reset_token(api, account)
    with freeze_time(datetime.now(UTC) + timedelta(minutes=31), tick=True):
        response = _reset(api, token)
    assert response.status_code == 400
    assert "expired" in response.json["detail"]


def test_a_weak_new_password_is_422_and_leaves_the_link_usable(api):
    account = api.user("grace")
    token = _reset_token(api, account)
    weak = _reset(api, token, "password1")
    assert weak.status_code == 422
    assert "most common" in " ".join(weak.json["errors"]["password"])
    named = _reset(api, token, "GRACE@example.com")
    assert "e-mail" in " ".join(named.json["errors"]["password"])
    assert _reset(api, token).status_code == 200


def test_reset_confirms_an_unconfirmed_address(api):
    api.register("heidi")
    assert api.login("heidi").status_code == 403
    _forgot(api, "heidi@example.com")
    token = _token(api.mailbox.reset_link("heidi@example.com"))
    assert _reset(api, token).status_code == 200
    assert api.login("heidi", NEW_PASSWORD).status_code == 200


# ---------------------------------------------------------------- change


def _change(api, account, current, new=NEW_PASSWORD, headers=None):
    body = {"current_password": current, "new_password": new}
    return api.client.post("/change_password", json=body, headers=headers or account.headers)


def test_change_returns_a_pair_for_this_session_and_ends_the_others(api):
    account = api.user("ivan")
    other = api.login("ivan").json
    response = _change(api, account, account.password)
    assert response.status_code == 200
    pair = response.json
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    # The old pair of this session, and the other session, are over.
    for old in (account.tokens, other):
        assert api.client.get("/me", headers=bearer(old["access_token"])).status_code == 401
        assert api.client.post("/refresh", headers=bearer(old["refresh_token"])).status_code == 401
    # This session goes on with the new pair, and is the only one listed.
    sessions = api.client.get("/sessions", headers=bearer(pair["access_token"])).json["sessions"]
    assert [s["current"] for s in sessions] == [True]
    assert api.client.post("/refresh", headers=bearer(pair["refresh_token"])).status_code == 200
    assert api.login("ivan", account.password).status_code == 401
    assert api.login("ivan", NEW_PASSWORD).status_code == 200


def test_change_with_a_wrong_current_password_is_422_on_that_field(api):
    account = api.user("judy")
    response = _change(api, account, "not my password")
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert set(response.json["errors"]) == {"current_password"}
    assert api.client.get("/me", headers=account.headers).status_code == 200


def test_change_to_a_weak_password_is_422_on_new_password(api):
    account = api.user("karl")
    for weak, reason in (("letmein1", "most common"), ("KARL", "at least"), ("Karl", "at least")):
        response = _change(api, account, account.password, weak)
        assert response.status_code == 422
        assert reason in " ".join(response.json["errors"]["new_password"])
    response = _change(api, account, account.password, "karl@example.com")
    assert "e-mail" in " ".join(response.json["errors"]["new_password"])
    assert api.login("karl", account.password).status_code == 200


def test_change_needs_an_access_token(api):
    account = api.user("liam")
    body = {"current_password": account.password, "new_password": NEW_PASSWORD}
    assert api.client.post("/change_password", json=body).status_code == 401
    refresh = api.client.post("/change_password", json=body, headers=account.refresh_headers)
    assert refresh.status_code == 401
