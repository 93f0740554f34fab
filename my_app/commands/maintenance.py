"""Housekeeping commands, safe to run from cron on any host."""

import click
from flask.cli import with_appcontext

from my_app.database import use_job_limits
from my_app.services import idempotency, revocation, sessions


@click.command("prune-blacklist")
@with_appcontext
def prune_blacklist() -> None:
    """Delete revocation store entries whose tokens have expired anyway, expired idempotency
    keys and expired sessions' rows."""
    use_job_limits()
    removed = revocation.prune()
    click.echo(f"Pruned {removed} expired revocation store entries.")
    keys = idempotency.prune()
    click.echo(f"Pruned {keys} expired idempotency keys.")
    forgotten = sessions.forget_expired_sessions()
    click.echo(f"Forgot {forgotten} expired sessions.")


COMMANDS = [prune_blacklist]
