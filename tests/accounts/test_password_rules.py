"""The password rules (NIST SP 800-63B): fast unit tests of the one function, and its users."""

import pytest

from my_app.schemas.passwords import (
    COMMON_PASSWORDS_FILE,
    common_passwords,
    password_problems,
)


@pytest.mark.parametrize(
    "password",
    ["correct horse battery", "        x", "ü" * 8, "a" * 128, "Tr0ub4dor&3 but longer"],
)
def test_acceptable_passwords(password):
    assert password_problems(password, "alice", "alice@example.com") == []


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 8"),
        ("1234567", "at least 8"),
        ("a" * 129, "at most 128"),
        ("password1", "most common"),
        ("PASSWORD1", "most common"),  # a common password in capitals is still common
        ("baseball", "most common"),
        ("iloveyou", "most common"),
        ("Alice_Smith", "username"),
        ("ALICE@EXAMPLE.COM", "e-mail"),
    ],
)
def test_refused_passwords_say_why(password, reason):
    problems = password_problems(password, "alice_smith", "alice@example.com")
    assert problems and reason in " ".join(problems)


def test_no_composition_rules():
    assert password_problems("all lower case words", "bob", "bob@example.com") == []


def test_every_character_counts():
    # Eight spaces are eight characters; a username with spaces around it is still the username.
    assert password_problems(" " * 8, "bob", "bob@example.com") == []
    assert password_problems(" alice_smith ", "alice_smith", "a@example.com") != []


def test_the_list_holds_ten_thousand_passwords_and_is_read_once():
    assert len(common_passwords()) == 10_000
    assert common_passwords() is common_passwords()


def test_the_shipped_list_is_zxcvbns_top_ten_thousand():
    frequency_lists = pytest.importorskip("zxcvbn.frequency_lists")
    shipped = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").split()
    assert shipped == frequency_lists.FREQUENCY_LISTS["passwords"][:10_000]


def test_register_refuses_a_common_password_naming_the_field(api):
    response = api.register("walter", password="password1")
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert "most common" in " ".join(response.json["errors"]["password"])


def test_register_refuses_the_username_as_password(api):
    response = api.register("walter_white", password="Walter_White")
    assert response.status_code == 422
    assert "username" in " ".join(response.json["errors"]["password"])


def test_register_refuses_the_email_as_password(api):
    response = api.register("walter", password="WALTER@example.com", email="walter@example.com")
    assert response.status_code == 422
    assert "e-mail" in " ".join(response.json["errors"]["password"])


def test_create_admin_refuses_a_weak_password_with_a_clear_message(runner):
    result = runner.invoke(
        args=["create-admin", "--username", "root", "--email", "r@example.com"],
        env={"ADMIN_PASSWORD": "qwertyuiop"},
    )
    assert result.exit_code != 0
    assert "most common" in result.output
