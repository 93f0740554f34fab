"""Command-line tools: `flask --app wsgi <command>`, ours and Flask-Migrate's `flask db`."""

from flask import Flask
from flask_migrate import Migrate

from my_app.commands import accounts, aws, bookings, maintenance
from my_app.commands import events as event_commands
from my_app.extensions import db


def init_app(app: Flask) -> None:
    Migrate(app, db, directory=app.config["MIGRATIONS_DIR"])
    for module in (accounts, aws, bookings, maintenance, event_commands):
        for command in module.COMMANDS:
            app.cli.add_command(command)
