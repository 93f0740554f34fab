"""Booking events: `deliver-events` runs on every host; `events` is the operations view."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from my_app.database import use_job_limits
from my_app.extensions import db
from my_app.services import events

log = logging.getLogger(__name__)


@click.command("deliver-events")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@with_appcontext
def deliver_events(once: bool) -> None:
    """Deliver pending booking events to SNS and the webhooks, retrying with backoff."""
    use_job_limits()
    if once:
        click.echo(_summary(events.deliver_due()))
        return
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopper(stopping))
    log.info("deliver-events: running; SIGTERM stops after the event in hand")
    while not stopping.is_set():
        try:
            outcomes = events.deliver_due(stop=stopping.is_set)
            if outcomes:
                log.info("deliver-events: %s", _summary(outcomes))
        except SQLAlchemyError as exc:  # the database is away: try again on the next round
            db.session.rollback()
            log.error("deliver-events: database error: %s", exc)
        stopping.wait(current_app.config["EVENTS_POLL_SECONDS"])
    click.echo("deliver-events stopped.")


def stopper(stopping: threading.Event):
    """A signal handler that sets `stopping` from a thread of its own. A handler runs in the
    main thread between two of its steps, possibly while that thread holds the event's lock
    (inside `stopping.wait`, until the wait lets it go): setting the event there would wait
    for that lock forever, and SIGTERM would leave the process hung."""

    def stop(signum, _frame) -> None:
        name = signal.Signals(signum).name
        threading.Thread(target=_stop, args=(stopping, name), daemon=True).start()

    return stop


def _stop(stopping: threading.Event, name: str) -> None:
    log.info("deliver-events: %s received, stopping", name)
    stopping.set()


def _summary(outcomes) -> str:
    return (
        f"Delivered {outcomes['delivered']} event(s); {outcomes['retrying']} will be retried; "
        f"{outcomes['failed']} failed for good."
    )


@click.command("events")
@click.option("--failed", "show_failed", is_flag=True, help="List events given up on.")
@click.option("--retry", is_flag=True, help="Queue the failed events (or those --id names) again.")
@click.option("--id", "event_ids", multiple=True, help="An event id; shows its attempts.")
@with_appcontext
def events_command(show_failed: bool, retry: bool, event_ids: tuple[str, ...]) -> None:
    """Operations view of booking events: the backlog, failed events, attempt history."""
    if retry:
        count = events.retry_failed(event_ids)
        click.echo(f"Queued {count} failed event(s) for delivery again.")
        return
    backlog = events.backlog()
    click.echo(f"Pending: {backlog['pending']}; failed: {backlog['failed']}.")
    if show_failed:
        for event in events.failed_events():
            click.echo(
                f"{event.id}  {event.type}  booking {event.booking_id}  "
                f"occurred {event.occurred_at:%Y-%m-%d %H:%M:%S}Z  "
                f"{event.attempts} attempt(s)  last error: {event.last_error}"
            )
    for event_id in event_ids:
        click.echo(f"Attempts of {event_id}:")
        for attempt in events.attempts_of(event_id):
            outcome = "ok" if attempt.ok else f"failed: {attempt.error}"
            click.echo(f"  {attempt.at:%Y-%m-%d %H:%M:%S}Z  {attempt.target}  {outcome}")


COMMANDS = [deliver_events, events_command]
