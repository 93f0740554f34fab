"""Password hashing: bcrypt over an HMAC-SHA256 pre-hash.

bcrypt reads at most 72 bytes (bcrypt 5 refuses more). Pre-hashing with HMAC
and base64-encoding the digest, as OWASP's password storage guidance
describes, lets all 128 characters count while staying inside that limit and
free of NUL bytes. The HMAC key separates our digests from plain SHA-256
digests leaked elsewhere ("password shucking").
"""

from __future__ import annotations

import base64
from functools import lru_cache

import bcrypt
from flask import current_app

from my_app.digests import hmac_sha256
from my_app.errors import UnprocessableEntity
from my_app.schemas.passwords import password_problems

PREHASH_KEY = b"my_app/password-prehash/v1"


def _prehash(password: str) -> bytes:
    digest = hmac_sha256(PREHASH_KEY, password.encode("utf-8")).digest()
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


def require_acceptable(password: str, username: str, email: str, field: str = "password") -> None:
    """422 naming `field`, with the reasons, unless `password` may be used by that account."""
    problems = password_problems(password, username, email)
    if problems:
        raise UnprocessableEntity({field: problems}, "The password is not acceptable.")
