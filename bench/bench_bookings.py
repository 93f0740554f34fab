"""Booking latencies at 1,000 and 1,000,000 rows on PostgreSQL (`make bench`, which runs
`python -m bench.bench_bookings` from the repository root).

Loads rows into a fresh, migrated database (dropped afterwards) and prints,
for each size, the median latency of: the first page of GET /list_requests,
a page deep in the cursor chain, and POST /accept_request with its conflict
check — through the full HTTP stack (Flask test client), so the figures
include validation, the ORM and serialisation. Keyset pagination and the
(event_time, id) indexes should keep all three flat as the table grows.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import psycopg
from flask_migrate import upgrade

from config import MIGRATIONS_DIR, TestingConfig
from my_app import create_app
from my_app.extensions import db
from my_app.services.pagination import encode_cursor
from tests.support import services

SIZES = (1_000, 1_000_000)
REPEAT = 41
SLOT_MINUTES = 61  # every row its own non-overlapping hour, so accepted rows never collide

FILL = """
INSERT INTO booking_requests (resource_id, topic, event_time, duration_minutes, end_time,
    street, city, country, status, requested_by_id, created_at, updated_at)
SELECT 1, 'bench ' || n,
       now() + interval '1 day' + n * interval '{slot} minutes',
       60,
       now() + interval '1 day' + n * interval '{slot} minutes' + interval '60 minutes',
       '1 Main Street', 'Springfield', 'US',
       (ARRAY['pending','accepted','rejected','cancelled','expired'])[1 + n %% 5],
       1 + n %% %(users)s::integer, now(), now()
FROM generate_series(%(start)s::integer, %(stop)s::integer) AS n
"""


def median_ms(call, repeat: int = REPEAT) -> float:
    call()  # warm caches and the connection pool first
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def fill(url: str, start: int, stop: int, users: int) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(
            FILL.replace("{slot}", str(SLOT_MINUTES)),
            {"start": start, "stop": stop, "users": users},
        )
        # Settle the table as production would be: statistics and visibility map current.
        conn.execute("VACUUM ANALYZE booking_requests")


def measure(client, admin_headers, rows: int, next_slot: int) -> dict[str, float]:
    first_page = median_ms(lambda: client.get("/list_requests?limit=20", headers=admin_headers))
    with client.application.app_context():
        deep = db.session.execute(
            db.text("SELECT event_time, id FROM booking_requests ORDER BY event_time, id "
                    "OFFSET :n LIMIT 1"), {"n": int(rows * 0.9)}
        ).one()  # fmt: skip
    cursor = encode_cursor([deep.event_time.isoformat(), deep.id])
    deep_page = median_ms(
        lambda: client.get(f"/list_requests?limit=20&cursor={cursor}", headers=admin_headers)
    )
    pending = []
    for i in range(REPEAT + 1):  # one more for the warm-up call
        # Before the first loaded row (a day out), 20 minutes apart: each accept runs its
        # overlap check against the whole table and finds nothing.
        start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
        moment = start + timedelta(minutes=20 * (next_slot + i))
        body = {"topic": "bench accept", "duration_minutes": 15,
                "event_time": moment.isoformat().replace("+00:00", "Z"),
                "address": {"street": "s", "city": "c", "country": "US"}}  # fmt: skip
        pending.append(client.post("/submit_request", json=body, headers=admin_headers).json["id"])
    ids = iter(pending)
    accept = median_ms(
        lambda: client.post("/accept_request", json={"id": next(ids)}, headers=admin_headers)
    )
    return {"first page": first_page, "deep page": deep_page, "accept": accept}


def main() -> int:
    reason = services.postgres_reachable()
    if reason:
        print(reason)
        return 1
    with services.throwaway_database("my_app_bench") as url:
        environ = {"DATABASE_URL": url, "MAIL_BACKEND": "console", "LOG_LEVEL": "WARNING"}
        app = create_app(TestingConfig(environ))
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
        runner = app.test_cli_runner()
        runner.invoke(args=["create-admin", "--username", "bench", "--email", "bench@example.com",
                            "--password", "bench password"])  # fmt: skip
        client = app.test_client()
        token = client.post("/login", json={"username": "bench", "password": "bench password"})
        headers = {"Authorization": f"Bearer {token.json['access_token']}"}

        results, loaded = {}, 0
        for size in SIZES:
            started = time.perf_counter()
            fill(url, loaded + 1, size, users=1)
            print(f"loaded {size:>9,} rows in {time.perf_counter() - started:5.1f} s", flush=True)
            loaded = size
            with contextlib.redirect_stdout(io.StringIO()):  # the console mail of each accept
                results[size] = measure(
                    client, headers, size, next_slot=(REPEAT + 1) * SIZES.index(size)
                )
        with app.app_context():
            db.engine.dispose()

    small, large = results[SIZES[0]], results[SIZES[-1]]
    print(f"\n{'median latency (ms)':<22}{SIZES[0]:>12,}{SIZES[-1]:>14,}{'ratio':>9}")
    for metric in small:
        ratio = large[metric] / small[metric]
        print(f"{metric:<22}{small[metric]:>12.2f}{large[metric]:>14.2f}{ratio:>8.2f}x")
    worst = max(large[m] / small[m] for m in small)
    print(f"\nworst ratio {worst:.2f}x (target: within 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
