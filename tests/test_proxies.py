"""TRUSTED_PROXIES: which address is the client's (sessions show it, rate limits count by it)."""

import pytest

from my_app.extensions import limiter
from tests.support.api import ApiClient, bearer


def _login_from(api, account, headers):
    body = {"username": account.username, "password": account.password}
    return api.client.post("/login", json=body, headers=headers).json


def _session_ip(api, pair) -> str:
    return api.client.get("/sessions", headers=bearer(pair["access_token"])).json["sessions"][0][
        "ip"
    ]


def test_by_default_a_client_supplied_x_forwarded_for_changes_nothing(api):
    account = api.user()
    pair = _login_from(api, account, {"X-Forwarded-For": "192.0.2.66"})
    assert _session_ip(api, pair) == "127.0.0.1"


def test_by_default_a_forged_address_does_not_dodge_the_login_throttle(make_app, stack):
    app = make_app(blacklist=stack[1], RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_FAILURES="2/minute")
    with app.app_context():
        limiter.reset()
    client = app.test_client()
    statuses = [
        client.post(
            "/login",
            json={"username": "someone", "password": "guess"},
            headers={"X-Forwarded-For": f"192.0.2.{n}"},
        ).status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]
    with app.app_context():
        limiter.reset()


@pytest.mark.parametrize(
    ("hops", "forwarded", "client"),
    [
        (1, "203.0.113.5", "203.0.113.5"),  # nginx appended the peer it saw
        (1, "192.0.2.66, 203.0.113.5", "203.0.113.5"),  # the client's own claim is ignored
        (2, "192.0.2.66, 203.0.113.5, 10.0.0.2", "203.0.113.5"),  # a load balancer, then nginx
    ],
)
def test_with_trusted_proxies_the_address_they_append_is_used(
    make_app, stack, mailbox, hops, forwarded, client
):
    app = make_app(blacklist=stack[1], TRUSTED_PROXIES=hops)
    api = ApiClient(app.test_client(), app.test_cli_runner(), mailbox)
    account = api.user()
    pair = _login_from(api, account, {"X-Forwarded-For": forwarded})
    assert _session_ip(api, pair) == client
