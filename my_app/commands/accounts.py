"""Account administration from the shell."""

import click
from flask import current_app
from flask.cli import with_appcontext
from marshmallow import ValidationError

from my_app.errors import AppError, flatten_errors
from my_app.schemas.user import RegisterSchema
from my_app.services import accounts


@click.command("create-admin")
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option(
    "--password",
    envvar="ADMIN_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Falls back to $ADMIN_PASSWORD, then a prompt.",
)
@with_appcontext
def create_admin(username: str, email: str, password: str) -> None:
    """Create a confirmed, active admin."""
    try:
        data = RegisterSchema().load({"username": username, "email": email, "password": password})
        user = accounts.create_admin(**data)
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in flatten_errors(exc.messages).items())
        raise click.ClickException(f"invalid admin: {problems}") from None
    except AppError as exc:
        raise click.ClickException(exc.detail) from None
    current_app.logger.info("admin %s created", user.username)
    click.echo(f"Admin {user.username!r} created with id {user.id}.")


COMMANDS = [create_admin]
