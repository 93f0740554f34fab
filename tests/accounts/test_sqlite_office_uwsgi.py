"""A small office on the embedded default: SQLite under uWSGI as `make serve` runs it.

Twelve people log in at the same moment (twice), then sixteen submit a request at
the same moment: every one of them succeeds. Logins hash at a production-like bcrypt
cost, so each spends real time between reading the account and writing its session.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.api import PASSWORD, booking_body
from tests.support.uwsgi import ROOT, UWSGIServer, environ_for

pytestmark = pytest.mark.slow
WORKERS = 4
ROUNDS = "10"  # ~60 ms a hash: the window between a login's read and its write is real


@pytest.fixture(params=[pytest.param(("sqlite", "database"), id="sqlite")])
def stack(request):
    return request.param


@pytest.fixture
def app(make_app):
    return make_app(BCRYPT_LOG_ROUNDS=int(ROUNDS))


@pytest.fixture
def server(app):
    environ = {
        **environ_for(app),
        "APP_ENV": "development",  # as `make serve`: rate limits on, TESTING off
        "BCRYPT_LOG_ROUNDS": ROUNDS,
    }
    with UWSGIServer(environ, processes=WORKERS, ini=ROOT / "deploy" / "uwsgi.ini") as server:
        yield server


def _at_once(calls) -> list[requests.Response]:
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _login(server, username: str):
    body = {"username": username, "password": PASSWORD}
    return lambda: requests.post(f"{server.url}/login", json=body, timeout=30)


def test_twelve_people_log_in_at_once_twice_and_sixteen_submit_at_once(api, server):
    people = [api.user(f"colleague{n}").username for n in range(16)]

    for _ in range(2):
        logins = _at_once([_login(server, name) for name in people[:12]])
        assert [r.status_code for r in logins] == [200] * 12, server.output()[-3000:]

    pairs = [r.json() for r in _at_once([_login(server, name) for name in people])]
    submits = _at_once(
        [
            lambda pair=pair: requests.post(
                f"{server.url}/submit_request",
                json=booking_body(),
                headers={"Authorization": f"Bearer {pair['access_token']}"},
                timeout=30,
            )
            for pair in pairs
        ]
    )
    assert [r.status_code for r in submits] == [201] * 16, server.output()[-3000:]
