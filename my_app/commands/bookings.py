"""Booking housekeeping: run `expire-requests` from cron on any one (or every) host."""

import click
from flask.cli import with_appcontext

from my_app.database import use_job_limits
from my_app.services import bookings


@click.command("expire-requests")
@with_appcontext
def expire_requests() -> None:
    """Move pending requests whose event time has passed to `expired`."""
    use_job_limits()
    count = bookings.expire_due()
    click.echo(f"Expired {count} pending booking request(s).")


COMMANDS = [expire_requests]
