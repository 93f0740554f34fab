"""A PostgreSQL fail-over under traffic, and a read replica that lags.

Both start a primary and a streaming standby of their own (`pg_basebackup -R`).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from my_app import replica
from tests.support import topology
from tests.support.api import ApiClient, future
from tests.topology.conftest import api_for

DATABASE = "app"


@pytest.fixture
def primary_and_standby() -> Iterator[tuple[topology.Postgres, topology.Postgres]]:
    with topology.postgres_primary() as primary:
        primary.execute(f"CREATE DATABASE {DATABASE}")
        with topology.postgres_replica(primary) as standby:
            yield primary, standby


def _multi_host(*servers: topology.Postgres) -> str:
    hosts = "&".join(f"host=127.0.0.1:{server.port}" for server in servers)
    return f"postgresql+psycopg://postgres@/{DATABASE}?{hosts}"


def test_a_promotion_and_a_read_only_old_primary_cost_no_500(
    topology_app, primary_and_standby, mailbox
):
    primary, standby = primary_and_standby
    app = topology_app(_multi_host(primary, standby), migrate=True, TESTING=False)
    api = api_for(app, mailbox)
    requester = api.user()
    statuses: list[tuple[float, int]] = []
    stop = threading.Event()

    def submit_until_stopped(hours: int):
        client = ApiClient(app.test_client(), None, None)
        while not stop.is_set():
            hours += 1
            response = client.submit(requester, event_time=future(hours))
            statuses.append((time.monotonic(), response.status_code))
            time.sleep(0.02)

    threads = [threading.Thread(target=submit_until_stopped, args=(n * 10000,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    standby.promote()
    primary.make_read_only()
    failed_over = time.monotonic()
    topology.wait_until(
        lambda: any(at > failed_over + 0.5 and code == 201 for at, code in statuses[-20:]),
        timeout=10,
        what="writes succeeding on the new primary",
    )
    time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    assert set(Counter(code for _, code in statuses)) <= {201, 503}
    after = [code for at, code in statuses if at > failed_over]
    assert 201 in after
    # Everything acknowledged is on the new primary.
    mine = api.client.get("/my_requests", headers=requester.headers, query_string={"limit": 100})
    assert mine.status_code == 200
    assert standby.execute("SELECT pg_is_in_recovery()", DATABASE) == [(False,)]


def _busy(api: ApiClient, account, start: str, end: str) -> list:
    response = api.client.get(
        "/resources/1/availability",
        query_string={"from": start, "to": end},
        headers=account.headers,
    )
    assert response.status_code == 200, response.json
    return response.json["busy"]


def test_a_caller_reads_their_own_write_while_the_replica_lags(
    topology_app, primary_and_standby, mailbox, redis_prefix
):
    primary, standby = primary_and_standby
    primary_url = _multi_host(primary)
    topology_app(primary_url, migrate=True)
    app = topology_app(
        primary_url,
        environ={
            "DATABASE_REPLICA_URL": f"postgresql+psycopg://postgres@127.0.0.1:{standby.port}/app",
            "REPLICA_MAX_LAG_SECONDS": 6,
        },
    )
    api = api_for(app, mailbox)
    admin, onlooker = api.admin(), api.user()
    start, end = future(24), future(24 * 30)
    assert _busy(api, onlooker, start, end) == []
    topology.wait_until(
        lambda: standby.execute("SELECT count(*) FROM users", DATABASE) == [(2,)],
        what="the replica catching up",
    )
    time.sleep(replica.CHECK_SECONDS)  # the app's last verdict on the replica is out of date
    standby.execute("SELECT pg_wal_replay_pause()")

    booking = api.booking(api.user(), event_time=future(48))
    assert api.decide(admin, "accept", booking["id"]).status_code == 200
    # The admin wrote just now: they read from the primary, and see it.
    assert len(_busy(api, admin, start, end)) == 1
    # Someone who did not write reads the replica, which has not replayed it yet...
    assert _busy(api, onlooker, start, end) == []
    # ... until it lags more than REPLICA_MAX_LAG_SECONDS, and is passed over.
    topology.wait_until(
        lambda: len(_busy(api, onlooker, start, end)) == 1, timeout=15, what="passing over"
    )
    csv = api.client.get(
        "/my_requests", headers={**admin.headers, "Accept": "text/csv"}
    )  # an export is served while the replica lags
    assert csv.status_code == 200

    standby.execute("SELECT pg_wal_replay_resume()")
    standby.stop()
    # A replica that is down is passed over too.
    assert len(_busy(api, onlooker, start, end)) == 1
