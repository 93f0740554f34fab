"""The app through PgBouncer 1.18 in transaction pooling mode, stock settings otherwise.

Each transaction may land on another server connection: nothing may depend on a
connection's session (startup options, SET, prepared statements), and the 503 bounds
must still hold.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import psycopg
import pytest
import sqlalchemy as sa

from my_app.database import use_job_limits
from my_app.extensions import db
from tests.bookings.series_steps import decide_series, series_body, series_of
from tests.support import services, topology
from tests.support.api import assert_problem, future
from tests.topology.conftest import api_for

BOUND = 1.0
SLACK = 1.5


@pytest.fixture
def bounced_url(postgres_template):
    """A fresh migrated database on the machine's PostgreSQL, reached through PgBouncer."""
    services.require(services.postgres_reachable)
    with services.throwaway_database(template=postgres_template) as url:
        parts = urlsplit(url)
        with topology.pgbouncer(parts.hostname, parts.port or 5432) as port:
            yield url, url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{port}")


def test_every_flow_works_through_a_transaction_pooler(topology_app, bounced_url, mailbox):
    _, url = bounced_url
    api = api_for(topology_app(url, services.REDIS_URL, DATABASE_TIMEOUT_SECONDS=BOUND), mailbox)
    admin = api.admin()
    # More than psycopg's 5 runs of each statement, which would prepare them by default.
    for day in range(8):
        requester = api.user()
        booking = api.booking(requester, event_time=future(48 + 24 * day))
        accepted = api.decide(admin, "accept", booking["id"])
        assert accepted.status_code == 200, accepted.json
        mine = api.client.get("/my_requests", headers=requester.headers)
        assert [b["id"] for b in mine.json["bookings"]] == [booking["id"]]
        assert mine.json["bookings"][0]["status"] == "accepted"
    # A series: its rows go by COPY, its acceptance's events too.
    first = (datetime.now(UTC) + timedelta(days=30)).date()
    series = series_of(api, requester, series_body(1, first, "FREQ=WEEKLY;COUNT=6"))
    decided = decide_series(api, admin, "accept", series["id"])
    assert decided.status_code == 200, decided.json
    assert {o["status"] for o in decided.json["occurrences"]} == {"accepted"}
    assert api.client.post("/logout", headers=requester.headers).status_code in (200, 204)
    assert_problem(api.client.get("/me", headers=requester.headers), 401)


def test_a_statement_waiting_on_a_lock_is_503_within_the_bound(topology_app, bounced_url, mailbox):
    direct, url = bounced_url
    app = topology_app(url, services.REDIS_URL, DATABASE_TIMEOUT_SECONDS=BOUND, TESTING=False)
    api = api_for(app, mailbox)
    admin = api.admin()
    booking = api.booking(api.user())
    with psycopg.connect(direct.replace("postgresql+psycopg://", "postgresql://")) as holder:
        holder.execute("SELECT id FROM resources WHERE id = 1 FOR UPDATE")
        started = time.monotonic()
        response = api.decide(admin, "accept", booking["id"])
        assert_problem(response, 503)
        assert response.headers["Retry-After"]
        assert time.monotonic() - started < BOUND + SLACK
    # The bound was the transaction's own: the next one, on any server connection, is free.
    assert api.decide(admin, "accept", booking["id"]).status_code == 200


def test_the_bounds_are_each_transactions_own_and_jobs_get_theirs(topology_app, bounced_url):
    _, url = bounced_url
    app = topology_app(url, DATABASE_TIMEOUT_SECONDS=BOUND)
    show = sa.text("SHOW statement_timeout")
    with app.app_context():
        assert db.session.execute(show).scalar() == "1s"
        assert db.session.execute(sa.text("SHOW lock_timeout")).scalar() == "1s"
        db.session.commit()
        # Nothing is left on the server connection for the pooler's next client.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            assert connection.execute(show).scalar() == "0"
        use_job_limits()
        assert db.session.execute(show).scalar() == "10min"
        db.session.commit()
