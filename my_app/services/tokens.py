"""JWT sessions: issuing pairs, rotating refresh tokens, revocation.

A login starts a session (`sid`), shared by every token pair it yields.
Refresh rotates: the presented refresh token is spent atomically through the
blacklist, so of several concurrent uses at most one succeeds; a spent token
presented again ends its whole session (reuse detection). `ver` is the
user's token version: bumping it ends every session of that user.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token

from blacklist import get_blacklist
from my_app.errors import InvalidToken
from my_app.extensions import db
from my_app.models import User

Claims = dict[str, Any]


def _jti_key(claims: Claims) -> str:
    return f"jti:{claims['jti']}"


def _sid_key(claims: Claims) -> str:
    return f"sid:{claims.get('sid')}"


def _token_expiry(claims: Claims) -> datetime:
    return datetime.fromtimestamp(claims["exp"], UTC)


def _session_expiry() -> datetime:
    # No token of a session outlives the newest refresh token, issued at the latest now.
    return datetime.now(UTC) + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]


def issue_pair(user: User, sid: str | None = None) -> dict[str, Any]:
    claims = {"sid": sid or uuid.uuid4().hex, "ver": user.token_version}
    identity = str(user.id)
    return {
        "access_token": create_access_token(identity=identity, additional_claims=claims),
        "refresh_token": create_refresh_token(identity=identity, additional_claims=claims),
        "token_type": "Bearer",
        "expires_in": int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()),
    }


def is_revoked(claims: Claims) -> bool:
    """The blocklist check run on every protected request."""
    revoked = get_blacklist().contains_any(_jti_key(claims), _sid_key(claims))
    if revoked and claims.get("type") == "refresh":
        end_session(claims)  # reuse detected: the token's family is compromised
    return revoked


def rotate(claims: Claims, user: User) -> dict[str, Any]:
    """Spend the refresh token in `claims` and hand out the session's next pair."""
    if not get_blacklist().add(_jti_key(claims), _token_expiry(claims)):
        end_session(claims)
        raise InvalidToken("This refresh token has already been used; the session is ended.")
    return issue_pair(user, sid=claims["sid"])


def end_session(claims: Claims) -> None:
    """Revoke every token of the session `claims` belongs to."""
    get_blacklist().add(_sid_key(claims), _session_expiry())


def end_all_sessions(user: User) -> None:
    user.token_version += 1
    db.session.commit()


def load_user(claims: Claims) -> User:
    """The user a valid token speaks for; refuses tokens of deleted, disabled or reset accounts."""
    try:
        user_id = int(claims["sub"])
    except (KeyError, TypeError, ValueError):
        raise InvalidToken("The token does not name a user.") from None
    user = db.session.get(User, user_id)
    if user is None:
        raise InvalidToken("The token's account no longer exists.")
    if claims.get("ver") != user.token_version or "sid" not in claims:
        raise InvalidToken("The token has been revoked.")
    if not user.is_active:
        raise InvalidToken("The token's account is disabled.")
    return user
