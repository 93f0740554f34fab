"""The HTTP listener of `make serve` and the Docker image: deploy/uwsgi.ini with UWSGI_HTTP.

Each test starts uWSGI exactly as `make serve` does (the shipped ini, the HTTP router on
UWSGI_HTTP) on PostgreSQL and Redis, and talks to it over raw `http.client` connections,
which, unlike `requests`, never reconnect behind the test's back.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import statistics
import threading
import time
from pathlib import Path

import pytest

from tests.support.api import booking_body
from tests.support.uwsgi import UWSGIServer, environ_for

UWSGI_INI = Path(__file__).resolve().parents[2] / "deploy" / "uwsgi.ini"
POSTGRES_REDIS = pytest.mark.parametrize("stack", [("postgresql", "redis")])
CONNECTION_LOST = (http.client.RemoteDisconnected, ConnectionError, http.client.IncompleteRead)


def _serve(app, processes: int = 2, **environ: str) -> UWSGIServer:
    return UWSGIServer(
        {**environ_for(app), **environ}, processes=processes, ini=UWSGI_INI, http_router=True
    )


def _connect(server: UWSGIServer, timeout: float = 30) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    conn.connect()
    return conn


def _call(conn, method: str, path: str, body=None, headers=None) -> tuple[int, dict, bytes]:
    payload = json.dumps(body) if body is not None else None
    headers = {**(headers or {}), **({"Content-Type": "application/json"} if payload else {})}
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()  # raises IncompleteRead on a truncated body
    return response.status, dict(response.getheaders()), data


@POSTGRES_REDIS
@pytest.mark.slow
def test_two_thousand_mixed_requests_over_one_keep_alive_connection(app, api):
    admin = api.admin()
    with _serve(app) as server:
        conn = _connect(server)
        sock = conn.sock
        login = {"username": admin.username, "password": admin.password}
        status, _, data = _call(conn, "POST", "/login", login)
        assert status == 200, data
        auth = {"Authorization": f"Bearer {json.loads(data)['access_token']}"}
        mix = [
            ("GET", "/health", None, 200),
            ("GET", "/me", None, 200),
            ("POST", "/generate_random_array", {"sentence": "keep the connection"}, 200),
            ("GET", "/openapi.json", None, 200),
            ("POST", "/submit_request", booking_body(), 201),
            ("GET", "/list_requests?limit=20", None, 200),
            ("POST", "/generate_random_array", {"sentence": ""}, 422),  # an error, same line
            ("GET", "/request/999999", None, 404),
        ]
        large_ms: list[float] = []
        failures = []
        for i in range(2000):
            method, path, body, expected = mix[i % len(mix)]
            started = time.perf_counter()
            status, headers, data = _call(conn, method, path, body, auth)
            elapsed_ms = (time.perf_counter() - started) * 1000
            if status != expected or len(data) != int(headers["Content-Length"]):
                failures.append((i, method, path, status, data[:200]))
            json.loads(data)  # whole, parseable bodies
            if len(data) >= 9_000:  # ~10 KB and more
                large_ms.append(elapsed_ms)
        assert conn.sock is sock, "the server closed the connection"
        conn.close()
    assert failures == []
    assert len(large_ms) >= 500
    # The stall this listener avoids costs 40+ ms on every such response.
    assert statistics.median(large_ms) < 20, statistics.median(large_ms)


@POSTGRES_REDIS
def test_a_request_whose_worker_is_killed_gets_its_error_at_once(app):
    # An unknown user's login still checks a password: at cost 15, a few seconds of bcrypt.
    with _serve(app, BCRYPT_LOG_ROUNDS="15") as server:
        conn = _connect(server, timeout=120)
        assert _call(conn, "GET", "/health")[0] == 200  # a connection already kept alive
        outcome: dict = {}

        def login():
            try:
                login = {"username": "nobody", "password": "whatever1"}
                outcome["status"] = _call(conn, "POST", "/login", login)[0]
            except CONNECTION_LOST as exc:
                outcome["closed"] = exc
            outcome["at"] = time.monotonic()

        baseline = {w["pid"]: _cpu_seconds(w["pid"]) for w in server.workers()}
        caller = threading.Thread(target=login)
        caller.start()
        busy = _worker_in_the_app(baseline)
        killed_at = time.monotonic()
        os.kill(busy, signal.SIGKILL)
        caller.join(timeout=60)
        assert not caller.is_alive(), "no answer a minute after the worker died"
        assert outcome["at"] - killed_at < 3, outcome
        assert "closed" in outcome or outcome["status"] in (502, 503), outcome
        conn.close()

        fresh = _connect(server)  # the master has replaced the worker; service goes on
        assert _call(fresh, "GET", "/health")[0] == 200
        fresh.close()


def _worker_in_the_app(baseline: dict[int, float], timeout: float = 20) -> int:
    """The worker running the login's Python code: the one whose CPU time bcrypt makes grow.

    uWSGI reports a worker busy as soon as it takes a request, before the app (and the
    listener's abortive close) has run; killed in that gap, the worker's connection closes
    gracefully, which the router takes for the end of a response.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid, before in baseline.items():
            if _cpu_seconds(pid) - before > 0.3:
                return pid
        time.sleep(0.05)
    raise AssertionError("no worker ran the login")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@POSTGRES_REDIS
def test_an_oversized_url_or_header_block_is_answered_414_or_431(app):
    with _serve(app) as server:
        conn = _connect(server, timeout=10)
        status, headers, data = _call(conn, "GET", "/health?q=" + "a" * 20_000)
        assert status == 414
        assert headers["Content-Type"] == "application/problem+json"
        assert json.loads(data)["status"] == 414
        conn.close()

        conn = _connect(server, timeout=10)
        status, headers, data = _call(conn, "GET", "/health", headers={"X-Big": "b" * 40_000})
        assert status == 431
        assert json.loads(data)["title"] == "Request Header Fields Too Large"
        conn.close()

        conn = _connect(server, timeout=10)  # a normal request is untouched
        assert _call(conn, "GET", "/health", headers={"X-Ok": "c" * 4000})[0] == 200

        # Beyond what the router can forward to a worker (the uwsgi protocol carries at
        # most 64 KiB of request line and headers, and the URL travels twice) the router
        # closes the connection: at once, never a hang.
        started = time.monotonic()
        with pytest.raises(CONNECTION_LOST):
            _call(conn, "GET", "/health?q=" + "a" * 40_000)
        assert time.monotonic() - started < 3
        conn.close()


JUST_OVER = b"x" * (64 * 1024 + 1)


def _post_raw(conn, path: str, body, headers=None, chunked=False) -> tuple[int, dict, bytes]:
    """POST `body` (bytes, or an iterable of chunks sent chunked) as JSON, unencoded."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    conn.request("POST", path, body=body, headers=headers, encode_chunked=chunked)
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def _assert_413(status: int, headers: dict, data: bytes) -> None:
    assert status == 413, data[:200]
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(data)["status"] == 413


@POSTGRES_REDIS
def test_bodies_just_over_64_kib_are_413_on_fresh_and_kept_alive_connections(app):
    # The router's first read (headers and the body sent with them) goes into one uwsgi
    # packet of at most 64 KiB: read 64 KiB at once, such a body dropped the connection.
    with _serve(app) as server:
        for path in ("/register", "/login"):
            for _ in range(50):
                conn = _connect(server, timeout=10)
                _assert_413(*_post_raw(conn, path, JUST_OVER))
                conn.close()

            conn = _connect(server, timeout=10)
            sock = conn.sock
            for _ in range(50):
                _assert_413(*_post_raw(conn, path, JUST_OVER))
            assert _call(conn, "GET", "/health")[0] == 200
            assert conn.sock is sock, "the server closed the connection"
            conn.close()


@POSTGRES_REDIS
def test_bodies_up_to_1_mib_are_answered_whether_or_not_chunked(app, api):
    admin = api.admin()
    with _serve(app) as server:
        conn = _connect(server, timeout=10)
        login = {"username": admin.username, "password": admin.password}
        status, _, data = _call(conn, "POST", "/login", login)
        auth = {"Authorization": f"Bearer {json.loads(data)['access_token']}"}
        sock = conn.sock
        for path in ("/register", "/login", "/submit_request", "/generate_random_array"):
            # at the limit: read, and refused only for what it says
            assert _post_raw(conn, path, b"x" * 64 * 1024, auth)[0] == 400
            for size in (64 * 1024 + 1, 65_000 + 1024, 200_000, 1024 * 1024):
                _assert_413(*_post_raw(conn, path, b"x" * size, auth))
        assert conn.sock is sock, "the server closed the connection"
        conn.close()

        # A chunked body is forwarded as it comes, so the router closes the connection after
        # the answer, and says so.
        small = json.dumps({"username": "nobody", "password": "whatever1"}).encode()
        for chunks, expected in (
            ([small[:10], small[10:]], 401),
            ([b"x" * 65536, b"x"], 413),
            ([b"x" * 65536] * 16, 413),  # 1 MiB
        ):
            conn = _connect(server, timeout=10)
            status, headers, data = _post_raw(conn, "/login", iter(chunks), chunked=True)
            assert status == expected, data[:200]
            assert headers["Content-Type"] == "application/problem+json"
            assert headers["Connection"] == "close"
            conn.close()
