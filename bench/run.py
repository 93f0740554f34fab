"""`make bench`: every performance figure the service promises, in one run, against two floors.

Starts my_app exactly as `make serve` runs it (deploy/uwsgi.ini, the HTTP router on
UWSGI_HTTP, production configuration, PostgreSQL + Redis, rate limits off, its own random
database and Redis prefix, both removed afterwards) and the two floors of bench/floors.py
under the same ini; drives each with wrk over loopback, then prints for every figure:
requests per second, p50/p99 latency, errors, the ratio to its floor and the target. Then
each worker's resident memory, the median of a ~10 KB response over one kept-alive
connection, and POST /login against cores ÷ the time of one bcrypt check.

The 1k → 1M rows figures: GET /list_requests (first page and a page deep in the cursor
chain) and POST /accept_request with 1,000 and then 1,000,000 rows in the table.

It is a benchmark, not a test: figures below target are reported, never fatal.
Options: --duration SECONDS per figure (default 4), --ini PATH (another uWSGI ini, e.g. to
compare with an earlier one), --no-million (skip the 1M rows load), --only REGEX (only the
figures whose label matches). Each figure also reports the CPU per request of the uWSGI
processes and of the data stores; bench/profile.py shows where a request's time goes.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bcrypt  # noqa: E402
import psutil  # noqa: E402
import psycopg  # noqa: E402
from flask_jwt_extended import create_access_token  # noqa: E402

from bench.floors import create_floor_app  # noqa: E402
from my_app.services.pagination import encode_cursor  # noqa: E402
from tests.support import services  # noqa: E402
from tests.support.uwsgi import UWSGIServer  # noqa: E402

CONNECTIONS, THREADS = 16, 2
STORES = {"postgres", "redis-server"}
TABLE_FIGURES = ("GET /list_requests", "  deep page", "POST /accept_request")
ACCEPT_ROWS = 8000  # pending requests per table size for POST /accept_request to accept
SLOT_MINUTES = 61  # every loaded row its own hour: accepted rows never collide

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
) -> Path:
    """A wrk script for one request shape; with `ids`, each request accepts the next id."""
    lines = [f'wrk.method = "{method}"', f'wrk.path = "{path}"']
    if token:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    if body is not None or ids:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(json.dumps(body))}")
    if ids:  # one wrk thread: a single counter walks the ids, then the thread stops
        lines += [
            f"local first, last, n = {ids[0]}, {ids[-1]}, {ids[0]}",
            "request = function()",
            "  if n > last then wrk.thread:stop() end",
            "  local body = '{\"id\": ' .. n .. '}'",
            "  n = n + 1",
            f'  return wrk.format("{method}", "{path}", nil, body)',
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


def keepalive_median_ms(port: int, token: str, count: int = 300) -> tuple[float, int, int]:
    """Median ms of POST /generate_random_array (~10 KB) over one connection, the response's
    size, and how many failed (the connection is then opened again)."""
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
    return statistics.median(samples[20:]), size, errors


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
        "--only",
        metavar="REGEX",
        help="measure only the figures whose label matches, e.g. 'me|submit'",
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
    def wanted(label: str) -> bool:
        return not options.only or re.search(options.only, label) is not None

    processes = int(os.environ.get("UWSGI_PROCESSES", "4"))
    environ = production_environ(url, prefix)
    jwt_key = environ["JWT_SECRET_KEY"]
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
    print(
        f"database {url.rsplit('/', 1)[1]} migrated in {time.perf_counter() - started:.1f} s;"
        f" {processes} uWSGI workers, wrk -t{THREADS} -c{CONNECTIONS} -d{options.duration:g}s,"
        " each figure right after its floor"
    )

    floors = UWSGIServer(
        {**environ, "JWT_SECRET_KEY": jwt_key},
        processes=processes,
        ini=options.ini,
        http_router=True,
    )
    floors.args += ["--module", "bench.floors:app"]
    server = UWSGIServer(environ, processes=processes, ini=options.ini, http_router=True)
    rows: list[tuple[str, Run, float, float | None, str]] = []  # name, run, floor, target
    with floors, server:
        with create_floor_app(jwt_key).app_context():
            floor_token = create_access_token(identity="1")
        d = options.duration
        jwt_script = lua(tmp, "floor_jwt", "GET", "/floor_jwt", floor_token)
        wrk(f"{floors.url}/floor_jwt", jwt_script, 1)  # warm up
        floor_cpu, app_cpu = CpuMeter(floors), CpuMeter(server)
        before = floor_cpu.read()
        bare = floor_cpu.charge(wrk(f"{floors.url}/floor", None, d), before)
        before = floor_cpu.read()
        jwt_floor = floor_cpu.charge(wrk(f"{floors.url}/floor_jwt", jwt_script, d), before)
        rows.append(("floor: bare Flask-RESTful", bare, bare.rps, None, ""))
        rows.append(("floor: @jwt_required()", jwt_floor, bare.rps, None, ""))

        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        status, data = call(
            conn, "POST", "/login", body={"username": "bench", "password": password}
        )
        assert status == 200, data
        token = json.loads(data)["access_token"]
        conn.close()

        def measure(label, method, path, body=None, target=None, ids=None):
            """The figure, right after the @jwt_required floor again: on a shared machine the
            load changes from minute to minute, and a ratio is only fair at equal load."""
            if not wanted(label):
                return None
            name = re.sub(r"\W", "_", label)
            warm_ids, ids = (ids[: len(ids) // 5], ids[len(ids) // 5 :]) if ids else (None, None)
            warm = lua(tmp, name + "_warm", method, path, token, body, warm_ids)
            wrk(f"{server.url}{path}", warm, 1, threads=1 if ids else THREADS)
            floor = wrk(f"{floors.url}/floor_jwt", jwt_script, d)
            script = lua(tmp, name, method, path, token, body, ids)
            before = app_cpu.read()
            run = wrk(f"{server.url}{path}", script, d, threads=1 if ids else THREADS)
            app_cpu.charge(run, before)
            text = f"≥ {target} x @jwt floor" if target else ""
            rows.append((label, run, floor.rps, target, text))
            return run

        measure("GET /me", "GET", "/me", target=0.5)
        measure(
            "POST /generate_random_array",
            "POST",
            "/generate_random_array",
            {"sentence": "the quick brown fox"},
            target=0.6,
        )
        booking = {
            "topic": "bench",
            "duration_minutes": 60,
            "event_time": "2100-01-01T10:00:00Z",
            "address": {"street": "1 Main Street", "city": "Springfield", "country": "US"},
        }
        measure("POST /submit_request", "POST", "/submit_request", booking, target=0.12)

        sizes = [1_000] if options.no_million else [1_000, 1_000_000]
        if not any(wanted(f"{what}, 1,000 rows") for what in TABLE_FIGURES):
            sizes = []
        loaded, by_size = sql(url, "SELECT count(*) FROM booking_requests")[0][0], {}
        for size in sizes:
            t = time.perf_counter()
            fill(url, loaded + 1, size, admin_id)
            loaded = size
            print(f"loaded {size:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
            ids = [
                r[0]
                for r in sql(
                    url,
                    PENDING,
                    {"years": 200 + sizes.index(size), "count": ACCEPT_ROWS, "user": admin_id},
                )
            ]
            # Settled before measuring: otherwise autovacuum may pick the table up mid-figure.
            sql(url, "VACUUM ANALYZE booking_requests")
            deep = sql(
                url,
                "SELECT event_time, id FROM booking_requests ORDER BY event_time, id "
                "OFFSET %(n)s LIMIT 1",
                {"n": int(size * 0.9)},
            )[0]
            cursor = encode_cursor([deep[0].isoformat(), deep[1]])
            by_size[size] = (
                measure(
                    f"GET /list_requests, {size:,} rows",
                    "GET",
                    "/list_requests?limit=20",
                    target=0.12,
                ),
                measure(
                    f"  deep page, {size:,} rows",
                    "GET",
                    f"/list_requests?limit=20&cursor={cursor}",
                    target=0.12,
                ),
                measure(
                    f"POST /accept_request, {size:,} rows",
                    "POST",
                    "/accept_request",
                    target=0.12,
                    ids=ids,
                ),
            )

        if wanted("POST /login"):
            login_script = lua(
                tmp, "login", "POST", "/login", None, {"username": "bench", "password": password}
            )
            login = wrk(f"{server.url}/login", login_script, max(d, 6), connections=2 * processes)
            cores, check = os.cpu_count() or 1, bcrypt_seconds()
            bcrypt_floor = cores / check
            rows.append(("POST /login", login, bcrypt_floor, 0.9, "≥ 0.9 x cores ÷ bcrypt"))

        keepalive_ms, keepalive_size, keepalive_errors = keepalive_median_ms(server.port, token)
        workers = {w["pid"]: memory_mb(w["pid"]) for w in server.workers()}
        floor_workers = {w["pid"]: memory_mb(w["pid"]) for w in floors.workers()}

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nload average at the end: {load} on {os.cpu_count()} cores"
        " (other processes' load lowers every figure, the floors' too)"
    )
    print(
        f"\n{'figure':<38}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'floor':>9}"
        f"{'ratio':>8}  target"
    )
    for label, run, floor, target, text in rows:
        ratio = run.rps / floor
        verdict = "" if target is None else ("  ok" if ratio >= target else "  BELOW")
        print(
            f"{label:<38}{run.rps:>9.1f}{run.p50_ms:>9.2f}{run.p99_ms:>9.2f}{run.errors:>8}"
            f"{floor:>9.1f}{ratio:>7.2f}x  {text}{verdict}"
        )
    print("\nCPU per request, in ms: the uWSGI processes / PostgreSQL's and Redis's")
    for label, run, *_ in rows:
        if run.app_cpu_ms is not None:
            print(f"  {label:<38}{run.app_cpu_ms:>7.2f} /{run.db_cpu_ms:>6.2f}")
    if wanted("POST /login"):
        print(
            f"(POST /login: {cores} cores ÷ {check * 1000:.0f} ms per bcrypt check"
            f" = {bcrypt_floor:.1f}/s)"
        )
    if len(by_size) == 2:
        print("\n1M rows against 1k rows (target: 1M within 1.5x of 1k)")
        for i, what in enumerate(("list, first page", "list, deep page", "accept")):
            small, large = by_size[1_000][i], by_size[1_000_000][i]
            if small is None or large is None:
                continue
            slower = small.rps / large.rps
            print(f"  {what:<20} {slower:.2f}x slower{'  ok' if slower <= 1.5 else '  BELOW'}")
    print("\nresident memory of each worker after the run (target ≤ 80 MB):")
    for pid, (rss, pss) in workers.items():
        print(
            f"  my_app worker {pid}: {rss:.1f} MB resident ({pss:.1f} MB proportional)"
            f"{'  ok' if rss <= 80 else '  ABOVE'}"
        )
    floor_rss = ", ".join(f"{rss:.1f}" for rss, _ in floor_workers.values())
    print(f"  (floor workers: {floor_rss} MB resident)")
    verdict = "ok" if keepalive_ms < 5 and not keepalive_errors else "ABOVE"
    print(
        f"\n~10 KB response ({keepalive_size:,} bytes) over one kept-alive connection: "
        f"median {keepalive_ms:.2f} ms, {keepalive_errors} errors in 320 (target: median"
        f" under 5 ms) {verdict}"
    )
    return 0


WRK = "wrk"

if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
