"""Rate limits that fit people: failed logins per account and address, sign-up and mail per address.

The same behaviour across uWSGI workers sharing Redis: tests/accounts/test_login_throttle_uwsgi.py.
"""

import time

import pytest

from my_app.extensions import limiter
from tests.support.api import ApiClient, bearer

OFFICE = {"REMOTE_ADDR": "203.0.113.7"}
HOME = {"REMOTE_ADDR": "198.51.100.9"}


@pytest.fixture
def limited_api(make_app, stack, mailbox):
    app = make_app(
        blacklist=stack[1],
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN_FAILURES="3 per 15 minutes",
        RATELIMIT_AUTH="2 per minute",
    )
    with app.app_context():
        limiter.reset()  # the limiter object outlives each test's app (memory storage)
    yield ApiClient(app.test_client(), app.test_cli_runner(), mailbox)
    with app.app_context():
        limiter.reset()


def _login(api, username, password, environ=OFFICE):
    body = {"username": username, "password": password}
    return api.client.post("/login", json=body, environ_base=environ)


def _assert_429(response):
    assert response.status_code == 429
    assert response.content_type == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["status"] == 429


def _users(api, count: int):
    """Confirmed accounts made without the limited endpoints' help."""
    names = []
    for _ in range(count):
        admin_name = f"office{len(names)}"
        result = api.runner.invoke(
            args=[
                "create-admin",
                "--username", admin_name,
                "--email", f"{admin_name}@example.com",
                "--password", "correct horse battery",
            ]
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        names.append(admin_name)
    return names


def test_wrong_guesses_against_one_account_are_throttled_from_that_address(limited_api):
    (victim,) = _users(limited_api, 1)
    statuses = [_login(limited_api, victim, "wrong guess").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    _assert_429(_login(limited_api, victim, "wrong guess"))
    # The same account by another spelling of its name, or by its e-mail, is the same account.
    _assert_429(_login(limited_api, f"  {victim.upper()} ", "wrong guess"))
    _assert_429(_login(limited_api, f"{victim}@EXAMPLE.com", "wrong guess"))
    # From this address even the right password waits; the owner at home is not locked out.
    _assert_429(_login(limited_api, victim, "correct horse battery"))
    assert _login(limited_api, victim, "correct horse battery", HOME).status_code == 200


def test_guesses_by_username_and_by_e_mail_count_together(limited_api):
    (victim,) = _users(limited_api, 1)
    logins = [victim, f"{victim}@example.com", victim]
    assert [_login(limited_api, name, "wrong guess").status_code for name in logins] == [401] * 3
    _assert_429(_login(limited_api, f"{victim}@example.com", "wrong guess"))


def test_an_office_behind_one_address_signs_in_at_once(limited_api):
    names = _users(limited_api, 8)
    for _ in range(2):
        for name in names:
            assert _login(limited_api, name, "correct horse battery").status_code == 200
    # Another account's failures from the office do not stop colleagues.
    for _ in range(5):
        _login(limited_api, names[0], "wrong guess")
    assert _login(limited_api, names[1], "correct horse battery").status_code == 200


def test_register_resend_and_forgot_are_limited_per_address(limited_api):
    client = limited_api.client
    for path, body in (
        ("/register", lambda n: {"username": f"u{n}", "email": f"u{n}@example.com",
                                 "password": "correct horse battery"}),
        ("/resend_confirmation", lambda n: {"email": f"u{n}@example.com"}),
        ("/forgot_password", lambda n: {"email": f"u{n}@example.com"}),
    ):  # fmt: skip
        statuses = [
            client.post(path, json=body(n), environ_base=OFFICE).status_code for n in (1, 2)
        ]
        assert 429 not in statuses, path
        _assert_429(client.post(path, json=body(3), environ_base=OFFICE))
        assert client.post(path, json=body(4), environ_base=HOME).status_code != 429


def test_wrong_current_passwords_are_throttled_like_login_failures(limited_api):
    (name,) = _users(limited_api, 1)
    pair = _login(limited_api, name, "correct horse battery").json
    headers = bearer(pair["access_token"])

    def change(current):
        body = {"current_password": current, "new_password": "a brand new passphrase"}
        return limited_api.client.post(
            "/change_password", json=body, headers=headers, environ_base=OFFICE
        )

    # A weak new password with the right current one is no guess: it does not count.
    weak = {"current_password": "correct horse battery", "new_password": "password1"}
    for _ in range(4):
        response = limited_api.client.post(
            "/change_password", json=weak, headers=headers, environ_base=OFFICE
        )
        assert response.status_code == 422
    assert [change("wrong").status_code for _ in range(3)] == [422, 422, 422]
    _assert_429(change("wrong"))
    _assert_429(change("correct horse battery"))


# ---------------------------------------------------------------- one account, many addresses


@pytest.fixture
def botnet_api(make_app, stack, mailbox):
    """Failures per account from all addresses limited to 4 an hour; per address, 3."""
    app = make_app(
        blacklist=stack[1],
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN_FAILURES="3 per 15 minutes",
        RATELIMIT_ACCOUNT_FAILURES="4 per hour",
        RATELIMIT_AUTH="100 per minute",
    )
    with app.app_context():
        limiter.reset()
    yield ApiClient(app.test_client(), app.test_cli_runner(), mailbox)
    with app.app_context():
        limiter.reset()


def _address(n: int) -> dict[str, str]:
    return {"REMOTE_ADDR": f"2001:db8::{n:x}"}


def test_guesses_from_many_addresses_lock_the_account_until_its_password_is_reset(botnet_api):
    api = botnet_api
    victim, colleague = _users(api, 2)
    guesses = [_login(api, victim, "wrong guess", _address(n)).status_code for n in range(4)]
    assert guesses == [401] * 4
    _assert_429(_login(api, victim, "wrong guess", _address(99)))
    _assert_429(_login(api, victim, "correct horse battery", HOME))
    assert _login(api, colleague, "correct horse battery", HOME).status_code == 200

    email = f"{victim}@example.com"
    assert api.client.post("/forgot_password", json={"email": email}).status_code == 202
    token = api.mailbox.reset_link(email).split("token=", 1)[1]
    body = {"token": token, "password": "a brand new passphrase"}
    assert api.client.post("/reset_password", json=body).status_code == 200
    assert _login(api, victim, "a brand new passphrase", HOME).status_code == 200


# ---------------------------------------------------------------- mails to one address


def _ask(api, path: str, email: str, n: int):
    return api.client.post(path, json={"email": email}, environ_base=_address(n))


def test_one_address_gets_at_most_3_reset_mails_an_hour_however_many_clients_ask(botnet_api):
    api = botnet_api
    (name,) = _users(api, 1)
    email = f"{name}@example.com"
    answers = [_ask(api, "/forgot_password", email, n) for n in range(6)]
    assert [a.status_code for a in answers] == [202] * 6
    assert len({a.json["message"] for a in answers}) == 1
    api.mailbox.wait_for(email, "Reset your password", count=3)
    time.sleep(0.2)  # a fourth mail would have come by now
    assert len(api.mailbox.to(email)) == 3


def test_one_address_gets_at_most_3_confirmation_mails_an_hour(botnet_api):
    api = botnet_api
    email = "unconfirmed@example.com"
    body = {"username": "unconfirmed", "email": email, "password": "correct horse battery"}
    assert api.client.post("/register", json=body).status_code == 201  # the first mail
    answers = [_ask(api, "/resend_confirmation", email, n) for n in range(5)]
    assert [a.status_code for a in answers] == [202] * 5
    assert len({a.json["message"] for a in answers}) == 1
    time.sleep(0.3)
    assert len(api.mailbox.to(email)) == 3


def test_a_capped_mail_takes_as_long_to_answer_as_a_sent_one(botnet_api):
    api = botnet_api
    (name,) = _users(api, 1)
    email = f"{name}@example.com"

    def elapsed(address: str, n: int) -> float:
        started = time.perf_counter()
        assert _ask(api, "/forgot_password", address, n).status_code == 202
        return time.perf_counter() - started

    sent = min(elapsed(email, n) for n in range(3))
    capped = min(elapsed(email, n) for n in range(3, 8))
    unknown = min(elapsed("nobody@example.com", n) for n in range(8, 13))
    assert abs(sent - capped) < 0.05
    assert abs(sent - unknown) < 0.05
