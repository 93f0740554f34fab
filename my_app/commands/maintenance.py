"""Housekeeping commands, safe to run from cron on any host."""

import click
from flask.cli import with_appcontext

from blacklist import get_blacklist


@click.command("prune-blacklist")
@with_appcontext
def prune_blacklist() -> None:
    """Delete blacklist entries whose tokens have expired anyway."""
    removed = get_blacklist().prune()
    click.echo(f"Pruned {removed} expired blacklist entries.")


COMMANDS = [prune_blacklist]
