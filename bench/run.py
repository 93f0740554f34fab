"""`make bench`: every figure of the contract's performance section, in one run, against
its floor.

Starts my_app exactly as `make serve` runs it (deploy/uwsgi.ini, the HTTP router on
UWSGI_HTTP, production configuration, PostgreSQL + Redis, rate limits off, its own random
database and Redis prefix, both removed afterwards) and the floors of bench/floors.py under
the same ini: bare Flask-RESTful, `@jwt_required()`, and the two stack floors (write: one
`INSERT … RETURNING` and a commit through a psycopg pool; read: one `SELECT` by key). Drives
each with wrk over loopback, each figure right after its floor (a ratio is only fair at
equal load), and prints for every figure: requests per second, p50/p99 latency, errors, its
floor, the ratio and the target, and whether it is met (ratio, p99 ≤ 3 x p50, no error, no
worker recycled during the figure). Then the 52-occurrence series against one request at
the same load, POST /login against cores ÷ the time of one bcrypt check, the median of a
~10 KB response over one kept-alive connection, each worker's resident memory, and whether
any worker was recycled during the run.

GET /list_requests (first page and a page deep in the cursor chain) and POST
/accept_request are measured with 1,000 and then 1,000,000 rows in the table.

It is a benchmark, not a test: figures below target are reported, never fatal.
Options: --duration SECONDS per figure (default 4), --ini PATH (another uWSGI ini, e.g. to
compare with an earlier one), --no-million (skip the 1M rows load), --only REGEX (only the
figures whose label matches), --pgbouncer (also submit, accept and GET /me with the
database reached through PgBouncer in transaction mode, as ratios to the direct figures).
Each figure also reports the CPU per request of the uWSGI processes and of the data stores;
bench/profile.py shows where a request's time goes.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bcrypt  # noqa: E402
import psutil  # noqa: E402
import psycopg  # noqa: E402
from flask_jwt_extended import create_access_token  # noqa: E402

from bench.floors import FLOOR_TABLE, create_floor_app  # noqa: E402
from bench.pooler import ensure_pgbouncer, pgbouncer  # noqa: E402
from my_app.services.pagination import encode_cursor  # noqa: E402
from tests.support import services  # noqa: E402
from tests.support.uwsgi import UWSGIServer  # noqa: E402

CONNECTIONS, THREADS = 16, 2
STORES = {"postgres", "redis-server"}
TABLE_FIGURES = ("GET /list_requests", "  deep page", "POST /accept_request")
ACCEPT_ROWS = 8000  # pending requests per figure for POST /accept_request to accept
SLOT_MINUTES = 61  # every loaded row its own hour: accepted rows never collide
P99_OVER_P50 = 3  # target: no figure's p99 above 3 x its p50
MEMORY_MB = 80  # target: resident memory of one worker after the run
OCCURRENCES = 52
SERIES_TARGET = 5  # a series takes at most 5 x one request's time at the same load
# Series start in blocks two years apart (after everything else the bench books), 500 per
# block 20 minutes apart: 52 weekly occurrences of 15 minutes never meet another series'.
SERIES_BASE = 14_831_769_600  # 2440-01-01T00:00:00Z
SERIES_PER_BLOCK, SERIES_BLOCK_SECONDS, SERIES_GAP_SECONDS = 500, 2 * 366 * 86_400, 1200
BOOKING = {
    "topic": "bench",
    "duration_minutes": 60,
    "event_time": "2100-01-01T10:00:00Z",
    "address": {"street": "1 Main Street", "city": "Springfield", "country": "US"},
}
# The profile (python -m bench.profile FIGURE) that explains a figure below its target.
PROFILES = {
    "/me": "me",
    "/generate_random_array": "random",
    "/submit": "submit",
    "/accept": "accept",
    "deep page": "deep",
    "/list_requests": "list",
    "/login": "login",
}

FILL = """
INSERT INTO booking_requests (resource_id, topic, event_time, duration_minutes, end_time,
    street, city, country, status, requested_by_id, created_at, updated_at)
SELECT 1, 'bench ' || n,
       now() + interval '1 day' + n * interval '{slot} minutes',
       60,
       now() + interval '1 day' + n * interval '{slot} minutes' + interval '60 minutes',
       '1 Main Street', 'Springfield', 'US',
       (ARRAY['pending','accepted','rejected','cancelled','expired'])[1 + n %% 5],
       %(user)s, now(), now()
FROM generate_series(%(start)s::integer, %(stop)s::integer) AS n
"""
# Pending requests to accept, after every loaded row (which end ~116 years out at 1M),
# 20 minutes apart for 15 minutes each: each accept checks the table and finds no overlap.
# Each figure that accepts gets a year of its own (`years` from now).
PENDING = """
INSERT INTO booking_requests (resource_id, topic, event_time, duration_minutes, end_time,
    street, city, country, status, requested_by_id, created_at, updated_at)
