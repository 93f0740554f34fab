"""Password hashing: bcrypt over an HMAC-SHA256 pre-hash.

bcrypt reads at most 72 bytes (bcrypt 5 refuses more). Pre-hashing with HMAC
and base64-encoding the digest, as OWASP's password storage guidance
describes, lets all 128 characters count while staying inside that limit and
free of NUL bytes. The HMAC key separates our digests from plain SHA-256
digests leaked elsewhere ("password shucking").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache
from pathlib import Path

import bcrypt
from flask import current_app

from my_app.errors import UnprocessableEntity

PREHASH_KEY = b"my_app/password-prehash/v1"


def _prehash(password: str) -> bytes:
    digest = hmac.new(PREHASH_KEY, password.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest)


def hash_password(password: str) -> str:
    rounds = current_app.config["BCRYPT_LOG_ROUNDS"]
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(_prehash(password), password_hash.encode("ascii"))
    except ValueError:
        return False


@lru_cache(maxsize=8)
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"dummy-password-for-timing", bcrypt.gensalt(rounds))


def spend_equal_time(password: str) -> None:
    """Do the work of a real check, so an unknown user answers as slowly as a wrong password."""
    bcrypt.checkpw(_prehash(password), _dummy_hash(current_app.config["BCRYPT_LOG_ROUNDS"]))


# ---------------------------------------------------------------- rules (NIST SP 800-63B)

MIN_LENGTH, MAX_LENGTH = 8, 128
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords, lower-cased; read once per process."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


def password_problems(password: str, username: str = "", email: str = "") -> list[str]:
    """Why `password` may not be used by the account `username` / `email`; empty when it may.

    Length is counted in characters, every one of them (spaces too). No
    composition rules: a long passphrase is better than `P@ssw0rd!`.
    """
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    folded = password.casefold()
    problems = []
    if folded.lower() in common_passwords():
        problems.append("This is one of the 10,000 most common passwords; choose another.")
    account_names = {name.strip().casefold() for name in (username, email) if name}
    if folded in account_names or folded.strip() in account_names:
        problems.append("The password must not be your username or e-mail address.")
    return problems


def require_acceptable(password: str, username: str, email: str, field: str = "password") -> None:
    """422 naming `field`, with the reasons, unless `password` may be used by that account."""
    problems = password_problems(password, username, email)
    if problems:
        raise UnprocessableEntity({field: problems}, "The password is not acceptable.")
