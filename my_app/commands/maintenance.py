"""Housekeeping commands, safe to run from cron on any host."""

import click
from flask.cli import with_appcontext

from blacklist import get_blacklist
from my_app.services import tokens


@click.command("prune-blacklist")
@with_appcontext
def prune_blacklist() -> None:
    """Delete blacklist entries whose tokens have expired anyway, and expired sessions' rows."""
    removed = get_blacklist().prune()
    click.echo(f"Pruned {removed} expired blacklist entries.")
    forgotten = tokens.forget_expired_sessions()
    click.echo(f"Forgot {forgotten} expired sessions.")


COMMANDS = [prune_blacklist]
