"""Outgoing e-mail through the backend chosen by `MAIL_BACKEND`: console, smtp or ses."""

from __future__ import annotations

import logging
import smtplib
import threading
from email.message import EmailMessage

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from flask import current_app

log = logging.getLogger(__name__)


class MailError(RuntimeError):
    """The message could not be handed to the mail backend."""


def _build(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def _send_console(message: EmailMessage) -> None:
    # Decoded, so that links can be copied straight from the terminal.
    print(  # noqa: T201
        f"----- e-mail -----\nFrom: {message['From']}\nTo: {message['To']}\n"
        f"Subject: {message['Subject']}\n\n{message.get_content()}------------------",
        flush=True,
    )


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    try:
        with smtplib.SMTP(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT_SECONDS"]
        ) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(str(exc)) from exc


def _send_ses(message: EmailMessage) -> None:
    client = boto3.client("ses", region_name=current_app.config["AWS_REGION"])
    try:
        client.send_raw_email(
            Source=message["From"],
            Destinations=[message["To"]],
            RawMessage={"Data": message.as_bytes()},
        )
    except (BotoCoreError, ClientError) as exc:
        raise MailError(str(exc)) from exc


BACKENDS = {"console": _send_console, "smtp": _send_smtp, "ses": _send_ses}


def send_mail(to: str, subject: str, body: str) -> bool:
    """Send one message; log and return False on failure, so a committed change is never undone."""
    backend = BACKENDS[current_app.config["MAIL_BACKEND"]]
    try:
        backend(_build(to, subject, body))
    except MailError as exc:
        log.error("could not send mail %r: %s", subject, exc)
        return False
    return True


def send_mail_later(to: str, subject: str, body: str) -> threading.Thread:
    """Send one message from a thread of its own, so the request answers without waiting."""
    app = current_app._get_current_object()

    def send() -> None:
        with app.app_context():
            send_mail(to, subject, body)

    thread = threading.Thread(target=send, name="send-mail", daemon=True)
    thread.start()
    return thread
