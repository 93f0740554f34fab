"""Pure rules of the topology: which Redis keys share a slot, and how Redis URLs are read."""

from __future__ import annotations

import redis
from redis.cluster import key_slot

import redis_client
from blacklist import user_key


def test_the_keys_of_one_revocation_check_share_a_cluster_slot():
    keys = [
        "my_app:blacklist:" + user_key(42, "jti:0f3a"),
        "my_app:blacklist:" + user_key(42, "sid:9bc1"),
        "my_app:blacklist:" + user_key(42, "acct"),
    ]
    assert len({key_slot(key.encode()) for key in keys}) == 1


def test_different_users_keys_spread_over_the_cluster():
    slots = {key_slot(user_key(user_id, "acct").encode()) for user_id in range(1, 200)}
    assert len(slots) > 150


def test_a_sentinel_url_names_the_sentinels_and_the_service():
    client = redis_client.make_client("redis+sentinel://10.0.0.1:26379,10.0.0.2/bookings")
    pool = client.connection_pool
    assert pool.service_name == "bookings"
    sentinels = [s.connection_pool.connection_kwargs for s in pool.sentinel_manager.sentinels]
    assert [(s["host"], s["port"]) for s in sentinels] == [("10.0.0.1", 26379), ("10.0.0.2", 26379)]
    assert pool.connection_kwargs["socket_timeout"] == 2


def test_a_plain_url_retries_refused_connections_and_readonly_answers_only():
    for url in ("redis://127.0.0.1:6379/0", "redis+sentinel://127.0.0.1:26379/bookings"):
        connection = redis_client.make_client(url).connection_pool.make_connection()
        retried = connection.retry._supported_errors
        assert redis.exceptions.ConnectionError in retried
        assert redis.exceptions.ReadOnlyError in retried
        assert redis.exceptions.TimeoutError not in retried  # silence costs the bound once


def test_the_rate_limiter_never_reads_from_a_sentinel_replica():
    options = redis_client.limiter_storage_options("redis+sentinel://h:26379/bookings")
    assert options["use_replicas"] is False
    assert redis_client.limiter_storage_options("memory://") == {}
