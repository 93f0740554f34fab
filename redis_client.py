"""Redis clients that outlive a fail-over, from one URL: a single server, Sentinel, or Cluster.

`redis://` and `rediss://` name one server (or ElastiCache's primary endpoint, whose DNS
follows the primary); `redis+sentinel://host:port[,host:port…]/service_name` asks the
Sentinels which server is the primary, again after every fail-over; `redis+cluster://`
(ElastiCache with cluster mode on) names any of a cluster's nodes.

A connection that is refused or reset, or a demoted primary answering `READONLY`, is
retried on a fresh connection with jittered exponential backoff, for at most
`RETRY_BUDGET_SECONDS` in all: a fail-over costs requests a short wait, or a 503. A server
that stops answering is not retried: it costs `timeout` seconds, then the error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.retry import Retry

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
RETRIES = 5
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 0.4  # with RETRIES, at most ~1.5 s of waiting in all
SENTINEL_TIMEOUT_SECONDS = 0.5


def retry_options() -> dict[str, Any]:
    """Connection options that retry refused or reset connections and `READONLY` answers."""
    backoff = ExponentialWithJitterBackoff(cap=BACKOFF_CAP_SECONDS, base=BACKOFF_BASE_SECONDS)
    return {
        "retry": Retry(backoff, RETRIES, supported_errors=(RedisConnectionError,)),
        "retry_on_error": [RedisConnectionError, ReadOnlyError],
    }


def is_cluster(client: Any) -> bool:
    return isinstance(client, redis.RedisCluster)


def make_client(url: str, timeout: float = 2.0, **options: Any):
    """A client for `url`; every call gives up after `timeout` seconds of silence."""
    options = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        **retry_options(),
        **options,
    }
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in SENTINEL_SCHEMES:
        return _sentinel_client(parts, options)
    if scheme in CLUSTER_SCHEMES:
        return _cluster_client(parts, options)
    return redis.Redis.from_url(url, health_check_interval=30, **options)


def _nodes(parts, default_port: int) -> list[tuple[str, int]]:
    netloc = parts.netloc.rsplit("@", 1)[-1]
    nodes = []
    for node in netloc.split(","):
        host, _, port = node.rpartition(":") if ":" in node else (node, "", "")
        nodes.append((host.strip("[]") or "localhost", int(port or default_port)))
    return nodes


def _auth(parts) -> dict[str, str]:
    auth = {}
    if parts.username:
        auth["username"] = unquote(parts.username)
    if parts.password:
        auth["password"] = unquote(parts.password)
    return auth


def _sentinel_client(parts, options: dict[str, Any]):
    """The current primary of `service_name`, found through the Sentinels (never a replica)."""
    from redis.sentinel import Sentinel

    service, _, db = parts.path.strip("/").partition("/")
    if not service:
        raise ValueError("a redis+sentinel:// URL names its service: …/service_name")
    query = parse_qs(parts.query)
    auth = _auth(parts)
    if parts.scheme.lower().startswith("rediss"):
        options["ssl"] = True
    sentinel = Sentinel(
        _nodes(parts, 26379),
        sentinel_kwargs={
            "socket_timeout": SENTINEL_TIMEOUT_SECONDS,
            "socket_connect_timeout": SENTINEL_TIMEOUT_SECONDS,
            **auth,
        },
        **auth,
    )
    return sentinel.master_for(service, db=int(db or query.get("db", ["0"])[0]), **options)


def _cluster_client(parts, options: dict[str, Any]):
    from redis.cluster import ClusterNode

    nodes = [ClusterNode(host, port) for host, port in _nodes(parts, 6379)]
    options.pop("retry_on_error", None)  # RedisCluster follows MOVED and fail-overs itself
    options.pop("retry", None)
    return redis.RedisCluster(
        startup_nodes=nodes,
        ssl=parts.scheme.lower().startswith("rediss"),
        **_auth(parts),
        **options,
    )


def limiter_storage_options(url: str) -> dict[str, Any]:
    """Flask-Limiter storage options for the same URL: same bounds, same retries, and
    always the primary (a replica's counts lag, and it refuses the writes)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in SENTINEL_SCHEMES:
        return {
            **retry_options(),
            "use_replicas": False,
            "sentinel_kwargs": {
                "socket_timeout": SENTINEL_TIMEOUT_SECONDS,
                "socket_connect_timeout": SENTINEL_TIMEOUT_SECONDS,
            },
        }
    if scheme in CLUSTER_SCHEMES:
        return {}
    if scheme in ("redis", "rediss", "unix"):
        return retry_options()
    return {}
