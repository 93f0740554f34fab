"""E-mail backends: console, smtp (a real server in the test process) and ses (moto)."""

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from my_app.services.mail import send_mail

pytestmark = pytest.mark.parametrize("stack", [("sqlite", "database")])


def test_console_backend_prints_the_confirmation_link(make_app, capsys):
    app = make_app(MAIL_BACKEND="console")
    body = {"username": "alice", "email": "alice@example.com", "password": "correct horse battery"}
    assert app.test_client().post("/register", json=body).status_code == 201
    printed = capsys.readouterr().out
    assert "alice@example.com" in printed
    link = next(line for line in printed.splitlines() if "/user_confirm/" in line)
    assert link.startswith("http://bookings.test/user_confirm/")


def test_smtp_backend_delivers_to_the_server(make_app, mailbox):
    app = make_app()
    with app.app_context():
        assert send_mail("bob@example.com", "Hello", "Body text") is True
    [message] = mailbox.to("bob@example.com")
    assert message["Subject"] == "Hello"
    assert message["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert "Body text" in message.get_content()


def test_smtp_failure_is_logged_not_raised(make_app, caplog):
    app = make_app(MAIL_PORT=1)
    with app.app_context():
        assert send_mail("carol@example.com", "Hello", "Body") is False
    assert "could not send mail" in caplog.text


@mock_aws
def test_ses_backend_sends_through_aws(make_app):
    boto3.client("ses", region_name="us-east-1").verify_email_identity(
        EmailAddress="no-reply@localhost"
    )
    app = make_app(MAIL_BACKEND="ses", AWS_REGION="us-east-1")
    body = {"username": "dave", "email": "dave@example.com", "password": "correct horse battery"}
    assert app.test_client().post("/register", json=body).status_code == 201
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert len(sent) == 1
    assert "dave@example.com" in sent[0].destinations
    assert b"/user_confirm/" in sent[0].raw_data.encode().replace(b"=\n", b"")


@mock_aws
def test_ses_rejection_is_logged_not_raised(make_app, caplog):
    app = make_app(MAIL_BACKEND="ses")  # sender never verified: SES refuses
    with app.app_context():
        assert send_mail("erin@example.com", "Hello", "Body") is False
    assert "could not send mail" in caplog.text


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Hello", "Plain words\non two lines\n"),
        ("Hello", "Grüße, José: 10:00\u201311:00 \u2014 \u2713\n"),
        ("Hello", "A long reason: " + "word " * 400 + "\n"),
        ("Grüße from the room", "Body\n"),
    ],
    ids=["ascii", "utf-8 body", "one line of 2,000 characters", "utf-8 subject"],
)
def test_smtp_delivers_each_message_as_written(make_app, mailbox, subject, body):
    app = make_app()
    with app.app_context():
        assert send_mail("frank@example.com", subject, body) is True
    [message] = mailbox.to("frank@example.com")
    assert message["Subject"] == subject
    assert message.get_content().replace("\r\n", "\n") == body  # as the wire carries it
    assert all(len(line) <= 998 for line in message.as_bytes().split(b"\n"))
