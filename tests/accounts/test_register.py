"""POST /register, GET /user_confirm/<token>, POST /resend_confirmation."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from freezegun import freeze_time

from tests.support.environ import PUBLIC_BASE_URL

PROBLEM = "application/problem+json"


def test_register_returns_the_new_unconfirmed_requester(api):
    response = api.register("alice", email="  Alice@Example.COM ")
    assert response.status_code == 201
    user = response.json
    assert set(user) == {"id", "username", "email", "role", "status", "confirmed", "created_at"}
    assert user["username"] == "alice"
    assert user["email"] == "alice@example.com"
    assert (user["role"], user["status"], user["confirmed"]) == ("requester", "active", False)
    assert user["created_at"].endswith("Z")


def test_register_trims_username_but_not_password(api):
    response = api.register("  bob  ", password="  spaced password  ", email="bob@example.com")
    assert response.json["username"] == "bob"
    api.confirm("bob@example.com")
    assert api.login("bob", "spaced password").status_code == 401
    assert api.login("bob", "  spaced password  ").status_code == 200


def test_register_sends_a_confirmation_link_built_from_public_base_url(api, mailbox):
    api.client.post(
        "/register",
        json={
            "username": "carol",
            "email": "carol@example.com",
            "password": "correct horse battery",
        },
        headers={"Host": "evil.example"},
    )
    link = mailbox.confirmation_link("carol@example.com")
    assert link.startswith(f"{PUBLIC_BASE_URL}/user_confirm/")
    assert "evil.example" not in mailbox.last_body("carol@example.com")


@pytest.mark.parametrize(
    ("username", "email"),
    [("dave", "other@example.com"), ("DAVE", "other@example.com"), ("other", "DAVE@example.com")],
)
def test_register_duplicate_username_or_email_is_409(api, username, email):
    assert api.register("dave").status_code == 201
    response = api.register(username, email=email)
    assert response.status_code == 409
    assert response.content_type == PROBLEM
    assert response.json["status"] == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"username": "ab", "email": "a@example.com", "password": "correct horse battery"},
            "username",
        ),
        (
            {"username": "a" * 81, "email": "a@example.com", "password": "correct horse battery"},
            "username",
        ),
        (
            {"username": "bad name", "email": "a@example.com", "password": "correct horse battery"},
            "username",
        ),
        (
            {"username": "good", "email": "not-an-email", "password": "correct horse battery"},
            "email",
        ),
        ({"username": "good", "email": "a@example.com", "password": "short"}, "password"),
        ({"username": "good", "email": "a@example.com", "password": "x" * 129}, "password"),
        ({"username": "good", "email": "a@example.com"}, "password"),
        ({"username": "good", "email": "a@example.com", "password": 12345678}, "password"),
        (
            {"username": "good", "email": "a@example.com", "password": "pw123456", "role": "admin"},
            "role",
        ),
    ],
)
def test_register_invalid_body_is_422_naming_the_field(api, body, field):
    response = api.client.post("/register", json=body)
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert field in response.json["errors"]
    assert api.client.post("/register", json={**body, "role": None}).status_code == 422


def test_register_with_non_json_body_is_415(api):
    response = api.client.post("/register", data="username=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.content_type == PROBLEM


def test_register_with_malformed_json_is_400(api):
    response = api.client.post("/register", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.content_type == PROBLEM


def test_register_with_a_json_array_is_422(api):
    assert api.client.post("/register", json=["alice"]).status_code == 422


def test_confirmation_link_confirms_and_twice_is_fine(api, mailbox):
    api.register("erin")
    path = urlsplit(mailbox.confirmation_link("erin@example.com")).path
    first = api.client.get(path)
    assert first.status_code == 200
    assert "message" in first.json
    assert api.client.get(path).status_code == 200
    assert api.client.get(path + "/").status_code == 200
    assert api.login("erin").status_code == 200


@pytest.mark.parametrize("token", ["garbage", "1", "2", "eyJ1aWQiOjF9.AAAA.BBBB"])
def test_tampered_or_guessed_confirmation_link_is_400(api, token):
    api.register("frank")
    response = api.client.get(f"/user_confirm/{token}")
    assert response.status_code == 400
    assert response.content_type == PROBLEM
    assert api.login("frank").status_code == 403


def test_confirmation_link_with_altered_payload_is_400(api, mailbox):
    api.register("grace")
    token = urlsplit(mailbox.confirmation_link("grace@example.com")).path.rsplit("/", 1)[1]
    payload, rest = token.split(".", 1)
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest
    assert api.client.get(f"/user_confirm/{forged}").status_code == 400


def test_expired_confirmation_link_is_400(api, mailbox):
    api.register("heidi")
    path = urlsplit(mailbox.confirmation_link("heidi@example.com")).path
    with freeze_time(datetime.now(UTC) + timedelta(hours=49)):
        response = api.client.get(path)
    assert response.status_code == 400
    assert "expired" in response.json["detail"]


def test_confirmation_link_of_a_deleted_account_is_400(api, mailbox):
    account = api.user("ivan")
    path = urlsplit(mailbox.confirmation_link("ivan@example.com")).path
    assert api.client.delete(f"/user/{account.id}", headers=account.headers).status_code == 200
    assert api.client.get(path).status_code == 400


def test_resend_confirmation_answers_the_same_for_known_and_unknown_addresses(api, mailbox):
    api.register("judy")
    mailbox.clear()
    known = api.client.post("/resend_confirmation", json={"email": "JUDY@example.com"})
    unknown = api.client.post("/resend_confirmation", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json == unknown.json
    assert len(mailbox.to("judy@example.com")) == 1
    assert mailbox.to("nobody@example.com") == []
    assert api.confirm("judy@example.com").status_code == 200


def test_resend_confirmation_sends_nothing_to_a_confirmed_account(api, mailbox):
    api.user("ken")
    mailbox.clear()
    assert (
        api.client.post("/resend_confirmation", json={"email": "ken@example.com"}).status_code
        == 202
    )
    assert mailbox.to("ken@example.com") == []


@pytest.mark.parametrize("body", [{}, {"email": "nope"}, {"email": "a@example.com", "x": 1}])
def test_resend_confirmation_invalid_body_is_422(api, body):
    assert api.client.post("/resend_confirmation", json=body).status_code == 422


def test_register_succeeds_even_when_the_mail_server_is_down(make_app, stack):
    app = make_app(blacklist=stack[1], MAIL_PORT=1)
    body = {"username": "mallory", "email": "m@example.com", "password": "correct horse battery"}
    assert app.test_client().post("/register", json=body).status_code == 201
