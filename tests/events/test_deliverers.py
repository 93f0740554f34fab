"""Several deliverers at once (PostgreSQL), and the long-running deliverer's shutdown."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from my_app.commands import events as events_command
from my_app.services import events
from tests.events.conftest import SECRET, outbox, send_to

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stack", [("postgresql", "database")])
def test_two_deliverers_at_once_never_send_one_event_twice(app, api, receivers):
    alice = api.user()
    for hour in range(24):
        api.booking(alice, event_time=f"2099-01-01T{hour:02d}:00:00Z")
    receiver = receivers(delay=0.03)  # slow enough that the deliverers overlap
    send_to(app, receiver)
    start = threading.Barrier(2)
    outcomes: list[Counter] = []

    def deliverer():
        with app.app_context():
            start.wait()
            outcomes.append(events.deliver_due())

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    recorded = outbox(app)
    assert len(recorded) == 24
    assert receiver.tries == {e["id"]: 1 for e in recorded}
    assert sorted(o["delivered"] for o in outcomes)[0] > 0  # both took a share
    assert sum(o["delivered"] for o in outcomes) == 24
    assert {e["status"] for e in recorded} == {"delivered"}


@pytest.mark.parametrize("stack", [("sqlite", "database")])
def test_deliver_events_keeps_delivering_until_sigterm(app, api, database_url, receivers):
    alice = api.user()
    api.booking(alice)
    receiver = receivers()
    environ = {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "WEBHOOK_URLS": receiver.url,
        "WEBHOOK_SECRET": SECRET,
        "EVENTS_POLL_SECONDS": "1",
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "deliver-events"],
        cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        _wait_for(lambda: len(receiver.accepted) == 1)
        api.booking(alice)  # a later change is picked up by the running deliverer
        _wait_for(lambda: len(receiver.accepted) == 2)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "deliver-events stopped." in output
    assert receiver.accepted_ids() == {e["id"]: 1 for e in outbox(app)}


def _wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_sigterm_stops_the_loop_even_while_its_wait_holds_the_event_lock():
    """The handler runs in the main thread, possibly while the loop's `stopping.wait` holds
    the event's (not reentrant) lock: it must not wait for that lock itself, or the process
    hangs on SIGTERM (uWSGI's scheduler left such a deliver-events behind)."""
    stopping = threading.Event()
    handler = events_command.stopper(stopping)
    returned = threading.Event()

    def signalled_while_holding_the_lock():
        with stopping._cond:  # as Event.wait holds it, briefly, before it waits
            handler(signal.SIGTERM, None)
            returned.set()

    thread = threading.Thread(target=signalled_while_holding_the_lock, daemon=True)
    thread.start()
    assert returned.wait(5), "the handler waited for the lock its own thread holds"
    assert stopping.wait(5)
