"""Outgoing e-mail through the backend chosen by `MAIL_BACKEND`: console, smtp or ses."""

from __future__ import annotations

import logging
import os
import queue
import smtplib
import threading
from email.charset import QP, Charset
from email.message import EmailMessage, Message

from flask import current_app

log = logging.getLogger(__name__)


class MailError(RuntimeError):
    """The message could not be handed to the mail backend."""


def _build(to: str, subject: str, body: str) -> Message:
    """The message as `EmailMessage.set_content` writes it. The usual one, all headers
    ASCII, is written with the `compat32` classes, about a fifth of the CPU time of the
    header registry's (the sender thread shares its process's CPU with the requests)."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    if not (sender.isascii() and to.isascii() and subject.isascii()):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, to, subject
        message.set_content(body)
        return message
    message = Message()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["MIME-Version"] = "1.0"
    plain = body.isascii() and all(len(line) <= _LINE for line in body.splitlines())
    message.set_payload(body, _ASCII if plain else _UTF8)
    return message


_LINE = 998  # the longest line RFC 5322 allows; a longer one is quoted-printable, folded


_ASCII = Charset("us-ascii")  # 7bit, as written
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP  # readable where it is ASCII, as set_content's choice


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
