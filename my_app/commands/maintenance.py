"""Housekeeping commands, safe to run from cron on any host."""

import click
from flask.cli import with_appcontext

from blacklist import get_blacklist
from my_app.database import use_job_limits
from my_app.services import idempotency, tokens


@click.command("prune-blacklist")
@with_appcontext
def prune_blacklist() -> None:
    """Delete blacklist entries whose tokens have expired anyway, expired idempotency keys
    and expired sessions' rows."""
    use_job_limits()
    removed = get_blacklist().prune()
    click.echo(f"Pruned {removed} expired blacklist entries.")
    keys = idempotency.prune()
    click.echo(f"Pruned {keys} expired idempotency keys.")
    forgotten = tokens.forget_expired_sessions()
    click.echo(f"Forgot {forgotten} expired sessions.")


COMMANDS = [prune_blacklist]
