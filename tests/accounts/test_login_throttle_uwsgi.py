"""The login throttle and the office case over HTTP, against uWSGI with several workers and Redis.

uWSGI runs with TRUSTED_PROXIES=1, as behind nginx: each request's X-Forwarded-For
stands for the address nginx would append, so the office and a home can be told apart.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.uwsgi import UWSGIServer, environ_for

WORKERS = 4
OFFICE = {"X-Forwarded-For": "203.0.113.7"}
HOME = {"X-Forwarded-For": "198.51.100.9"}
PASSWORD = "correct horse battery"


@pytest.fixture(params=[pytest.param(("postgresql", "redis"), id="postgresql-redis")])
def stack(request):
    return request.param


@pytest.fixture
def server(app, redis_prefix):
    environ = {
        **environ_for(app),
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_KEY_PREFIX": redis_prefix + "limits",
        "RATELIMIT_LOGIN_FAILURES": "10 per 15 minutes",
        "TRUSTED_PROXIES": "1",
    }
    with UWSGIServer(environ, processes=WORKERS) as server:
        yield server


def _login(server, username, password, headers):
    body = {"username": username, "password": password}
    return requests.post(f"{server.url}/login", json=body, headers=headers, timeout=30)


def test_an_office_signs_in_at_once_while_a_guesser_is_throttled(api, server):
    colleagues = [api.user(f"colleague{n}").username for n in range(12)]
    victim = api.user("victim").username
    before = server.requests_per_worker()

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda name: _login(server, name, PASSWORD, OFFICE), colleagues))
    assert [r.status_code for r in statuses] == [200] * 12

    guesses = [_login(server, victim, f"guess number {n}", OFFICE) for n in range(15)]
    assert [r.status_code for r in guesses] == [401] * 10 + [429] * 5
    for refused in guesses[10:]:
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert int(refused.headers["Retry-After"]) > 0
        assert refused.json()["status"] == 429

    # The counts are shared: several workers answered, and none let the guesser through.
    after = server.requests_per_worker()
    assert sum(after[pid] > before[pid] for pid in before) >= 2

    # A spoofed hop to the left of nginx's does not help the guesser ...
    spoofed = {"X-Forwarded-For": "192.0.2.1, 203.0.113.7"}
    assert _login(server, victim, "guess again", spoofed).status_code == 429
    # ... the office keeps signing in, and the owner is not locked out at home.
    assert _login(server, colleagues[0], PASSWORD, OFFICE).status_code == 200
    assert _login(server, victim, PASSWORD, HOME).status_code == 200