SELECT 1, 'bench accept ' || n,
       now() + %(years)s * interval '1 year' + n * interval '20 minutes',
       15,
       now() + %(years)s * interval '1 year' + n * interval '20 minutes' + interval '15 minutes',
       '1 Main Street', 'Springfield', 'US', 'pending', %(user)s, now(), now()
FROM generate_series(1, %(count)s::integer) AS n
RETURNING id
"""


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    app_cpu_ms: float | None = None  # CPU per request of the uWSGI processes …
    db_cpu_ms: float | None = None  # … and of PostgreSQL's and Redis's (machine-wide)
    recycled: list[str] = field(default_factory=list)  # workers respawned during the run

    @property
    def tail(self) -> float:
        return self.p99_ms / self.p50_ms if self.p50_ms else 0.0

    def faults(self) -> list[str]:
        """What breaks a target other than the ratio: the tail, errors, a recycled worker."""
        faults = [f"p99 {self.tail:.1f}x p50"] if self.tail > P99_OVER_P50 else []
        faults += [f"{self.errors} errors"] if self.errors else []
        return [*faults, f"recycled {', '.join(self.recycled)}"] if self.recycled else faults


@dataclass
class Figure:
    """One line of the report: a run against its floor (None: a floor itself)."""

    label: str
    run: Run
    floor: str = ""
    floor_rps: float | None = None
    target: float | None = None  # the least ratio to the floor
    target_text: str = ""
    ratios: list[float] = field(default_factory=list)  # each round's, in order (`--rounds`)

    @property
    def ratio(self) -> float | None:
        return self.run.rps / self.floor_rps if self.floor_rps else None

    def verdict(self) -> str:
        if self.target is None:
            return ""
        faults = (["BELOW"] if self.ratio < self.target else []) + self.run.faults()
        return "ok" if not faults else "; ".join(faults)


class CpuMeter:
    """CPU seconds used by a uWSGI server's processes and by the data stores' (PostgreSQL,
    Redis), to say per request where the time of a figure goes (the stores' count whatever
    else uses them)."""

    def __init__(self, server) -> None:
        self.master = psutil.Process(server.process.pid)

    def read(self) -> tuple[float, float]:
        app = sum(_cpu(p) for p in (self.master, *self.master.children(recursive=True)))
        database = sum(_cpu(p) for p in psutil.process_iter(["name"]) if p.info["name"] in STORES)
        return app, database

    def charge(self, run: Run, before: tuple[float, float]) -> Run:
        after = self.read()
        run.app_cpu_ms, run.db_cpu_ms = (
            (b - a) * 1000 / max(run.requests, 1) for a, b in zip(before, after, strict=True)
        )
        return run


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing; installing it with apt-get", flush=True)
        quiet = {"stdout": subprocess.DEVNULL}
        subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, **quiet)
        found = shutil.which("wrk")
    if not found:
        sys.exit("make bench needs wrk (the HTTP load generator): sudo apt-get install wrk")
    return found


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(url: str, script: Path | None, duration: float, connections=CONNECTIONS, threads=THREADS):
    args = [
        WRK,
        "--latency",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{duration:g}s",
        "--timeout",
        "10s",
    ]
    if script:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    return Run(rps, p50, p99, requests, errors)


def lua(
    directory: Path,
    name: str,
    method: str,
    path: str,
    token: str | None,
    body: dict | None = None,
    ids: list[int] | None = None,
    series_from: int | None = None,
) -> Path:
    """A wrk script for one request shape. With `ids`, each request sends the next id as
    `{"id": …}` (the threads take turns) until none is left; with `series_from`, each sends
    `body` with its own `event_time`, the series slot `series_from + k` (see SERIES_BASE)."""
    lines = [f'wrk.method = "{method}"', f'wrk.path = "{path}"']
    if token:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    if body is not None or ids:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    if body is not None and series_from is None:
        lines.append(f"wrk.body = {json.dumps(json.dumps(body))}")
    if ids or series_from is not None:
        lines += [
            "local threads = 0",
            "function setup(thread)",
            '  thread:set("tid", threads)',
            "  threads = threads + 1",
            "end",
            "local n = 0",
        ]
    if ids:
        lines += [
            f"local ids = {{{', '.join(map(str, ids))}}}",
            "function request()",
            f"  local i = n * {THREADS} + tid + 1",
            "  n = n + 1",
            "  if i > #ids then",
            "    wrk.thread:stop()",
            '    return wrk.format("GET", "/health")',
            "  end",
            """  return wrk.format(nil, nil, nil, '{"id": ' .. ids[i] .. '}')""",
            "end",
        ]
    elif series_from is not None:
        template = json.dumps({**body, "event_time": "%s"}).replace("%", "%%").replace("%%s", "%s")
        lines += [
            f"local template = {json.dumps(template)}",
            "function request()",
            f"  local k = {series_from} + n * {THREADS} + tid",
            "  n = n + 1",
            f"  local t = {SERIES_BASE}"
            f" + math.floor(k / {SERIES_PER_BLOCK}) * {SERIES_BLOCK_SECONDS}"
            f" + (k % {SERIES_PER_BLOCK}) * {SERIES_GAP_SECONDS}",
            "  local body = string.format(template, os.date('!%Y-%m-%dT%H:%M:%SZ', t))",
            "  return wrk.format(nil, nil, nil, body)",
            "end",
        ]
    script = directory / f"{name}.lua"
    script.write_text("\n".join(lines) + "\n")
    return script


def call(conn: http.client.HTTPConnection, method: str, path: str, token=None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    payload = json.dumps(body) if body is not None else None
    if payload:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def keepalive_ms(port: int, token: str, count: int = 300) -> tuple[float, float, int, int]:
    """Median and p99 ms of POST /generate_random_array (~10 KB) over one connection, the
    response's size, and how many failed (the connection is then opened again)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    samples, size, errors = [], 0, 0
    body = {"sentence": "one connection, many requests"}
    for _ in range(count + 20):
        started = time.perf_counter()
        try:
            status, data = call(conn, "POST", "/generate_random_array", token, body)
        except (http.client.HTTPException, OSError):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        samples.append((time.perf_counter() - started) * 1000)
        errors += status != 200
        size = len(data)
    conn.close()
    measured = sorted(samples[20:])
    p99 = measured[min(len(measured) - 1, int(len(measured) * 0.99))]
    return statistics.median(measured), p99, size, errors


