"""Secrets Manager tooling: signing keys, and password rotation for an account."""

from __future__ import annotations

import json
import secrets

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError
from flask import current_app
from flask.cli import with_appcontext

from config import decode_secret
from my_app.services import accounts
from my_app.services.transaction import transaction

KEY_NAMES = ("SECRET_KEY", "JWT_SECRET_KEY")


def _client():
    return boto3.client("secretsmanager", region_name=current_app.config["AWS_REGION"])


def _read(client, secret_id: str) -> tuple[dict, str | None]:
    """The secret's JSON object and version id, or ({}, None) when it does not exist yet."""
    try:
        found = client.get_secret_value(SecretId=secret_id)
    except client.exceptions.ResourceNotFoundException:
        return {}, None
    return decode_secret(secret_id, found["SecretString"]), found["VersionId"]


def _write(client, secret_id: str, values: dict, exists: bool) -> str:
    body = json.dumps(values)
    if exists:
        return client.put_secret_value(SecretId=secret_id, SecretString=body)["VersionId"]
    return client.create_secret(Name=secret_id, SecretString=body)["VersionId"]


@click.command("generate-keys")
@click.option("--secret-id", required=True, help="Secrets Manager secret (JSON object) to write.")
@click.option("--rotate", is_flag=True, help="Replace keys that exist (ends every session).")
@with_appcontext
def generate_keys(secret_id: str, rotate: bool) -> None:
    """Generate SECRET_KEY and JWT_SECRET_KEY into a Secrets Manager secret."""
    client = _client()
    try:
        values, version = _read(client, secret_id)
        present = [name for name in KEY_NAMES if values.get(name)]
        if present and not rotate:
            raise click.ClickException(
                f"{', '.join(present)} already set in {secret_id}; pass --rotate to replace "
                "(every token and confirmation link then stops working)."
            )
        values.update({name: secrets.token_urlsafe(48) for name in KEY_NAMES})
        _write(client, secret_id, values, exists=version is not None)
    except (BotoCoreError, ClientError) as exc:
        raise click.ClickException(f"Secrets Manager refused: {exc}") from None
    click.echo(f"Stored {' and '.join(KEY_NAMES)} in {secret_id}.")


@click.command("rotate-password")
@click.option("--username", required=True)
@click.option("--secret-id", required=True, help="Secret that keeps this account's password.")
@with_appcontext
def rotate_password(username: str, secret_id: str) -> None:
    """Give an account a new random password, kept in Secrets Manager.

    The secret is written first and the database second. Writing a new value
    keeps the old one as the secret's AWSPREVIOUS version, so whatever fails in
    between, one of the two versions is the password the database accepts. If
    the database step fails, the old value is also put back as AWSCURRENT.
    """
    user = accounts.find_user(username)
    if user is None:
        raise click.ClickException(f"There is no user {username!r}.")
    client = _client()
    password = secrets.token_urlsafe(24)
    try:
        previous_values, previous = _read(client, secret_id)
        owner = previous_values.get("username", user.username)
        if owner != user.username:
            raise click.ClickException(
                f"{secret_id} keeps the password of {owner!r}, not {user.username!r}; "
                "nothing changed."
            )
        new_values = {**previous_values, "username": user.username, "password": password}
        _write(client, secret_id, new_values, exists=previous is not None)
    except (BotoCoreError, ClientError) as exc:
        raise click.ClickException(f"Secrets Manager refused; nothing changed: {exc}") from None
    try:
        with transaction():
            accounts.set_password(user, password)  # ends the account's sessions too
    except Exception as exc:
        raise click.ClickException(
            f"The database was not updated ({exc.__class__.__name__}); the old password still "
            f"works. {_restore(client, secret_id, previous_values, previous)} Run the command "
            "again."
        ) from None
    click.echo(f"New password for {user.username} stored in {secret_id}.")


def _restore(client, secret_id: str, values: dict, version: str | None) -> str:
    """Put the secret back as it was; say where the working password is."""
    if version is None:
        return "It was never in the secret."
    try:
        _write(client, secret_id, values, exists=True)
    except (BotoCoreError, ClientError):
        return f"The secret could not be put back: it is the AWSPREVIOUS version of {secret_id}."
    return "The secret holds it again."


COMMANDS = [generate_keys, rotate_password]
