"""Prometheus metrics: what requests, logins, decisions and dependencies did, for the host.

Under uWSGI every worker writes its counts to files in PROMETHEUS_MULTIPROC_DIR
(prometheus_client's multiprocess mode; deploy/uwsgi.ini makes the directory
fresh when the server starts) and `GET /metrics` adds up every worker's files,
so one scrape answers for the whole host. Without that directory (the
development server, tests) the counts are this process's own.

Services report what happened with one call: `metrics.login("success")`,
`metrics.transition("accepted")`. Requests are counted by route template
(`/request/<id:booking_id>`), never by raw path, so the series stay few.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError

PATH = "/metrics"
BACKLOG_KEY = "metrics.backlog"
UNMATCHED = "<unmatched>"  # 404s and 405s: the raw path would be unbounded
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
log = logging.getLogger(__name__)
disable_created_metrics()  # `_created` series: none in multiprocess mode, so none at all

REQUESTS = Counter(
    "my_app_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "my_app_http_request_duration_seconds",
    "Time the app took to answer, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
LOGINS = Counter("my_app_logins", "Login attempts by outcome.", ["outcome"])
TRANSITIONS = Counter(
    "my_app_booking_transitions",
    "Booking requests entering a status (pending: submitted), by that status.",
    ["to_status"],
)
FOLLOWUPS = Counter(
    "my_app_booking_followups",
    "What the after-acceptance jobs did: no-shows released, reminders sent, requests escalated.",
    ["action"],
)
BLACKLIST_ERRORS = Counter(
    "my_app_blacklist_errors",
    "Requests answered 503 because the token blacklist store could not be reached.",
    ["store"],
)
DB_POOL_IN_USE = Gauge(
    "my_app_db_pool_connections_in_use",
    "Database connections checked out of the pool now, over every live worker.",
    ["database"],
    multiprocess_mode="livesum",
)
EXPORTED = ("my_app_events_pending", "my_app_events_failed")  # from EventBacklog, at scrape time

# Label children by label values: `labels()` takes a lock and builds a tuple each time, and
# this runs on every request.
_request_children: dict[tuple[str, str, int], tuple] = {}


# ---------------------------------------------------------------- what services call


def login(outcome: str) -> None:
    LOGINS.labels(outcome).inc()


def transition(to_status: str, count: int = 1) -> None:
    if count:
        TRANSITIONS.labels(to_status).inc(count)


def followup(action: str, count: int = 1) -> None:
    """`release`, `reminder` or `escalation`, `count` times."""
    if count:
        FOLLOWUPS.labels(action).inc(count)


def blacklist_error() -> None:
    BLACKLIST_ERRORS.labels(current_app.config["BLACKLIST_BACKEND"]).inc()


# ---------------------------------------------------------------- requests


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _count_request(response: Response) -> Response:
    started = g.get("metrics_started")
    if started is None:
        return response
    rule = request.url_rule
    route = (rule.rule.rstrip("/") or "/") if rule is not None else UNMATCHED
    method = request.method if request.method in METHODS else "OTHER"
    status = response.status_code
    key = (route, method, status)
    children = _request_children.get(key)
    if children is None:
        children = (REQUESTS.labels(route, method, str(status)), LATENCY.labels(route, method))
        _request_children[key] = children
    children[0].inc()
    children[1].observe(time.perf_counter() - started)
    if status == 429 and route == "/login":
        login("throttled")
    return response


# ---------------------------------------------------------------- database pool


def _watch_pool(engine) -> None:
    gauge = DB_POOL_IN_USE.labels(engine.dialect.name)
    event.listen(engine, "checkout", lambda *_: gauge.inc())
    event.listen(engine, "checkin", lambda *_: gauge.dec())


# ---------------------------------------------------------------- scraping


class EventBacklog:
    """Events pending and failed, read from the outbox per scrape (`backlog`, given at init_app).

    Both gauges are left out for a scrape during which the database cannot answer: a gap in
    the graph, not a false zero.
    """

    def __init__(self, backlog: Callable[[], dict[str, int]]):
        self.backlog = backlog

    def collect(self) -> Iterator[Metric]:
        backlog = self.backlog
        try:
            counts = backlog()
        except DBAPIError as exc:
            log.warning("events backlog unavailable for /metrics: %s", exc.__class__.__name__)
            return
        yield GaugeMetricFamily(EXPORTED[0], "Booking events waiting to be delivered.",
                                value=counts["pending"])  # fmt: skip
        yield GaugeMetricFamily(EXPORTED[1], "Booking events given up on after a day of retries.",
                                value=counts["failed"])  # fmt: skip


class ThisProcess:
    """The default registry's metrics, when there is no multiprocess directory."""

    def collect(self) -> Iterator[Metric]:
        return REGISTRY.collect()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_processes(path: str) -> None:
    """`mark_process_dead` for every worker that has gone (recycled, killed by harakiri…).

    A dead worker's counters stay in the sum; its share of the live gauges must not.
    """
    for name in os.listdir(path):
        if name.startswith("gauge_live") and name.endswith(".db"):
            pid = name[: -len(".db")].rpartition("_")[2]
            if pid.isdigit() and not _alive(int(pid)):
                multiprocess.mark_process_dead(int(pid), path)


def scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    path = current_app.config["PROMETHEUS_MULTIPROC_DIR"]
    if path:
        forget_dead_processes(path)
        multiprocess.MultiProcessCollector(registry, path=path)
    else:
        registry.register(ThisProcess())
    backlog = current_app.extensions.get(BACKLOG_KEY)
    if backlog is not None:
        registry.register(EventBacklog(backlog))
    return registry


def serve_metrics() -> Response:
    """Prometheus text format for the whole host; `Authorization: Bearer $METRICS_TOKEN`."""
    expected = current_app.config["METRICS_TOKEN"]
    if not expected:
        abort(404)  # the same answer as a path that does not exist
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    valid = hmac.compare_digest(presented.strip().encode(), expected.encode())
    if scheme.lower() != "bearer" or not valid:
        abort(401, description="A valid metrics token is required.")  # problem+json, errors.py
    body = generate_latest(scrape_registry())
    headers = {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
    return Response(body, headers=headers)


def init_app(app: Flask, backlog: Callable[[], dict[str, int]] | None = None) -> None:
    """Count every request; serve /metrics, with the event outbox's `backlog()` if given."""
    app.extensions[BACKLOG_KEY] = backlog
    path = app.config["PROMETHEUS_MULTIPROC_DIR"]
    if path:
        os.makedirs(path, exist_ok=True)
    # First of all before-request hooks, so a request another hook answers early is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_count_request)
    for rule in (PATH, PATH + "/"):
        app.add_url_rule(rule, "metrics", serve_metrics, methods=["GET"])
    # Through app.extensions, not my_app.extensions: errors.py imports this module, and the
    # lowest layer must not reach the extensions through it.
    with app.app_context():
        for engine in app.extensions["sqlalchemy"].engines.values():
            _watch_pool(engine)