def bcrypt_seconds(rounds: int = 12) -> float:
    hashed = bcrypt.hashpw(b"bench password", bcrypt.gensalt(rounds))
    times = []
    for _ in range(3):
        started = time.perf_counter()
        bcrypt.checkpw(b"bench password", hashed)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident and proportional (shared pages divided among their sharers) memory."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    rss, pss = (
        int(re.search(rf"^{key}:\s+(\d+) kB", rollup, re.M).group(1)) / 1024
        for key in ("Rss", "Pss")
    )
    return rss, pss


def worker_pids(server) -> dict[int, tuple[int, int]]:
    """Each worker's pid and respawn count, by worker id: a change means it was recycled."""
    return {w["id"]: (w["pid"], w.get("respawn_count", 0)) for w in server.workers()}


def recycled(before: dict, after: dict) -> list[str]:
    return [
        f"worker {wid} (pid {pid} -> {after[wid][0] if wid in after else 'gone'})"
        for wid, (pid, respawns) in before.items()
        if after.get(wid) != (pid, respawns)
    ]


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg", "postgresql")


def sql(url: str, statement: str, params: dict | None = None) -> list[tuple]:
    with psycopg.connect(plain_dsn(url), autocommit=True) as conn:
        cursor = conn.execute(statement, params or {})
        return cursor.fetchall() if cursor.description else []


def fill(url: str, start: int, stop: int, user: int) -> None:
    sql(
        url, FILL.replace("{slot}", str(SLOT_MINUTES)), {"start": start, "stop": stop, "user": user}
    )
    sql(url, "VACUUM ANALYZE booking_requests")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=4)
    parser.add_argument("--ini", type=Path, default=ROOT / "deploy" / "uwsgi.ini")
    parser.add_argument("--no-million", action="store_true")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        metavar="N",
        help="rounds of floor-then-figure for each figure against a floor; the median ratio"
        " is reported (default 3)",
    )
    parser.add_argument(
        "--only",
        metavar="REGEX",
        help="measure only the figures whose label matches, e.g. 'me|submit'",
    )
    parser.add_argument(
        "--pgbouncer",
        action="store_true",
        help="also submit, accept and GET /me through PgBouncer in transaction mode",
    )
    parser.add_argument(
        "--prepare-threshold",
        type=int,
        metavar="N",
        help="serve the app with DATABASE_URL's prepare_threshold=N (psycopg prepares a"
        " statement on its Nth run on a connection); default: the app's own (never)",
    )
    options = parser.parse_args()
    global WRK
    WRK = ensure_wrk()
    with throwaway_stores("make bench") as (url, prefix), tempfile.TemporaryDirectory() as tmp:
        return bench(options, url, prefix, Path(tmp))


@contextlib.contextmanager
def throwaway_stores(tool: str):
    """A database of its own and a Redis prefix of its own, both removed afterwards."""
    for reason in (services.postgres_reachable(), services.redis_reachable()):
        if reason:
            sys.exit(f"{tool} needs PostgreSQL and Redis: {reason}")
    name = services.unique_name("my_app_bench")
    prefix = name + ":"
    url = services.create_database(name)
    try:
        yield url, prefix
    finally:
        services.drop_database(name)
        services.delete_redis_prefix(prefix)


