"""`python -m bench.profile [figure ...]`: where the time of one request goes.

Runs the app in this process under the production configuration that `make bench` uses
(PostgreSQL + Redis, rate limits off, its own random database and Redis prefix, both
removed afterwards), sends each figure's request N times through Flask's test client under
cProfile, and prints the functions that take the most time, with the SQL statements each
request sent. Figures: me, random, submit, accept, list, deep (a page 90% down the table), login,
submit_series and accept_series (52 weekly occurrences each; default: all but deep, login
and the series).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import production_environ, throwaway_stores  # noqa: E402

BOOKING = {
    "topic": "bench",
    "duration_minutes": 60,
    "event_time": "2100-01-01T10:00:00Z",
    "address": {"street": "1 Main Street", "city": "Springfield", "country": "US"},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figures", nargs="*", default=["me", "random", "submit", "accept", "list"])
    parser.add_argument("-n", type=int, default=1000, help="requests per figure")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="profile CPU time (time.process_time), not wall time: network waits drop out",
    )
    parser.add_argument(
        "--time", action="store_true", help="only time the requests, without the profiler"
    )
    parser.add_argument(
        "--dump",
        metavar="DIR",
        help="also save each figure's profile as DIR/<figure>.prof (pstats, snakeviz, …)",
    )
    options = parser.parse_args()
    with throwaway_stores("bench.profile") as (url, prefix):
        os.environ.update(production_environ(url, prefix))
        profile(options)
    return 0


def profile(options) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import event

    from my_app import create_app
    from my_app.extensions import db
    from my_app.services import accounts, booking_pages

    app = create_app()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        accounts.create_admin("bench", "bench@example.com", "bench password 1")
        db.session.remove()
    client = app.test_client()
    login = {"username": "bench", "password": "bench password 1"}
    token = client.post("/login", json=login).get_json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}

    ids: list[int] = []
    for _ in range(options.n + 10):
        answer = client.post(
            "/submit_request", json={**BOOKING, "event_time": slot(len(ids))}, headers=auth
        )
        ids.append(answer.get_json()["id"])

    deep, seen = None, 0  # a cursor 90% of the way down the table, in pages of at most 100
    while seen < int(options.n * 0.9):
        query = f"/list_requests?limit={min(100, int(options.n * 0.9) - seen)}"
        page = client.get(query + (f"&cursor={deep}" if deep else ""), headers=auth).get_json()
        seen, deep = seen + len(page["bookings"]), page["next_cursor"]
    series_ids: list[int] = []

    def submit_series(i: int):
        answer = client.post("/submit_series", json=series_body(i), headers=auth)
        series_ids.append(answer.get_json()["id"])
        return answer

    requests = {
        "submit_series": submit_series,
        "accept_series": lambda i: client.post(
            "/accept_series", json={"id": series_ids[i]}, headers=auth
        ),
        "me": lambda i: client.get("/me", headers=auth),
        "random": lambda i: client.post(
            "/generate_random_array", json={"sentence": "the quick brown fox"}, headers=auth
        ),
        "submit": lambda i: client.post(
            "/submit_request", json={**BOOKING, "event_time": slot(10_000 + i)}, headers=auth
        ),
        "accept": lambda i: client.post("/accept_request", json={"id": ids[i]}, headers=auth),
        "list": lambda i: client.get("/list_requests?limit=20", headers=auth),
        "deep": lambda i: client.get(f"/list_requests?limit=20&cursor={deep}", headers=auth),
        "login": lambda i: client.post("/login", json=login),
    }
    statements: list[str] = []
    waited: dict[str, float] = {}  # wall seconds from sending each statement to its answer
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split())[:110])
        conn.info["sent_at"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def answered(conn, cursor, statement, *args):
        key = " ".join(statement.split())[:110]
        waited[key] = waited.get(key, 0.0) + time.perf_counter() - conn.info.pop("sent_at")

    fetch_rows = booking_pages.fetch_rows

    def counted_fetch_rows(engine, statement, values):  # reads that bypass SQLAlchemy
        key = " ".join(statement.sql.split())[:110]
        statements.append(key)
        sent_at = time.perf_counter()
        try:
            return fetch_rows(engine, statement, values)
        finally:
            waited[key] = waited.get(key, 0.0) + time.perf_counter() - sent_at

    booking_pages.fetch_rows = counted_fetch_rows

    for figure in options.figures:
        send = requests[figure]
        n = options.n if figure != "login" else min(options.n, 20)
        if figure.endswith("_series"):
            n = min(options.n, 50)  # 52 occurrences each
        if figure == "accept_series" and len(series_ids) < n:
            for i in range(len(series_ids), n):
                submit_series(i)
        for i in range(5):  # warm up, outside the profile
            send(n + i) if not figure.startswith("accept") else None
        statements.clear()
        waited.clear()
        profiler = cProfile.Profile(time.process_time) if options.cpu else cProfile.Profile()
        started, cpu = time.perf_counter(), time.process_time()
        if not options.time:
            profiler.enable()
        for i in range(n):
            with contextlib.redirect_stdout(io.StringIO()):  # the console mail backend
                answer = send(i)
            assert answer.status_code < 300, (figure, answer.status_code, answer.get_data())
        profiler.disable()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        how = "unprofiled" if options.time else "profiled"
        print(
            f"\n===== {figure}: {n} requests, {elapsed / n * 1000:.2f} ms each, "
            f"{cpu / n * 1000:.2f} ms of this process's CPU ({how})"
        )
        print(f"SQL statements per request: {len(statements) / n:.1f}")
        seen: dict[str, int] = {}
        for statement in statements:
            seen[statement] = seen.get(statement, 0) + 1
        print("  per request: times sent, ms from sending to the answer, the statement")
        for statement, times in sorted(seen.items(), key=lambda kv: -kv[1])[:12]:
            print(f"  {times / n:5.2f} {waited.get(statement, 0) / n * 1000:7.2f}  {statement}")
        if options.time:
            continue
        if options.dump:
            Path(options.dump).mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(Path(options.dump) / f"{figure}.prof")
        by_package: dict[str, float] = {}
        stats = pstats.Stats(profiler)
        for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
            package = _package(filename)
            by_package[package] = by_package.get(package, 0.0) + tottime
        total = sum(by_package.values())
        # A count, not a time: unlike the times it does not move with the machine's load.
        print(f"Python function calls per request: {stats.total_calls / n:,.0f}")
        print(
            "own time by package: "
            + ", ".join(
                f"{name} {seconds / total:.0%}"
                for name, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]
            )
        )
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(options.sort)
        stats.print_stats(options.top)
        print("\n".join(out.getvalue().splitlines()[6:]))


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0].removesuffix(".py")
    if filename.startswith(str(ROOT)):
        return filename[len(str(ROOT)) + 1 :].split("/")[0].removesuffix(".py")
    if "/lib/python3" in filename:
        return "stdlib"
    return filename  # built-ins: "~" and <frozen …>


def series_body(i: int) -> dict:
    """The i-th weekly 52-occurrence series, in slots no other series or request meets."""
    start = dt.datetime(2300, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=20 * i)
    return {
        **BOOKING,
        "event_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_minutes": 15,
        "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=52"},
    }


def slot(i: int) -> str:
    """The i-th free two-hour slot: no two bookings overlap, so each can be accepted."""
    start = dt.datetime(2100, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=2 * i)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    sys.exit(main())
