"""Each after-acceptance job run by 4 processes at once (as on 4 hosts): every booking is
released, reminded or escalated exactly once."""

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from my_app.extensions import db
from my_app.models import BookingHistory, BookingRequest
from tests.events.conftest import outbox
from tests.support.api import future
from tests.support.environ import app_environment

ROOT = Path(__file__).resolve().parents[2]
HOSTS = 4
BOOKINGS = 6


def _run_on_every_host(database_url: str, smtp_port: int, command: str) -> int:
    """`flask --app wsgi <command>` in HOSTS processes started together; the total they
    report."""
    environ = {**os.environ, **app_environment(database_url, smtp_port), "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", command], cwd=ROOT,
                         env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(HOSTS)
    ]  # fmt: skip
    total = 0
    for process in processes:
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0, output
        total += int(output.strip().splitlines()[-1].split()[1])
    return total


def _shift(app, ids: list[int], **values) -> None:
    """Move the requests' times as if they had been made or begun earlier."""
    with app.app_context():
        db.session.execute(
            sa.update(BookingRequest).where(BookingRequest.id.in_(ids)).values(**values)
        )
        db.session.commit()


def _history(app, to_status: str) -> Counter:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(BookingHistory.booking_id).where(BookingHistory.to_status == to_status)
        ).all()
        db.session.rollback()
    return Counter(rows)


def _requesters(api, count: int):
    return [api.user() for _ in range(count)]


def test_release_no_shows_on_four_hosts_releases_each_once(
    app, api, database_url, smtp_server, mailbox
):
    admin = api.admin()
    room = api.resource(admin, rules={"checkin_minutes": 10})
    people = _requesters(api, BOOKINGS)
    ids = []
    for n, person in enumerate(people):
        booking = api.booking(person, resource_id=room["id"], event_time=future(48 + n))
        assert api.decide(admin, "accept", booking["id"]).status_code == 200
        ids.append(booking["id"])
    checked_in = api.booking(people[0], resource_id=room["id"], event_time=future(0, 5))
    api.decide(admin, "accept", checked_in["id"])
    api.client.post("/checkin_request", json={"id": checked_in["id"]}, headers=people[0].headers)
    start = datetime.now(UTC) - timedelta(minutes=30)
    for n, booking_id in enumerate(ids):  # begun 30 minutes ago, one after another
        begins = start - timedelta(hours=n + 1)
        _shift(app, [booking_id], event_time=begins, end_time=begins + timedelta(minutes=60))
    _shift(app, [checked_in["id"]], event_time=start, end_time=start + timedelta(minutes=60))

    assert _run_on_every_host(database_url, smtp_server.port, "release-no-shows") == BOOKINGS
    assert _history(app, "released") == dict.fromkeys(ids, 1)
    events = Counter(e["booking_id"] for e in outbox(app) if e["type"] == "booking.released")
    assert events == dict.fromkeys(ids, 1)
    for person, booking_id in zip(people, ids, strict=True):
        subject = f"Your booking #{booking_id} was released: nobody checked in"
        assert len(mailbox.wait_for(person.email, subject)) == 1
    assert _run_on_every_host(database_url, smtp_server.port, "release-no-shows") == 0


def test_send_reminders_on_four_hosts_reminds_each_once(
    app, api, database_url, smtp_server, mailbox
):
    admin = api.admin()
    room = api.resource(admin, rules={"reminder_minutes": 7 * 24 * 60})
    people = _requesters(api, BOOKINGS)
    subjects = []
    for n, person in enumerate(people):
        booking = api.booking(person, resource_id=room["id"], event_time=future(48 + n))
        assert api.decide(admin, "accept", booking["id"]).status_code == 200
        starts = datetime.fromisoformat(booking["event_time"])
        subjects.append(f"Reminder: booking #{booking['id']} starts at {starts:%Y-%m-%d %H:%M} UTC")

    assert _run_on_every_host(database_url, smtp_server.port, "send-reminders") == BOOKINGS
    for person, subject in zip(people, subjects, strict=True):
        assert len(mailbox.wait_for(person.email, subject)) == 1
    assert _run_on_every_host(database_url, smtp_server.port, "send-reminders") == 0


def test_escalate_requests_on_four_hosts_escalates_each_once(
    app, api, database_url, smtp_server, mailbox
):
    admin, other_admin = api.admin(), api.admin()
    room = api.resource(admin, rules={"approval_deadline_hours": 1})
    people = _requesters(api, BOOKINGS)
    ids = [api.booking(p, resource_id=room["id"], event_time=future(48 + n))["id"]
           for n, p in enumerate(people)]  # fmt: skip
    _shift(app, ids, created_at=datetime.now(UTC) - timedelta(hours=2))

    assert _run_on_every_host(database_url, smtp_server.port, "escalate-requests") == BOOKINGS
    events = Counter(e["booking_id"] for e in outbox(app) if e["type"] == "booking.escalated")
    assert events == dict.fromkeys(ids, 1)
    for account in (admin, other_admin):
        for booking_id in ids:
            subject = f"Booking request #{booking_id} for {room['name']} is still waiting for a "
            assert len(mailbox.wait_for(account.email, subject + "decision")) == 1
    assert _run_on_every_host(database_url, smtp_server.port, "escalate-requests") == 0
