"""Who a token speaks for: the caller as an `Account`, from one round trip to the revocation store.

Every authenticated request asks the store once (`check_token`) whether the token
is revoked and what the account looks like now; `load_user` turns that answer
into the caller. `current_user` is that `Account`, not a database row; `as_user`
makes it one of the request's session when a write needs the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from blacklist import Check
from my_app.errors import InvalidToken
from my_app.models import User
from my_app.models.user import AccountRules
from my_app.schemas.base import MAX_ID
from my_app.services import revocation
from my_app.services.transaction import attach, in_session

Claims = dict[str, Any]


@dataclass(frozen=True)
class Account(AccountRules):
    """The caller as the revocation store knows them: enough to authorize and to show."""

    id: int
    username: str
    email: str
    role: str
    status: str
    confirmed_at: datetime | None
    created_at: datetime
    token_version: int

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Account:
        values = dict(record)
        for name in ("confirmed_at", "created_at"):
            if isinstance(values[name], str):
                values[name] = datetime.fromisoformat(values[name])
        return cls(**values)


def as_user(account: Account | User) -> User:
    """The account as a `User` of this request's session, without reading the row again.

    Built from the revocation store's copy (which the listeners keep current) and added
    to the session as an unchanged, persistent row; a column the copy lacks loads from
    the database if something asks for it. Relationships to the caller (a request's
    `requested_by`, `decided_by`) then cost no query.
    """
    if isinstance(account, User):
        return account
    found = in_session(User, account.id)
    if found is not None:
        return found
    return attach(User, {name: getattr(account, name) for name in revocation.ACCOUNT_COLUMNS})


def _user_id(claims: Claims) -> int:
    subject = claims.get("sub")
    if not (isinstance(subject, str) and subject.isascii() and subject.isdigit()):
        raise InvalidToken("The token does not name a user.")
    user_id = int(subject)
    if not 0 < user_id <= MAX_ID:
        raise InvalidToken("The token's account no longer exists.")
    return user_id


def check_token(claims: Claims) -> Check:
    """The one store round trip of a protected request: revoked or not, and the account now."""
    if "sid" not in claims:
        raise InvalidToken("The token has been revoked.")
    return revocation.check(claims, _user_id(claims))


def load_user(claims: Claims, record: dict[str, Any] | None) -> Account:
    """The account a valid token speaks for, from `check_token`'s record of it.

    Refuses tokens of deleted, disabled or reset accounts.
    """
    if record is None:
        raise InvalidToken("The token's account no longer exists.")
    account = Account.from_record(record)
    if claims.get("ver") != account.token_version:
        raise InvalidToken("The token has been revoked.")
    if not account.is_active:
        raise InvalidToken("The token's account is disabled.")
    return account
