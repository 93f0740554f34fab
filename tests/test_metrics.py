"""GET /metrics: the token, and what is counted (requests, logins, transitions, events, stores)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import OperationalError

from blacklist import RedisBlacklist
from my_app import metrics
from my_app.extensions import db
from tests.support import services
from tests.support.api import ApiClient, bearer

TOKEN = "metrics-token-for-tests-0123456789"


def scrape(client, token: str = TOKEN) -> dict[tuple, float]:
    """Every sample of one scrape: {(name, frozenset(labels)): value}."""
    response = client.get("/metrics", headers=bearer(token))
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def app(stack, make_app):
    return make_app(blacklist=stack[1], METRICS_TOKEN=TOKEN)


def test_metrics_is_a_404_problem_when_no_token_is_configured(make_app):
    client = make_app(METRICS_TOKEN=None).test_client()
    response = client.get("/metrics", headers=bearer(TOKEN))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json == client.get("/no-such-path").json | {"status": 404}


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("wrong-token"), bearer(TOKEN[:-1]), {"Authorization": f"Basic {TOKEN}"},
     {"Authorization": TOKEN}, bearer("")],
)  # fmt: skip
def test_metrics_without_the_right_bearer_token_is_401(client, headers):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "my_app_http_requests_total" not in response.get_data(as_text=True)


def test_requests_are_counted_by_route_template_method_and_status(client):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/user/123456").status_code == 401
    assert client.get("/health/").status_code == 200
    assert client.get("/no/such/path?token=secret").status_code == 404
    after = scrape(client)

    def delta(**labels):
        return value(after, "my_app_http_requests_total", **labels) - value(
            before, "my_app_http_requests_total", **labels
        )

    assert delta(route="/user/<id:user_id>", method="GET", status="401") == 3
    assert delta(route="/health", method="GET", status="200") == 1
    assert delta(route="<unmatched>", method="GET", status="404") == 1
    histogram = "my_app_http_request_duration_seconds_count"
    assert (
        value(after, histogram, route="/health", method="GET")
        - value(before, histogram, route="/health", method="GET")
        == 1
    )
    routes = {dict(labels).get("route") for _, labels in after}
    assert not any(route and ("123456" in route or "secret" in route) for route in routes)


def test_logins_are_counted_by_outcome(api: ApiClient, client):
    before = scrape(client)
    account = api.user()
    assert api.login(account.username, "not the password").status_code == 401
    assert api.login("nobody-at-all", "whatever123").status_code == 401
    unconfirmed = api.register().json
    assert api.login(unconfirmed["username"]).status_code == 403
    admin = api.admin()
    disabled = api.user()
    body = {"status": "disabled"}
    disable = client.patch(f"/user/{disabled.id}", json=body, headers=admin.headers)
    assert disable.status_code == 200
    assert api.login(disabled.username).status_code == 403
    after = scrape(client)

    def delta(outcome):
        name = "my_app_logins_total"
        return value(after, name, outcome=outcome) - value(before, name, outcome=outcome)

    assert delta("success") == 3  # the user, the admin and the user later disabled
    assert (delta("wrong_password"), delta("unknown_user")) == (1, 1)
    assert (delta("unconfirmed"), delta("disabled")) == (1, 1)


def test_repeated_login_attempts_are_counted_as_throttled(make_app):
    client = make_app(
        METRICS_TOKEN=TOKEN, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_FAILURES="2 per minute"
    )
    client = client.test_client()
    before = scrape(client)
    statuses = [
        client.post("/login", json={"username": "x", "password": "y"}).status_code for _ in range(3)
    ]
    assert statuses == [401, 401, 429]
    after = scrape(client)
    name = "my_app_logins_total"
    assert value(after, name, outcome="throttled") - value(before, name, outcome="throttled") == 1


def test_booking_transitions_are_counted_by_status(api: ApiClient, client):
    before = scrape(client)
    requester, admin = api.user(), api.admin()
    first, second = api.booking(requester), api.booking(requester)
    assert api.decide(admin, "accept", first["id"]).status_code == 200
    assert api.decide(admin, "reject", second["id"]).status_code == 200
    assert api.decide(requester, "cancel", first["id"]).status_code == 200
    assert api.decide(admin, "accept", second["id"]).status_code == 409  # not counted
    after = scrape(client)
    name = "my_app_booking_transitions_total"
    deltas = {
        status: value(after, name, to_status=status) - value(before, name, to_status=status)
        for status in ("pending", "accepted", "rejected", "cancelled")
    }
    assert deltas == {"pending": 2, "accepted": 1, "rejected": 1, "cancelled": 1}


def test_expiry_sweep_counts_expired_requests(api: ApiClient, app, client, runner):
    from datetime import UTC, datetime, timedelta

    api.booking(api.user())
    before = scrape(client)
    with app.app_context():
        from my_app.services import bookings

        assert bookings.expire_due(now=datetime.now(UTC) + timedelta(days=30)) == 1
    after = scrape(client)
    name = "my_app_booking_transitions_total"
    assert value(after, name, to_status="expired") - value(before, name, to_status="expired") == 1


def test_events_pending_are_read_from_the_outbox(api: ApiClient, client):
    before = value(scrape(client), "my_app_events_pending")
    api.booking(api.user())  # booking.submitted, waiting for deliver-events
    assert value(scrape(client), "my_app_events_pending") == before + 1
    assert value(scrape(client), "my_app_events_failed") == 0


def test_events_pending_and_failed_are_read_at_scrape_time(app, client):
    counts = {"pending": 7, "failed": 2}
    app.extensions[metrics.BACKLOG_KEY] = lambda: dict(counts)
    samples = scrape(client)
    assert value(samples, "my_app_events_pending") == 7
    assert value(samples, "my_app_events_failed") == 2
    counts["pending"] = 0
    assert value(scrape(client), "my_app_events_pending") == 0


def test_events_gauges_are_left_out_while_the_database_is_down(app, client):
    def backlog():
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    app.extensions[metrics.BACKLOG_KEY] = backlog
    samples = scrape(client)
    assert not {name for name, _ in samples} & set(metrics.EXPORTED)
    assert "my_app_http_requests_total" in {name for name, _ in samples}  # the rest is served


@pytest.mark.parametrize("stack", [("postgresql", "redis")])
def test_an_unreachable_revocation_store_is_a_503_and_counted(api: ApiClient, app, client):
    account = api.user()
    before = scrape(client)
    dead = redis.Redis(port=services.free_port(), socket_connect_timeout=0.5)
    app.extensions["blacklist"] = RedisBlacklist(dead, "unused:", database=None)
    assert client.get("/me", headers=account.headers).status_code == 503
    after = scrape(client)
    name = "my_app_blacklist_errors_total"
    assert value(after, name, store="redis") - value(before, name, store="redis") == 1


def test_database_connections_in_use_follow_the_pool(app, client):
    with app.app_context():
        dialect = db.engine.dialect.name
        name = "my_app_db_pool_connections_in_use"
        idle = value(scrape(client), name, database=dialect)
        connection = db.engine.connect()
        try:
            assert value(scrape(client), name, database=dialect) == idle + 1
        finally:
            connection.close()
        assert value(scrape(client), name, database=dialect) == idle


def test_dead_processes_lose_their_live_gauges_but_keep_their_counts(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    dead, alive = int(finished.stdout), os.getpid()
    for pid in (dead, alive):
        for kind in ("gauge_livesum", "counter", "histogram"):
            (tmp_path / f"{kind}_{pid}.db").write_bytes(b"")
    metrics.forget_dead_processes(str(tmp_path))
    left = {path.name for path in tmp_path.iterdir()}
    assert f"gauge_livesum_{dead}.db" not in left
    assert {f"gauge_livesum_{alive}.db", f"counter_{dead}.db", f"histogram_{dead}.db"} <= left


def test_metrics_is_described_in_the_openapi_document(client):
    operation = client.get("/openapi.json").json["paths"]["/metrics"]["get"]
    assert {"200", "401", "404"} <= set(operation["responses"])
    assert "text/plain" in operation["responses"]["200"]["content"]
