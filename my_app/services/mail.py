"""Outgoing e-mail through the backend chosen by `MAIL_BACKEND`: console, smtp or ses."""

from __future__ import annotations

import logging
import os
import queue
import smtplib
import threading
from email.message import EmailMessage

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


def _send_console(to: str, subject: str, body: str) -> None:
    # As written, so that links can be copied straight from the terminal (and no MIME
    # message is built just to be printed).
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    print(  # noqa: T201
        f"----- e-mail -----\nFrom: {sender}\nTo: {to}\nSubject: {subject}\n\n"
        f"{body}------------------",
        flush=True,
    )


def _send_smtp(to: str, subject: str, body: str) -> None:
    message = _build(to, subject, body)
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


def _send_ses(to: str, subject: str, body: str) -> None:
    import boto3  # only deployments that mail through SES pay for the import (~10 MB)
    from botocore.exceptions import BotoCoreError, ClientError

    message = _build(to, subject, body)
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


def render(template: str, **context) -> tuple[str, str]:
    """The subject and body of `templates/mail/<template>.txt`: its first line is the subject,
    the rest after one blank line the body."""
    text = current_app.jinja_env.get_template(f"mail/{template}.txt").render(**context)
    subject, _, body = text.partition("\n\n")
    return subject.strip(), body.strip("\n") + "\n"


def send_mail(to: str, subject: str, body: str) -> bool:
    """Send one message; log and return False on failure, so a committed change is never undone."""
    backend = BACKENDS[current_app.config["MAIL_BACKEND"]]
    try:
        backend(to, subject, body)
    except MailError as exc:
        log.error("could not send mail %r: %s", subject, exc)
        return False
    return True


def send_mail_later(to: str, subject: str, body: str) -> None:
    """Hand one message to this process's sender thread; the request answers without waiting.

    Messages leave in the order given, one at a time, each as `send_mail` sends it. A
    message still queued when the process dies is lost, as one in flight would be.
    """
    _sender.put(current_app._get_current_object(), (to, subject, body))


class _Sender:
    """One queue and one daemon thread per process, started at first use.

    uWSGI forks its workers after loading the app and a thread does not survive a fork,
    so each process starts its own thread (and queue) the first time it sends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._queue: queue.Queue = queue.Queue()

    def put(self, app, message: tuple[str, str, str]) -> None:
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._queue = os.getpid(), queue.Queue()
                thread = threading.Thread(
                    target=self._run, args=(self._queue,), name="send-mail", daemon=True
                )
                thread.start()
            self._queue.put((app, message))

    @staticmethod
    def _run(messages: queue.Queue) -> None:
        while True:
            app, message = messages.get()
            try:
                with app.app_context():
                    send_mail(*message)
            except Exception:  # the sender must outlive any one message
                log.exception("could not send mail %r", message[1])
            finally:
                messages.task_done()


_sender = _Sender()
