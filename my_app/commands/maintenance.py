"""Housekeeping commands, safe to run from cron on any host."""

import click
from flask.cli import with_appcontext

from blacklist import get_blacklist
from my_app.database import use_job_limits


@click.command("prune-blacklist")
@with_appcontext
def prune_blacklist() -> None:
    """Delete blacklist entries whose tokens have expired anyway."""
    use_job_limits()
    removed = get_blacklist().prune()
    click.echo(f"Pruned {removed} expired blacklist entries.")


COMMANDS = [prune_blacklist]
