"""Booking housekeeping: run these from cron on any one (or every) host; each acts on a
request once however many hosts run it at the same moment."""

import click
from flask.cli import with_appcontext

from my_app.database import use_job_limits
from my_app.services import bookings, followups


@click.command("expire-requests")
@with_appcontext
def expire_requests() -> None:
    """Move pending requests whose event time has passed to `expired`."""
    use_job_limits()
    count = bookings.expire_due()
    click.echo(f"Expired {count} pending booking request(s).")


@click.command("release-no-shows")
@with_appcontext
def release_no_shows() -> None:
    """Release accepted bookings nobody checked in to within their resource's checkin_minutes."""
    use_job_limits()
    count = followups.release_no_shows()
    click.echo(f"Released {count} booking(s) nobody checked in to.")


@click.command("send-reminders")
@with_appcontext
def send_reminders() -> None:
    """E-mail requesters whose accepted bookings start within their resource's reminder_minutes."""
    use_job_limits()
    count = followups.send_reminders()
    click.echo(f"Reminded {count} requester(s) of their booking.")


@click.command("escalate-requests")
@with_appcontext
def escalate_requests() -> None:
    """Tell every admin of requests pending past their resource's approval_deadline_hours."""
    use_job_limits()
    count = followups.escalate_requests()
    click.echo(f"Escalated {count} pending booking request(s).")


COMMANDS = [expire_requests, release_no_shows, send_reminders, escalate_requests]
