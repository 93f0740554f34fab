"""Password hashing rules: bcrypt over an HMAC pre-hash, so every character counts."""

import pytest
from flask import Flask

from my_app.schemas.user import RegisterSchema
from my_app.services.passwords import hash_password, verify_password


@pytest.fixture(autouse=True)
def app_context():
    app = Flask(__name__)
    app.config["BCRYPT_LOG_ROUNDS"] = 4
    with app.app_context():
        yield


def test_a_password_verifies_against_its_own_hash_only():
    hashed = hash_password("correct horse battery")
    assert verify_password("correct horse battery", hashed)
    assert not verify_password("correct horse battery ", hashed)


def test_hashes_are_salted_and_use_the_configured_cost():
    first, second = hash_password("same password"), hash_password("same password")
    assert first != second
    assert first.startswith("$2b$04$")


def test_passwords_differing_after_byte_72_do_not_match():
    hashed = hash_password("a" * 72 + "first-ending")
    assert not verify_password("a" * 72 + "other-ending", hashed)
    assert verify_password("a" * 72 + "first-ending", hashed)


def test_128_character_multibyte_password_is_accepted_and_verifies():
    password = "ü" * 128  # 256 bytes in UTF-8
    body = {"username": "ivan", "email": "ivan@example.com", "password": password}
    assert RegisterSchema().load(body)["password"] == password
    assert verify_password(password, hash_password(password))
    assert not verify_password("ü" * 127 + "u", hash_password(password))


@pytest.mark.parametrize("stored", ["", "not a bcrypt hash", "$2b$04$short"])
def test_a_malformed_stored_hash_never_verifies(stored):
    assert verify_password("anything", stored) is False