def production_environ(url: str, prefix: str) -> dict[str, str]:
    """The production configuration a benchmark runs the app under: its own database and
    Redis prefix, fresh secrets, rate limits off, mail (none is sent) to a local server."""
    return {
        "APP_ENV": "production",
        "DATABASE_URL": url,
        "REDIS_URL": services.REDIS_URL,
        "BLACKLIST_REDIS_PREFIX": prefix,
        "RATELIMIT_KEY_PREFIX": prefix + "limits",
        "RATELIMIT_ENABLED": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "MAIL_BACKEND": "smtp",
        "LOG_LEVEL": "WARNING",
    }


def bench(options, url: str, prefix: str, tmp: Path) -> int:
    processes = int(os.environ.get("UWSGI_PROCESSES", "4"))
    environ = production_environ(url, prefix)
    flask = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi"]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("UWSGI_")}, **environ}
    started = time.perf_counter()
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    password = "bench password 1"
    subprocess.run(
        [
            *flask,
            "create-admin",
            "--username",
            "bench",
            "--email",
            "bench@example.com",
            "--password",
            password,
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    admin_id = sql(url, "SELECT id FROM users WHERE username = 'bench'")[0][0]
    sql(url, FLOOR_TABLE)  # the stack floors' rows, and some for the read floor to find
    sql(url, FLOOR_FILL, {"user": admin_id})
    print(
        f"database {url.rsplit('/', 1)[1]} migrated in {time.perf_counter() - started:.1f} s;"
        f" {processes} uWSGI workers, wrk -t{THREADS} -c{CONNECTIONS} -d{options.duration:g}s,"
        " each figure right after its floor",
        flush=True,
    )
    floors = UWSGIServer(environ, processes=processes, ini=options.ini, http_router=True)
    floors.args += ["--module", "bench.floors:app"]
    served = dict(environ)
    if options.prepare_threshold is not None:
        served["DATABASE_URL"] = f"{url}?prepare_threshold={options.prepare_threshold}"
    server = UWSGIServer(served, processes=processes, ini=options.ini, http_router=True)
    with floors, server:
        run = Bench(options, url, environ, tmp, floors, server, admin_id, password)
        run.all()
    run.report()
    return 0


FLOOR_FILL = """
INSERT INTO bench_floor (topic, event_time, duration_minutes, street, city, country,
    requested_by_id)
SELECT 'floor ' || n, now() + n * interval '1 hour', 60, '1 Main Street', 'Springfield', 'US',
    %(user)s
FROM generate_series(1, 1000) AS n
"""


class Bench:
    """The figures of one run, each measured right after its floor."""

    def __init__(self, options, url, environ, tmp, floors, server, admin_id, password):
        self.options, self.url, self.environ, self.tmp = options, url, environ, tmp
        self.floors, self.server, self.admin_id = floors, server, admin_id
        self.password, self.d = password, options.duration
        self.figures: list[Figure] = []
        self.series: list[tuple[str, Run, Run]] = []  # label, one request, the series
        self.pooled: list[tuple[str, Run, Run]] = []  # label, direct, through PgBouncer
        self.by_size: dict[int, tuple[Run | None, ...]] = {}
        self.series_notes: list[str] = []  # why a series figure was not measured
        self.pooled_notes: list[str] = []  # … or a figure through PgBouncer
        self.pooler_version = "PgBouncer"
        self.next_year = 300  # PENDING's year for the next figure that accepts
        with create_floor_app(environ["JWT_SECRET_KEY"]).app_context():
            floor_token = create_access_token(identity=str(admin_id))
        self.floor_scripts = {
            "bare": None,
            "@jwt": self.lua("floor_jwt", "GET", "/floor_jwt", floor_token),
            "write": self.lua("floor_write", "POST", "/floor_write", floor_token, BOOKING),
            "read": self.lua("floor_read", "GET", "/floor_read/500", floor_token),
        }
        self.floor_paths = {
            "bare": "/floor",
            "@jwt": "/floor_jwt",
            "write": "/floor_write",
            "read": "/floor_read/500",
        }
        self.floor_cpu, self.app_cpu = CpuMeter(floors), CpuMeter(server)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        login = {"username": "bench", "password": password}
        status, data = call(conn, "POST", "/login", body=login)
        conn.close()
        assert status == 200, data
        self.token = json.loads(data)["access_token"]
        self.workers_at_start = {s: worker_pids(s) for s in (floors, server)}

    def wanted(self, label: str) -> bool:
        return not self.options.only or re.search(self.options.only, label) is not None

    def lua(self, name: str, *args, **kwargs) -> Path:
        return lua(self.tmp, name, *args, **kwargs)

    def timed(self, server, path: str, script: Path | None, meter: CpuMeter | None = None):
        """One wrk run of `d` seconds, with the CPU it cost and any worker it recycled."""
        workers, before = worker_pids(server), meter.read() if meter else None
        run = wrk(f"{server.url}{path}", script, self.d)
        if meter:
            meter.charge(run, before)
        run.recycled = recycled(workers, worker_pids(server))
        return run

    def floor(self, name: str) -> Run:
        return self.timed(
            self.floors, self.floor_paths[name], self.floor_scripts[name], self.floor_cpu
        )

    def all(self) -> None:
        for name in self.floor_scripts:  # warm up: the write floor fills its pools
            wrk(f"{self.floors.url}{self.floor_paths[name]}", self.floor_scripts[name], 1)
        bare = self.floor("bare")
        self.figures.append(Figure("floor: bare Flask-RESTful", bare))
        for name, label in (
            ("@jwt", "floor: @jwt_required()"),
            ("write", "floor: write (INSERT, commit)"),
            ("read", "floor: read (SELECT by key)"),
        ):
            self.figures.append(Figure(label, self.floor(name), "bare", bare.rps))
        self.measure("GET /me", "GET", "/me", floor="@jwt", target=0.6)
        self.measure(
            "POST /generate_random_array",
            "POST",
            "/generate_random_array",
            {"sentence": "the quick brown fox"},
            floor="@jwt",
            target=0.6,
        )
        self.measure("POST /submit_request", "POST", "/submit_request", BOOKING, "write", 0.5)
        if self.wanted("series"):
            self.measure_series()
        if self.options.pgbouncer and self.wanted("PgBouncer"):
            self.measure_pooled()
        self.measure_table()
        if self.wanted("POST /login"):
            self.measure_login()
        self.keepalive = keepalive_ms(self.server.port, self.token)
        self.workers_at_end = {s: worker_pids(s) for s in (self.floors, self.server)}
        self.memory = {w["pid"]: memory_mb(w["pid"]) for w in self.server.workers()}
        self.floor_memory = {w["pid"]: memory_mb(w["pid"]) for w in self.floors.workers()}

    def measure(self, label, method, path, body=None, floor="@jwt", target=None, ids=None):
        """The figure, right after its floor again: on a shared machine the load changes
        from minute to minute, and a ratio is only fair at equal load. `--rounds` rounds of
        floor-then-figure; the line is the round with the median ratio, with every round's
        errors and recycled workers. `ids`: pending requests for the first round (each
        later round gets fresh ones)."""
        if not self.wanted(label):
            return None
        name = re.sub(r"\W", "_", label)
        rounds: list[tuple[float, Run, Run]] = []
        for n in range(self.options.rounds):
            if ids is not None and n > 0:
                ids = self.pending()
            warm_ids, run_ids = (
                (ids[: len(ids) // 5], ids[len(ids) // 5 :]) if ids else (None, None)
            )
            warm = self.lua(f"{name}_warm{n}", method, path, self.token, body, warm_ids)
            wrk(f"{self.server.url}{path}", warm, 1)
            floor_run = self.floor(floor)
            script = self.lua(f"{name}{n}", method, path, self.token, body, run_ids)
            run = self.timed(self.server, path, script, self.app_cpu)
            rounds.append((run.rps / floor_run.rps if floor_run.rps else 0.0, run, floor_run))
        _, run, floor_run = sorted(rounds, key=lambda r: r[0])[len(rounds) // 2]
        run.errors = sum(r.errors for _, r, _ in rounds)
        run.recycled = [w for _, r, _ in rounds for w in r.recycled]
        text = f"≥ {target} x {floor} floor"
        ratios = [ratio for ratio, _, _ in rounds]
        self.figures.append(Figure(label, run, floor, floor_run.rps, target, text, ratios))
        progress(label, run)
        return run

    def pending(self, count: int = ACCEPT_ROWS) -> list[int]:
        """`count` pending requests that can each be accepted, in a year of their own."""
        self.next_year += 1
        params = {"years": self.next_year, "count": count, "user": self.admin_id}
        return [r[0] for r in sql(self.url, PENDING, params)]

    def probe(self, server, method: str, path: str, body=None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            return call(conn, method, path, self.token, body)
        finally:
            conn.close()

    def measure_series(self) -> None:
        """A 52-occurrence series against one request, at the same load: submit, accept."""
        status, _ = self.probe(self.server, "POST", "/submit_series", {})
        if status in (404, 405):
            self.series_notes.append(
                f"skipped: series endpoints not available (POST /submit_series answered {status})"
            )
            return
        body = {
            **BOOKING,
            "topic": "bench series",
            "duration_minutes": 15,
            "recurrence": {"rrule": f"FREQ=WEEKLY;COUNT={OCCURRENCES}"},
        }
        slots = iter(range(0, 10**6, 50_000))  # each wrk run its own series slots
        warm = self.lua(
            "series_warm", "POST", "/submit_series", self.token, body, None, next(slots)
        )
        wrk(f"{self.server.url}/submit_series", warm, 1)
        one_script = self.lua("series_one", "POST", "/submit_request", self.token, BOOKING)
        one = self.timed(self.server, "/submit_request", one_script)
        script = self.lua("series", "POST", "/submit_series", self.token, body, None, next(slots))
        many = self.timed(self.server, "/submit_series", script, self.app_cpu)
        self.series.append(("POST /submit_series", one, many))
        progress("POST /submit_series", many)

        try:
            series_ids = [
                r[0]
                for r in sql(
                    self.url,
                    "SELECT DISTINCT series_id FROM booking_requests"
                    " WHERE series_id IS NOT NULL AND status = 'pending' ORDER BY 1",
                )
            ]
        except psycopg.Error as exc:
            self.series_notes.append(
                "POST /accept_series skipped: the series' ids were not found"
                f" (booking_requests.series_id): {str(exc).splitlines()[0]}"
            )
            return
        if len(series_ids) < 10:
            self.series_notes.append(f"POST /accept_series skipped: {len(series_ids)} series")
            return
        warm_ids, series_ids = (
            series_ids[: len(series_ids) // 5],
            series_ids[len(series_ids) // 5 :],
        )
        warm = self.lua("accept_series_warm", "POST", "/accept_series", self.token, ids=warm_ids)
        wrk(f"{self.server.url}/accept_series", warm, 1)
        ids = self.pending()
        one_script = self.lua("accept_one", "POST", "/accept_request", self.token, ids=ids)
        one = self.timed(self.server, "/accept_request", one_script)
        script = self.lua("accept_series", "POST", "/accept_series", self.token, ids=series_ids)
        many = self.timed(self.server, "/accept_series", script, self.app_cpu)
        self.series.append(("POST /accept_series", one, many))
        progress("POST /accept_series", many)
        if many.requests >= len(series_ids) - CONNECTIONS:
            self.series_notes.append(
                f"POST /accept_series ran out of series after {many.requests} requests:"
                " its req/s is low, its latencies stand"
            )

    def measure_pooled(self) -> None:
        """Submit, accept and GET /me through PgBouncer in transaction mode, each right
        after the same figure without it."""
        binary = ensure_pgbouncer()
        if not binary:
            self.pooled_notes.append("not measured: pgbouncer is not installed")
            return
        with pgbouncer(binary, self.url) as bouncer:
            environ = {**self.environ, "DATABASE_URL": bouncer.url_for(self.url)}
            pooled = UWSGIServer(
                environ,
                processes=len(self.server.workers()),
                ini=self.options.ini,
                http_router=True,
            )
            try:
                pooled.__enter__()
            except RuntimeError as exc:
                self.pooled_notes.append(f"not measured: the app did not start through it: {exc}")
                return
            try:
                self._measure_pooled(bouncer, pooled)
            finally:
                pooled.__exit__(None, None, None)

    def _measure_pooled(self, bouncer, pooled) -> None:
        self.pooler_version = bouncer.version()
        failed = []
        for method, path, body in (("GET", "/me", None), ("POST", "/submit_request", BOOKING)):
            status, data = self.probe(pooled, method, path, body)
            if status >= 300:
                title = json.loads(data).get("title", "") if data.startswith(b"{") else ""
                failed.append(f"{method} {path} answered {status} {title}".strip())
        said = bouncer.log_lines("unsupported startup parameter", "prepared statement")
        if failed:
            self.pooled_notes.append("not measured: through PgBouncer " + ", ".join(failed))
            self.pooled_notes += [f"PgBouncer's log: {line}" for line in said[:2]]
            if any("startup parameter" in line for line in said):
                self.pooled_notes.append(
                    "the app sends startup `options` (statement_timeout, lock_timeout), which"
                    " a transaction pooler refuses; making the app pooler-safe is the topology"
                    " work (wip/topology)"
                )
            return
        figures = [
            ("GET /me", "GET", "/me", None),
            ("POST /submit_request", "POST", "/submit_request", BOOKING),
            ("POST /accept_request", "POST", "/accept_request", None),
        ]
        for label, method, path, body in figures:
            runs = []
            for server, meter, how in (
                (self.server, self.app_cpu, "direct"),
                (pooled, None, "pooled"),
            ):
                name = re.sub(r"\W", "_", label) + "_" + how
                ids = self.pending() if path == "/accept_request" else None
                warm = self.lua(f"{name}_warm", method, path, self.token, body, ids and ids[:500])
                wrk(f"{server.url}{path}", warm, 1)
                script = self.lua(name, method, path, self.token, body, ids and ids[500:])
                runs.append(self.timed(server, path, script, meter))
            self.pooled.append((label, *runs))
            progress(f"{label} through PgBouncer", runs[1])
        said = bouncer.log_lines("unsupported startup parameter", "prepared statement")
        self.pooled_notes += [f"PgBouncer's log during the run: {line}" for line in said[:2]]

    def measure_table(self) -> None:
        """GET /list_requests (page 1 and a deep page) and POST /accept_request with 1,000,
        then 1,000,000 rows in the table."""
        sizes = [1_000] if self.options.no_million else [1_000, 1_000_000]
        if not any(self.wanted(f"{what}, 1,000 rows") for what in TABLE_FIGURES):
            return
        # The figures before left their rows: start from an empty table.
        sql(self.url, "TRUNCATE booking_requests CASCADE")
        loaded = 0
        for size in sizes:
            t = time.perf_counter()
            fill(self.url, loaded + 1, size, self.admin_id)
            loaded = size
            print(f"loaded {size:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
            deep = sql(
                self.url,
                "SELECT event_time, id FROM booking_requests ORDER BY event_time, id "
                "OFFSET %(n)s LIMIT 1",
                {"n": int(size * 0.9)},
            )[0]
            cursor = encode_cursor([deep[0].isoformat(), deep[1]])
            first = self.measure(
                f"GET /list_requests, {size:,} rows",
                "GET",
                "/list_requests?limit=20",
                floor="read",
                target=0.5,
            )
            deep_run = self.measure(
                f"  deep page, {size:,} rows",
                "GET",
                f"/list_requests?limit=20&cursor={cursor}",
                floor="read",
                target=0.5,
            )
            ids = self.pending() if self.wanted(f"POST /accept_request, {size:,} rows") else None
            # Settled before measuring: otherwise autovacuum may pick the table up mid-figure.
            sql(self.url, "VACUUM ANALYZE booking_requests")
            accept = self.measure(
                f"POST /accept_request, {size:,} rows",
                "POST",
                "/accept_request",
                floor="write",
                target=0.5,
                ids=ids,
            )
            self.by_size[size] = (first, deep_run, accept)
            loaded = sql(self.url, "SELECT count(*) FROM booking_requests")[0][0]

    def measure_login(self) -> None:
        script = self.lua(
            "login", "POST", "/login", None, {"username": "bench", "password": self.password}
        )
        processes = len(self.server.workers())
        workers = worker_pids(self.server)
        self.cores, self.check = os.cpu_count() or 1, bcrypt_seconds()
        # Logins finish in rounds (each connection's bcrypt check, the cores shared): a
        # window of few rounds cuts the last one off and undercounts by up to a round, so
        # the window holds 20 of them (at 8 connections, 217 ms a check on 2 cores: 17 s).
        connections = 2 * processes
        window = max(self.d, 6, math.ceil(20 * connections * self.check / self.cores))
        login = wrk(f"{self.server.url}/login", script, window, connections=connections)
        login.recycled = recycled(workers, worker_pids(self.server))
        self.figures.append(
            Figure(
                "POST /login",
                login,
                "bcrypt",
                self.cores / self.check,
                0.9,
                "≥ 0.9 x cores ÷ bcrypt",
            )
        )
        progress("POST /login", login)

    def report(self) -> None:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"\nload average at the end: {load} on {os.cpu_count()} cores"
            " (other processes' load lowers every figure, the floors' too)"
        )
        print(
            f"\n{'figure':<38}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'p99/50':>7}{'errors':>7}"
            f"  {'floor':<7}{'req/s':>8}{'ratio':>7}  target: verdict"
        )
        for f in self.figures:
            run = f.run
            ratio = f"{f.ratio:>6.2f}x" if f.ratio is not None else " " * 7
            floor = f"  {f.floor:<7}{f.floor_rps:>8.1f}" if f.floor_rps else " " * 17
            target = f"  {f.target_text}: {f.verdict()}" if f.target is not None else ""
            print(
                f"{f.label:<38}{run.rps:>9.1f}{run.p50_ms:>9.2f}{run.p99_ms:>9.2f}"
                f"{run.tail:>6.1f}x{run.errors:>7}{floor}{ratio}{target}"
            )
        rounds = [f for f in self.figures if len(f.ratios) > 1]
        if rounds:
            print("\neach round's ratio, in order (the line above is the median round's)")
            for f in rounds:
                print(f"  {f.label:<38}" + "  ".join(f"{r:.2f}x" for r in f.ratios))
        print("\nCPU per request, in ms: the uWSGI processes / PostgreSQL's and Redis's")
        for f in self.figures:
            if f.run.app_cpu_ms is not None:
                print(f"  {f.label:<38}{f.run.app_cpu_ms:>7.2f} /{f.run.db_cpu_ms:>6.2f}")
        if any(f.label == "POST /login" for f in self.figures):
            print(
                f"(POST /login: {self.cores} cores ÷ {self.check * 1000:.0f} ms per bcrypt check"
                f" = {self.cores / self.check:.1f}/s)"
            )
        self.report_table_sizes()
        self.report_series()
        self.report_pooled()
        self.report_serving()
        below = sorted(
            {
                profile
                for f in self.figures
                if f.target is not None and f.ratio < f.target
                for key, profile in PROFILES.items()
                if key in f.label
            }
        )
        if below:
            print(f"\nbelow target: where the time goes, python -m bench.profile {' '.join(below)}")

    def report_table_sizes(self) -> None:
        if len(self.by_size) != 2:
            return
        print("\n1M rows against 1k rows (target: GET /list_requests at 1M within 1.5x of 1k)")
        for i, what in enumerate(("list, first page", "list, deep page", "accept")):
            small, large = self.by_size[1_000][i], self.by_size[1_000_000][i]
            if small is None or large is None:
                continue
            slower = small.rps / large.rps
            verdict = ("ok" if slower <= 1.5 else "ABOVE") if i == 0 else "(no target)"
            print(f"  {what:<20} {slower:.2f}x slower  {verdict}")

    def report_series(self) -> None:
        if not self.series and not self.series_notes:
            return
        print(
            f"\na {OCCURRENCES}-occurrence series against one request at the same load"
            f" (target: p50 ≤ {SERIES_TARGET}x one request's, p99 ≤ {P99_OVER_P50}x p50)"
        )
        for label, one, many in self.series:
            times = many.p50_ms / one.p50_ms
            faults = (["ABOVE"] if times > SERIES_TARGET else []) + many.faults()
            print(
                f"  {label:<22} p50 {many.p50_ms:8.2f} ms, p99 {many.p99_ms:8.2f} ms,"
                f" {many.rps:6.1f}/s; one request p50 {one.p50_ms:7.2f} ms: {times:5.2f}x,"
                f" {many.p50_ms / OCCURRENCES:.2f} ms per occurrence"
                f"  {'ok' if not faults else '; '.join(faults)}"
            )
        for note in self.series_notes:
            print(f"  {note}")

    def report_pooled(self) -> None:
        if not self.pooled and not self.pooled_notes:
            return
        print(
            f"\nsubmit, accept and GET /me through PgBouncer ({self.pooler_version}, transaction"
            " mode) against direct (target ≥ 0.8x)"
        )
        for label, direct, pooled in self.pooled:
            ratio = pooled.rps / direct.rps
            faults = (["BELOW"] if ratio < 0.8 else []) + pooled.faults()
            print(
                f"  {label:<22} {pooled.rps:8.1f}/s (p50 {pooled.p50_ms:.2f}, p99"
                f" {pooled.p99_ms:.2f} ms, {pooled.errors} errors) against {direct.rps:8.1f}/s:"
                f" {ratio:.2f}x  {'ok' if not faults else '; '.join(faults)}"
            )
        for note in self.pooled_notes:
            print(f"  {note}")

    def report_serving(self) -> None:
        print(f"\nresident memory of each worker after the run (target ≤ {MEMORY_MB} MB):")
        for pid, (rss, pss) in self.memory.items():
            print(
                f"  my_app worker {pid}: {rss:.1f} MB resident ({pss:.1f} MB proportional)"
                f"  {'ok' if rss <= MEMORY_MB else 'ABOVE'}"
            )
        floor_rss = ", ".join(f"{rss:.1f}" for rss, _ in self.floor_memory.values())
        print(f"  (floor workers: {floor_rss} MB resident)")
        gone = [
            f"{'floors' if s is self.floors else 'my_app'} {what}"
            for s, before in self.workers_at_start.items()
            for what in recycled(before, self.workers_at_end[s])
        ]
        print(
            "workers recycled during the run: "
            + (", ".join(gone) + "  ABOVE" if gone else "none  ok")
        )
        median, p99, size, errors = self.keepalive
        faults = (["ABOVE"] if median >= 5 else []) + (
            [f"p99 {p99 / median:.1f}x p50"] if p99 > P99_OVER_P50 * median else []
        )
        faults += [f"{errors} errors"] if errors else []
        print(
            f"\n~10 KB response ({size:,} bytes) over one kept-alive connection: median"
            f" {median:.2f} ms, p99 {p99:.2f} ms, {errors} errors in 320 (target: median under"
            f" 5 ms, p99 ≤ {P99_OVER_P50}x p50)  {'ok' if not faults else '; '.join(faults)}"
        )


def progress(label: str, run: Run) -> None:
    print(
        f"  {label}: {run.rps:.1f}/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms,"
        f" {run.errors} errors",
        flush=True,
    )


WRK = "wrk"

if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
