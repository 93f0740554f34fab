"""Token pairs: the first of a session at login, and rotating refresh tokens.

Refresh rotates: the presented refresh token is spent atomically through the
revocation store, so of several concurrent uses one spends it. Presented
again within `REFRESH_GRACE_SECONDS` (two tabs, a retried request), it gets
the same successor refresh token and a fresh access token: one session, one
chain. Presented after that, it is theft: the whole session ends (reuse
detection). Every token carries its session (`sid`) and the user's token
version (`ver`).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token

from my_app.errors import InvalidToken
from my_app.services import revocation, sessions
from my_app.services.identity import Account
from my_app.services.sessions import Client
from my_app.services.transaction import transaction

Claims = dict[str, Any]
SUCCESSOR_POLL_SECONDS = 0.05

TOKEN_TYPE = "Bearer"  # nosec B105  # the token type of RFC 6750, not a secret


def login(account, client: Client) -> dict[str, Any]:
    """A new session for `account` (an authenticated user): its row, and its first pair.

    The pair carries the token version read with the password hash that was checked, not
    one read again after the session's commit: should the password change (or every
    session end) while bcrypt runs, the new pair is refused from its first request, and
    the login costs no further round trip.
    """
    sid = sessions.new_sid()
    with transaction(keep_state=True):
        expires_at = sessions.start(account.id, sid, client)
    return issue_pair(account, sid, expires_at)


def issue_pair(account, sid: str, expires_at: datetime) -> dict[str, Any]:
    """A token pair of session `sid`, carrying the account's current token version.

    The refresh token expires at `expires_at`, which the session does not outlive.
    """
    claims = {"sid": sid, "ver": account.token_version}
    refresh_token = create_refresh_token(
        identity=str(account.id),
        additional_claims=claims,
        expires_delta=expires_at - datetime.now(UTC),
    )
    return _pair(_access_token(account, sid), refresh_token)


def _access_token(account, sid: str) -> str:
    claims = {"sid": sid, "ver": account.token_version}
    return create_access_token(identity=str(account.id), additional_claims=claims)


def _pair(access_token: str, refresh_token: str) -> dict[str, Any]:
    return {
        "access_token": access_token,
        "refresh_token": refresh_token,
        "token_type": TOKEN_TYPE,
        "expires_in": int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()),
    }


def rotate(claims: Claims, account: Account, client: Client) -> dict[str, Any]:
    """Spend the refresh token in `claims` and hand out the session's next pair."""
    sid = claims["sid"]
    if revocation.spend(claims):
        expires_at = sessions.renewal(sid)
        if expires_at is None:
            raise InvalidToken("This session has ended.")
        pair = issue_pair(account, sid, expires_at)
        grace = timedelta(seconds=current_app.config["REFRESH_GRACE_SECONDS"])
        revocation.name_successor(claims, pair["refresh_token"], until=datetime.now(UTC) + grace)
        with transaction():  # after the successor: a racing twin need not wait on it
            sessions.touch(sid, client, expires_at)
        return pair
    successor = _successor_within_grace(claims)
    if successor is None:
        sessions.end_session(account.id, sid)  # its own unit of work: the only one of this path
        raise InvalidToken("This refresh token has already been used; the session is ended.")
    return _pair(_access_token(account, sid), successor)


def _successor_within_grace(claims: Claims) -> str | None:
    """The refresh token that replaced this spent one, if it was spent a moment ago."""
    deadline = revocation.spent_at(claims) + current_app.config["REFRESH_GRACE_SECONDS"]
    while time.time() < deadline:
        successor = revocation.successor(claims)
        if successor is not None:
            return successor
        time.sleep(SUCCESSOR_POLL_SECONDS)  # the first refresh is still being answered
    return None
