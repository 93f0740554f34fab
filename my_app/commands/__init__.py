"""Command-line tools: `flask --app wsgi <command>`."""

from flask import Flask

from my_app.commands import accounts, aws, bookings, maintenance
from my_app.commands import events as event_commands


def init_app(app: Flask) -> None:
    for module in (accounts, aws, bookings, maintenance, event_commands):
        for command in module.COMMANDS:
            app.cli.add_command(command)
