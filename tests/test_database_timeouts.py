"""A database or Redis that stops answering costs a request seconds, not minutes.

The app talks to PostgreSQL (and Redis) through a proxy the test freezes: the
server side keeps acknowledging bytes but never answers, as a hung server does.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from my_app.extensions import db
from tests.support import services
from tests.support.api import ApiClient
from tests.support.proxy import FreezableProxy

BOUND = 1.0  # DATABASE_TIMEOUT_SECONDS in these tests
# Connecting has libpq's floor of 2 s; allow scheduling slack on a busy machine.
CONNECT_BOUND = 2.0
SLACK = 1.5

pytestmark = pytest.mark.parametrize("stack", [("postgresql", "redis")])


def _through(proxy: FreezableProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) > 1 else host))


@pytest.fixture
def db_proxy(database_url):
    parts = urlsplit(database_url)
    with FreezableProxy(parts.hostname, parts.port or 5432) as proxy:
        yield proxy


@pytest.fixture
def redis_proxy():
    reason = services.redis_reachable()
    if reason:
        services.unavailable(reason)
    parts = urlsplit(services.REDIS_URL)
    with FreezableProxy(parts.hostname, parts.port or 6379) as proxy:
        yield proxy


@pytest.fixture
def proxied_app(make_app, database_url, db_proxy, redis_proxy):
    return make_app(
        blacklist="redis",
        SQLALCHEMY_DATABASE_URI=_through(db_proxy, database_url),
        REDIS_URL=_through(redis_proxy, services.REDIS_URL),
        DATABASE_TIMEOUT_SECONDS=BOUND,
        TESTING=False,
    )


@pytest.fixture
def proxied_api(proxied_app, mailbox):
    return ApiClient(proxied_app.test_client(), proxied_app.test_cli_runner(), mailbox)


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _assert_unavailable(response):
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == 503


def _in_background(call):
    """Start `call` in a thread; return a function that waits for and returns its result."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(value=call()), daemon=True)
    thread.start()

    def join():
        thread.join(timeout=30)
        return result["value"]

    return join


def test_frozen_database_answers_503_within_the_bound_and_recovers(
    proxied_app, proxied_api, db_proxy
):
    requester = proxied_api.user()
    client = proxied_app.test_client()
    stored = [proxied_api.booking(requester)["id"]]

    db_proxy.freeze()
    try:
        waiting = _in_background(lambda: _timed(lambda: proxied_api.submit(requester)))
        time.sleep(0.2)
        health, health_seconds = _timed(lambda: client.get("/health"))
        response, seconds = waiting()
        _assert_unavailable(response)
        assert seconds < BOUND + SLACK
        assert health.status_code == 200 and health_seconds < 0.5

        # Later requests need a new connection, which cannot be made either. (GET /me would
        # not: the revocation store in Redis knows the account.)
        response, seconds = _timed(lambda: client.get("/my_requests", headers=requester.headers))
        _assert_unavailable(response)
        assert seconds < CONNECT_BOUND + SLACK
    finally:
        db_proxy.thaw()

    # Healthy again without a restart, and every 2xx is stored.
    for _ in range(3):
        stored.append(proxied_api.booking(requester)["id"])
    for booking_id in stored:
        response = client.get(f"/request/{booking_id}", headers=requester.headers)
        assert response.status_code == 200


def test_requests_racing_a_freeze_lose_nothing_that_was_acknowledged(
    proxied_app, proxied_api, db_proxy
):
    requester = proxied_api.user()
    acknowledged: list[int] = []
    stop = threading.Event()

    def submit_until_stopped():
        api = ApiClient(proxied_app.test_client(), None, None)
        while not stop.is_set():
            response = api.submit(requester)
            assert response.status_code in (201, 503), response.get_data(as_text=True)
            if response.status_code == 201:
                acknowledged.append(response.json["id"])

    threads = [threading.Thread(target=submit_until_stopped) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    db_proxy.freeze()
    time.sleep(BOUND + 0.5)
    db_proxy.thaw()
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    assert acknowledged
    client = proxied_app.test_client()
    for booking_id in acknowledged:
        assert client.get(f"/request/{booking_id}", headers=requester.headers).status_code == 200


def test_a_statement_waiting_on_a_lock_is_503_within_the_bound(
    proxied_app, proxied_api, database_url
):
    admin = proxied_api.admin()
    requester = proxied_api.user()
    booking = proxied_api.booking(requester)
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as holder:
        holder.execute("SELECT id FROM resources WHERE id = 1 FOR UPDATE")
        response, seconds = _timed(lambda: proxied_api.decide(admin, "accept", booking["id"]))
        _assert_unavailable(response)
        assert seconds < BOUND + SLACK
    # The lock is gone: the same accept now succeeds on the same app.
    assert proxied_api.decide(admin, "accept", booking["id"]).status_code == 200


def test_frozen_redis_answers_503_within_two_seconds_and_recovers(
    proxied_app, proxied_api, redis_proxy
):
    requester = proxied_api.user()
    client = proxied_app.test_client()
    redis_proxy.freeze()
    try:
        response, seconds = _timed(lambda: client.get("/me", headers=requester.headers))
        _assert_unavailable(response)
        assert seconds < 2 + SLACK
        assert client.get("/health").status_code == 200
    finally:
        redis_proxy.thaw()
    assert client.get("/me", headers=requester.headers).status_code == 200


def test_frozen_redis_behind_the_rate_limiter_is_503_within_two_seconds(
    make_app, database_url, redis_proxy
):
    app = make_app(
        blacklist="redis",
        REDIS_URL=_through(redis_proxy, services.REDIS_URL),
        RATELIMIT_STORAGE_URI=_through(redis_proxy, services.REDIS_URL),
        RATELIMIT_ENABLED=True,
        TESTING=False,
    )
    client = app.test_client()
    body = {"username": "newcomer", "email": "new@example.com", "password": "long enough pw"}
    redis_proxy.freeze()
    try:
        response, seconds = _timed(lambda: client.post("/register", json=body))
    finally:
        redis_proxy.thaw()
    _assert_unavailable(response)
    assert seconds < 2 + SLACK
    assert client.post("/register", json=body).status_code == 201


def test_a_server_that_closed_its_connections_costs_no_request(
    proxied_app, proxied_api, database_url
):
    requester = proxied_api.user()
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(services.POSTGRES_DSN, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
    time.sleep(0.2)
    client = proxied_app.test_client()
    assert client.get("/me", headers=requester.headers).status_code == 200


def test_waiting_for_a_pool_slot_is_503_within_the_bound(make_app, database_url, mailbox):
    app = make_app(
        blacklist="redis",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0},
        DATABASE_TIMEOUT_SECONDS=BOUND,
        TESTING=False,
    )
    api = ApiClient(app.test_client(), app.test_cli_runner(), mailbox)
    requester = api.user()
    with app.app_context():
        held = db.engine.connect()  # the only connection, taken
        try:
            response, seconds = _timed(
                lambda: api.client.get("/my_requests", headers=requester.headers)
            )
        finally:
            held.close()
    _assert_unavailable(response)
    assert seconds < BOUND + SLACK
    assert api.client.get("/my_requests", headers=requester.headers).status_code == 200


def test_health_never_touches_the_database(proxied_app, db_proxy):
    client = proxied_app.test_client()
    db_proxy.freeze()
    try:
        response, seconds = _timed(lambda: client.get("/health"))
    finally:
        db_proxy.thaw()
    assert response.status_code == 200 and seconds < 0.5
