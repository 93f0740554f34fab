"""Helpers for the booking events tests: webhook receivers and a look at the outbox."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from my_app.extensions import db
from my_app.models.event import BookingEvent, BookingEventAttempt
from tests.support.webhook import WebhookReceiver

SECRET = "webhook-secret-for-tests"


@pytest.fixture
def receivers():
    """`receivers(fail_first=2)` starts a receiver; all stop after the test."""
    started: list[WebhookReceiver] = []

    def start(**options) -> WebhookReceiver:
        receiver = WebhookReceiver(SECRET, **options).__enter__()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.__exit__(None, None, None)


def send_to(app, *receivers: WebhookReceiver, **config) -> None:
    """Point the app's deliverer at `receivers`; retries are due at once unless `config` says."""
    defaults = {"WEBHOOK_SECRET": SECRET, "EVENTS_RETRY_BASE_SECONDS": 0}
    app.config.update({**defaults, **config, "WEBHOOK_URLS": [r.url for r in receivers]})


def outbox(app) -> list[dict]:
    """Every stored event, oldest first, with its body decoded."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(BookingEvent).order_by(BookingEvent.occurred_at, BookingEvent.id)
        ).all()
        events = [
            {"id": e.id, "type": e.type, "booking_id": e.booking_id, "status": e.status,
             "attempts": e.attempts, "body": json.loads(e.payload)}
            for e in rows
        ]  # fmt: skip
        db.session.rollback()
        return events


def attempts(app, event_id: str) -> list[tuple[str, bool, str | None]]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(BookingEventAttempt)
            .where(BookingEventAttempt.event_id == event_id)
            .order_by(BookingEventAttempt.id)
        ).all()
        found = [(a.target, a.ok, a.error) for a in rows]
        db.session.rollback()
        return found
