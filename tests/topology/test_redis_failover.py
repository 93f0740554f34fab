"""Redis behind Sentinel failing over under traffic, and a Redis Cluster serving the
revocation check."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis

from blacklist import get_blacklist
from tests.support import services, topology
from tests.support.api import ApiClient, assert_problem, bearer
from tests.topology.conftest import api_for

MOST_SECONDS_OF_503 = 5.0


@pytest.fixture
def database_url_on_machine(postgres_template) -> Iterator[str]:
    services.require(services.postgres_reachable)
    with services.throwaway_database(template=postgres_template) as url:
        yield url


def test_a_sentinel_fail_over_under_traffic_is_a_few_seconds_of_503(
    topology_app, database_url_on_machine, mailbox
):
    with topology.redis_sentinel() as sentinel:
        app = topology_app(
            database_url_on_machine, sentinel["url"], TESTING=False, RATELIMIT_ENABLED=True
        )
        api = api_for(app, mailbox)
        user = api.user()
        revoked = api.login(user.username).json
        assert api.client.post("/logout", headers=bearer(revoked["access_token"])).status_code
        primary = redis.Redis(port=sentinel["primary"])
        primary.wait(1, 2000)  # the revocation is on the replica before the fail-over

        seen: list[tuple[float, str, int]] = []
        stop = threading.Event()

        def ask(kind: str, headers: dict) -> None:
            client = ApiClient(app.test_client(), None, None).client
            while not stop.is_set():
                response = client.get("/me", headers=headers)
                seen.append((time.monotonic(), kind, response.status_code))
                time.sleep(0.01)

        threads = [
            threading.Thread(target=ask, args=("valid", user.headers)),
            threading.Thread(target=ask, args=("revoked", bearer(revoked["access_token"]))),
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        redis.Redis(port=sentinel["sentinels"][0]).execute_command(
            "SENTINEL", "FAILOVER", sentinel["service"]
        )
        failed_over = time.monotonic()
        topology.wait_until(
            lambda: redis.Redis(port=sentinel["replica"]).info("replication")["role"] == "master",
            what="the replica promoted",
        )
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        # The rate limiter's storage followed the fail-over too.
        assert api.login(user.username).status_code == 200

    valid = [(at, status) for at, kind, status in seen if kind == "valid"]
    assert {status for _, status in valid} <= {200, 503}
    unavailable = [at for at, status in valid if status == 503]
    if unavailable:
        assert max(unavailable) - min(unavailable) <= MOST_SECONDS_OF_503
    assert valid[-1][1] == 200 and any(at > failed_over and s == 200 for at, s in valid)
    # Nothing revoked came back.
    assert {status for _, kind, status in seen if kind == "revoked"} <= {401, 503}


def test_a_redis_cluster_serves_the_revocation_check_in_one_round_trip(
    topology_app, database_url_on_machine, mailbox
):
    with topology.redis_cluster() as url:
        app = topology_app(database_url_on_machine, url)
        api = api_for(app, mailbox)
        user = api.user()
        other = api.login(user.username).json
        with app.app_context():
            client = get_blacklist().client
            assert isinstance(client, redis.RedisCluster)
            calls: list[tuple] = []
            execute = client.execute_command

            def counting(*args, **options):
                calls.append(args)
                return execute(*args, **options)

            client.execute_command = counting
            try:
                assert api.client.get("/me", headers=user.headers).status_code == 200
            finally:
                del client.execute_command
        # One MGET, of keys in one slot (a plain MGET across slots is refused).
        assert [call[0] for call in calls] == ["MGET"]
        assert len({client.keyslot(key) for key in calls[0][1:]}) == 1

        assert api.client.post("/logout", headers=bearer(other["access_token"])).status_code
        assert_problem(api.client.get("/me", headers=bearer(other["access_token"])), 401)
        assert api.client.get("/me", headers=user.headers).status_code == 200
