"""Wiring of flask-jwt-extended: every token problem is a problem+json 401."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from typing import Any

import jwt as pyjwt
from flask import Flask, current_app, g
from flask_jwt_extended import current_user, verify_jwt_in_request
from flask_jwt_extended.config import config as jwt_config
from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import InvalidTokenError, MissingRequiredClaimError

from my_app.digests import sha256
from my_app.errors import unauthorized
from my_app.extensions import jwt
from my_app.schemas.base import MAX_ID
from my_app.services import identity, revocation
from my_app.services.permissions import require_admin

# Every claim the service puts in its tokens; a token lacking one was not made by us.
REQUIRED_CLAIMS = ("exp", "iat", "nbf", "jti", "type", "sub", "sid", "ver", "iss", "aud")
_ACCOUNT_ID = re.compile(r"[1-9][0-9]{0,18}")


@jwt.unauthorized_loader
def _missing(reason: str):
    return unauthorized("A Bearer access token is required.", error="invalid_request")


@jwt.invalid_token_loader
def _invalid(reason: str):
    return unauthorized(f"The token is invalid: {reason}.")


# The token problems flask-jwt-extended reports after decoding: each a 401 with its reason.
for register, detail in (
    (jwt.expired_token_loader, "The token has expired."),
    (jwt.revoked_token_loader, "The token has been revoked."),
    (jwt.needs_fresh_token_loader, "A fresh token is required."),
    (jwt.user_lookup_error_loader, "The token's account no longer exists."),
    (jwt.token_verification_failed_loader, "The token was refused."),
):
    register(lambda header, payload, detail=detail: unauthorized(detail))


# flask-jwt-extended asks two questions of a token, one after the other: is it revoked, and
# whom does it speak for. One round trip to the revocation store answers both; the account
# it returned waits in `g` for the second question.
@jwt.token_in_blocklist_loader
def _is_revoked(header, payload) -> bool:
    check = identity.check_token(payload)
    g.token_account = check.account
    return check.revoked


@jwt.decode_key_loader
def _key_for_complete_tokens(header, unverified_claims: dict[str, Any]) -> str:
    """The signing key, but only for tokens shaped as the service issues them.

    This runs before the signature check and before flask-jwt-extended fills in
    defaults for missing claims, so nothing downstream sees a token lacking one.
    """
    check_claims(unverified_claims)
    return jwt_config.decode_key


def check_claims(claims: dict[str, Any]) -> None:
    """Refuse (401) a token without every claim we issue, or with a `sub` that is no account id."""
    for claim in REQUIRED_CLAIMS:
        if claim not in claims:
            raise MissingRequiredClaimError(claim)
    sub = claims["sub"]
    if not (isinstance(sub, str) and _ACCOUNT_ID.fullmatch(sub) and int(sub) <= MAX_ID):
        raise InvalidTokenError("the subject is not an account id")
    if claims["type"] not in ("access", "refresh"):
        raise InvalidTokenError("unknown token type")
    if not (isinstance(claims["jti"], str) and isinstance(claims["sid"], str)):
        raise InvalidTokenError("malformed token identifiers")
    if not isinstance(claims["ver"], int) or isinstance(claims["ver"], bool):
        raise InvalidTokenError("malformed token version")


@jwt.user_lookup_loader
def _load_user(header, payload):
    return identity.load_user(payload, g.pop("token_account", None))


def authenticate(refresh: bool = False, admin: bool = False) -> None:
    """Require a valid access (or refresh) token; with `admin`, of an admin."""
    verify_jwt_in_request(refresh=refresh)
    if admin:
        require_admin(current_user)


class CheckedKeyHS256(HMACAlgorithm):
    """PyJWT's HS256, but each key is checked once per process instead of on every token.

    On every encode and decode PyJWT checks that the HMAC key is no asymmetric key (it tries
    it as PEM, SSH, JWK, a DER public key and a DER certificate). The answer for a given key
    never changes; and the DER attempts run in cryptography's OpenSSL, whose pages then stay
    resident in every worker (about 2 MB). Same keys accepted, same errors for the others
    (a refused key is never remembered). Likewise its length check (a hash object made per
    token): a key long enough is remembered, a short one warned about every time.
    """

    KEYS_REMEMBERED = 8

    def __init__(self) -> None:
        super().__init__(sha256)  # CPython's SHA-256, not OpenSSL's (my_app/digests.py)
        self._checked: dict[str | bytes, bytes] = {}
        self._long_enough: set[bytes] = set()

    def check_key_length(self, key: bytes) -> str | None:
        if key in self._long_enough:
            return None
        warning = super().check_key_length(key)
        if warning is None and len(self._long_enough) < self.KEYS_REMEMBERED:
            self._long_enough.add(key)
        return warning

    def prepare_key(self, key: str | bytes) -> bytes:
        if not isinstance(key, str | bytes):
            return super().prepare_key(key)
        prepared = self._checked.get(key)
        if prepared is None:
            prepared = super().prepare_key(key)
            if len(self._checked) < self.KEYS_REMEMBERED:
                self._checked[key] = prepared
        return prepared


class VerifiedTokens:
    """The access tokens a worker verified, remembered until they expire.

    flask-jwt-extended decodes a token three times per request (its header, its claims
    unverified, then verified with the key): about a tenth of the CPU of a list request, a
    seventh of `GET /me`'s. A client sends the same token for its whole life, so each
    app remembers the claims of the last `SIZE` tokens that passed, by the token's exact
    text. The signature covers that text, so the same text under the same key and rules
    verifies the same way; what can change is the clock, and a remembered token is refused
    again once it expires (with the same leeway). Revocation is not decided here: it is
    checked on every request after this. Only header tokens (no CSRF value to compare) that
    must be unexpired are remembered; cookies and refresh's grace go the whole way.
    """

    SIZE = 256

    def __init__(self) -> None:
        self._claims: dict[str, tuple[dict, float]] = {}
        self._lock = threading.Lock()  # every change (a worker's threads); a read needs none

    def claims(self, token: str) -> dict | None:
        """A copy of the remembered token's claims, or None (unknown, or expired since)."""
        held = self._claims.get(token)
        if held is None:
            return None
        claims, expires_at = held
        if time.time() > expires_at:
            with self._lock:
                self._claims.pop(token, None)
            return None
        return dict(claims)

    def remember(self, token: str, claims: dict) -> None:
        leeway = jwt_config.leeway
        if isinstance(leeway, timedelta):
            leeway = leeway.total_seconds()
        with self._lock:
            while len(self._claims) >= self.SIZE:  # the oldest go first
                self._claims.pop(next(iter(self._claims)))
            self._claims[token] = (dict(claims), claims["exp"] + leeway)


