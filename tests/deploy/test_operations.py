"""The shipped uWSGI configuration in operation: metrics of every worker add up, request logs
are JSON, and the periodic jobs run on their own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from my_app.extensions import db
from my_app.models import BookingRequest
from tests.support.api import ApiClient
from tests.support.uwsgi import UWSGI, UWSGIServer, environ_for, hit_every_worker

ROOT = Path(__file__).resolve().parents[2]
INI = ROOT / "deploy" / "uwsgi.ini"
TOKEN = "metrics-token-for-the-serving-test-000"
WORKERS = 4
EXPIRED_ONE = "Expired 1 pending booking request(s)."


def _scrape(server: UWSGIServer) -> dict[tuple, float]:
    response = requests.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _ping_count(samples: dict) -> float:
    labels = frozenset({"route": "/ping", "method": "GET", "status": "200"}.items())
    return samples.get(("my_app_http_requests_total", labels), 0.0)


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_metrics_count_every_request_of_every_worker_and_survive_a_dead_worker(app, tmp_path):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_999999.db").write_bytes(b"left by an older run")
    # One request per worker at a time, so the load spreads over all four.
    environ = {**environ_for(app), "METRICS_TOKEN": TOKEN, "UWSGI_THREADS": "1",
               "PROMETHEUS_MULTIPROC_DIR": str(directory)}  # fmt: skip
    with UWSGIServer(environ, processes=WORKERS, ini=INI) as server:
        assert not (directory / "counter_999999.db").exists()  # made fresh at start
        before = _ping_count(_scrape(server))
        # /ping reads the database: slow enough that every worker gets a share.
        statuses = hit_every_worker(server, "/ping", {}, rounds=30)
        assert set(statuses) == {200}
        assert _ping_count(_scrape(server)) == before + len(statuses)
        pids = set(server.requests_per_worker())
        assert len(pids) == WORKERS
        assert {f"counter_{pid}.db" for pid in pids} <= {p.name for p in directory.iterdir()}

        victim = next(iter(pids))
        os.kill(victim, signal.SIGKILL)
        _wait_for(lambda: victim not in server.requests_per_worker()
                  and all(w["pid"] > 0 for w in server.workers()), 30, "a new worker")  # fmt: skip
        assert _ping_count(_scrape(server)) == before + len(statuses)  # its counts stay
        assert requests.get(f"{server.url}/metrics", timeout=10).status_code == 401


@pytest.mark.slow
def test_json_request_logs_from_app_and_uwsgi_carry_the_request_id_and_no_secrets(app, api):
    account = api.user()
    environ = {**environ_for(app), "LOG_FORMAT": "json"}
    with UWSGIServer(environ, processes=2, ini=INI) as server:
        request_id = "trace-me-123"
        confirm = requests.get(
            f"{server.url}/user_confirm/secret-token-value?next=hidden-query",
            headers={"X-Request-ID": request_id}, timeout=10,
        )  # fmt: skip
        assert confirm.status_code == 400
        me = requests.get(f"{server.url}/me", timeout=10,
                          headers={**account.headers, "X-Request-ID": "second-456"})  # fmt: skip
        assert me.status_code == 200
        time.sleep(0.5)
        output = server.output()
    lines = [line for line in output.splitlines() if request_id in line or "second-456" in line]
    assert len(lines) == 4, output[-3000:]  # an access line from the app, one from uWSGI, each
    records = [json.loads(line) for line in lines]
    for record in records:
        assert {"time", "level", "message", "request_id", "user_id", "method", "path", "status",
                "duration_ms"} <= set(record)  # fmt: skip
    assert "secret-token-value" not in output and "hidden-query" not in output
    by_logger = {(r["logger"], r["request_id"]): r for r in records}
    for logger in ("my_app.access", "uwsgi"):
        first = by_logger[(logger, request_id)]
        assert (first["method"], first["path"], first["status"]) == (
            "GET", "/user_confirm/<string:token>", 400,
        )  # fmt: skip
        second = by_logger[(logger, "second-456")]
        assert (second["path"], second["status"]) == ("/me", 200)
        assert str(second["user_id"]) == str(account.id)


def _past_due_booking(app, api: ApiClient):
    """A pending request whose event time passed an hour ago; a callable reading its status."""
    booking = api.booking(api.user())
    with app.app_context():
        db.session.execute(
            sa.update(BookingRequest)
            .where(BookingRequest.id == booking["id"])
            .values(event_time=datetime.now(UTC) - timedelta(hours=1),
                    end_time=datetime.now(UTC))
        )  # fmt: skip
        db.session.commit()

    def status() -> str:
        with app.app_context():
            found = db.session.get(BookingRequest, booking["id"]).status
            db.session.remove()
            return found

    assert status() == "pending"
    return status


@pytest.mark.slow
def test_shipped_configuration_runs_the_expiry_job_on_its_own(app, api: ApiClient):
    status = _past_due_booking(app, api)
    environ = {**environ_for(app), "RUN_JOBS": "uwsgi", "JOBS_EXPIRE_SECONDS": "2"}
    with UWSGIServer(environ, processes=1, ini=INI) as server:
        _wait_for(lambda: status() == "expired", 60, "the scheduled expire-requests")
        _wait_for(lambda: EXPIRED_ONE in server.output(), 10, "the job's report")


@pytest.mark.slow
def test_scheduler_without_workers_runs_the_jobs(app, api: ApiClient, tmp_path):
    """`uwsgi --ini deploy/jobs.ini`, as docker-compose-dev's scheduler service runs it."""
    status = _past_due_booking(app, api)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("UWSGI_")}
    environ = {**inherited, **environ_for(app), "JOBS_EXPIRE_SECONDS": "2"}
    log = (tmp_path / "scheduler.log").open("w+")
    process = subprocess.Popen([UWSGI, "--ini", str(ROOT / "deploy/jobs.ini")], cwd=ROOT,
                               env=environ, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        _wait_for(lambda: status() == "expired", 60, "the scheduler's expire-requests")
        _wait_for(lambda: EXPIRED_ONE in (tmp_path / "scheduler.log").read_text(), 10,
                  "the job's report")  # fmt: skip
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        log.seek(0)
        output = log.read()
        log.close()
    assert EXPIRED_ONE in output
    assert "goodbye to uWSGI" in output  # the loops stop with it