VERIFIED_TOKENS = "my_app.verified_tokens"  # each app's own, in app.extensions
_decode = jwt._decode_jwt_from_config


def _decode_remembered(encoded_token: str, csrf_value=None, allow_expired: bool = False) -> dict:
    verified = current_app.extensions.get(VERIFIED_TOKENS)
    if verified is None or csrf_value is not None or allow_expired:
        return _decode(encoded_token, csrf_value, allow_expired)
    claims = verified.claims(encoded_token)
    if claims is None:
        claims = _decode(encoded_token, csrf_value, allow_expired)
        verified.remember(encoded_token, claims)
    return claims


# The one JWTManager's own method, for every app; each app has its own tokens (init_app).
jwt._decode_jwt_from_config = _decode_remembered


HS256 = CheckedKeyHS256()
# flask-jwt-extended signs and verifies through PyJWT's module-level functions, which use
# this registry.
pyjwt.unregister_algorithm("HS256")
pyjwt.register_algorithm("HS256", HS256)


def init_app(app: Flask) -> None:
    jwt.init_app(app)
    app.extensions[VERIFIED_TOKENS] = VerifiedTokens()
    revocation.init_app(app)
    # Checked now: under uWSGI that is in the master, before the workers are forked, so no
    # worker ever runs the check (see CheckedKeyHS256).
    HS256.prepare_key(app.config["JWT_SECRET_KEY"])
