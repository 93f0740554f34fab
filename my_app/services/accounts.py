"""Accounts: registration, e-mail confirmation, login, and administration of users."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from limits import parse

from my_app import metrics
from my_app.digests import hmac_sha256, sha256
from my_app.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    UnprocessableEntity,
)
from my_app.extensions import db, limiter
from my_app.models import User
from my_app.models.types import utcnow
from my_app.services import events as outbox
from my_app.services import mail, sessions, tokens
from my_app.services.pagination import Page, decode_cursor, page, row_id
from my_app.services.passwords import (
    hash_password,
    require_acceptable,
    spend_equal_time,
    verify_password,
)
from my_app.services.permissions import require_admin, require_owner_or_admin
from my_app.services.transaction import end_reading, transaction

CONFIRM_SALT = "my_app/email-confirmation"
RESET_SALT = "my_app/password-reset"
BAD_CREDENTIALS = "Unknown username or wrong password."
# Confirmation and reset mails one address may receive, however many clients ask for them.
MAILS_PER_ADDRESS = parse("3 per hour")


class WrongPassword(UnprocessableEntity):
    """The current password given to change it is wrong: a guess, as a failed login is."""

    def __init__(self) -> None:
        message = "The current password is wrong."
        super().__init__({"current_password": [message]}, message)


def _find_by_username(username: str) -> User | None:
    return db.session.scalar(
        sa.select(User).where(sa.func.lower(User.username) == username.lower())
    )


def _find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.lower()))


def _taken(username: str, email: str) -> Conflict | None:
    """The 409 for whichever of `username` and `email` an account has already."""
    if _find_by_username(username) is not None:
        return Conflict("That username is taken.")
    if _find_by_email(email) is not None:
        return Conflict("An account with that e-mail address exists.")
    return None


def _new_user(username: str, email: str, password: str, **attributes) -> User:
    """A user not yet added, whose name and address were free a moment ago."""
    require_acceptable(password, username, email)
    conflict = _taken(username, email)
    if conflict is not None:
        raise conflict
    end_reading()  # bcrypt takes a while: hold no transaction across it
    password_hash = hash_password(password)
    return User(username=username, email=email.lower(), password_hash=password_hash, **attributes)


def _lost_race(username: str, email: str):
    """What a concurrent registration of the same name or address becomes (after the rollback)."""
    return lambda: _taken(username, email) or Conflict("That account exists already.")


def register(username: str, email: str, password: str) -> User:
    user = _new_user(username, email, password, role="requester")
    with transaction(conflict=_lost_race(username, email)):
        db.session.add(user)
    send_confirmation(user)
    return user


def create_admin(username: str, email: str, password: str) -> User:
    """A confirmed, active admin: how the first admin comes to exist (`flask create-admin`)."""
    user = _new_user(username, email, password, role="admin", confirmed_at=utcnow())
    with transaction(conflict=_lost_race(username, email)):
        db.session.add(user)
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM_SALT)


def confirmation_link(user: User) -> str:
    token = _serializer().dumps({"uid": user.id, "email": user.email})
    return f"{current_app.config['PUBLIC_BASE_URL']}/user_confirm/{token}"


def _confirmation_mail(user: User) -> tuple[str, str]:
    return mail.render(
        "confirm",
        username=user.username,
        hours=current_app.config["CONFIRM_TOKEN_HOURS"],
        link=confirmation_link(user),
    )


def send_confirmation(user: User) -> None:
    if _mail_allowed(user.email):
        mail.send_mail(user.email, *_confirmation_mail(user))


def _mail_allowed(email: str) -> bool:
    """Count one account mail asked for `email`; False past `MAILS_PER_ADDRESS`.

    Counted whether or not an account has that address, so that the answer takes as
    long either way. The counter is the rate limits' storage (shared through Redis).
    """
    if not limiter.enabled:
        return True
    address = sha256(email.lower().encode()).hexdigest()
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
    return limiter.limiter.hit(MAILS_PER_ADDRESS, prefix, "account-mail", address)


def _signed_payload(serializer: URLSafeTimedSerializer, token: str, max_age: int, kind: str):
    """What an e-mailed link of `kind` carries; 400 when it is expired, tampered or foreign."""
    try:
        return serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise BadRequest(f"This {kind} link has expired; ask for a new one.") from None
    except BadSignature:
        raise BadRequest(f"This {kind} link is not valid.") from None


def confirm(token: str) -> bool:
    """Confirm the account a link names; False when it already was."""
    max_age = current_app.config["CONFIRM_TOKEN_HOURS"] * 3600
    payload = _signed_payload(_serializer(), token, max_age, "confirmation")
    with transaction():
        user = db.session.get(User, payload.get("uid")) if isinstance(payload, dict) else None
        if user is None or user.email != payload.get("email"):
            raise BadRequest("This confirmation link is not valid.")
        if user.confirmed:
            return False
        user.confirmed_at = utcnow()
    return True


def resend_confirmation(email: str) -> None:
    """E-mail the confirmation link again to an unconfirmed account at `email`, after the response.

    As for `forgot_password`, the answer and its timing are the same either way.
    """
    allowed = _mail_allowed(email)
    user = _find_by_email(email)
    if allowed and user is not None and not user.confirmed:
        mail.send_mail_later(user.email, *_confirmation_mail(user))


def find_user(login: str) -> User | None:
    """The user whose username, or e-mail address, is `login`."""
    return _find_by_email(login) if "@" in login else _find_by_username(login)


def authenticate(login: str, password: str) -> User:
    """The user whose username or e-mail is `login` and whose password matches."""
    user = find_user(login)
    end_reading()  # bcrypt takes a while: hold no transaction across it
    if user is None:
        spend_equal_time(password)
        metrics.login("unknown_user")
        raise Unauthorized(BAD_CREDENTIALS)
    if not verify_password(password, user.password_hash):
        metrics.login("wrong_password")
        raise Unauthorized(BAD_CREDENTIALS)
    if not user.is_active:
        metrics.login("disabled")
        raise Forbidden("This account is disabled.")
    if not user.confirmed:
        metrics.login("unconfirmed")
        raise Forbidden("Confirm your e-mail address before logging in.")
    metrics.login("success")
    return user


def _set_password(user: User, password_hash: str, keep_sid: str | None = None) -> None:
    """Give `user` a new password and end every session of theirs; in the caller's transaction.

    Every token carries the old token version, `keep_sid`'s too: that session
    goes on only with a pair issued after the commit.
    """
    user.password_hash = password_hash
    sessions.revoke_all(user, keep_sid=keep_sid)


def replace_password(user_id: int, password: str) -> None:
    """Set a password chosen by the operator's tooling (`rotate-password`); every session ends."""
    password_hash = hash_password(password)
    with transaction():
        _set_password(get_user(user_id, lock=True), password_hash)


# ---------------------------------------------------------------- forgotten and changed passwords


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _password_fingerprint(user: User) -> str:
    """Changes with every new password hash (bcrypt salts each), so a used link is dead."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac_sha256(key, user.password_hash.encode()).hexdigest()[:32]


def reset_link(user: User) -> str:
    token = _reset_serializer().dumps({"uid": user.id, "pw": _password_fingerprint(user)})
    base = current_app.config["PASSWORD_RESET_URL"]
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode({'token': token})}"


def forgot_password(email: str) -> None:
    """E-mail a reset link to the account at `email`, if there is one, after the response.

    The caller's answer and its timing are the same either way: the lookup is
    one query in both cases, and the mail leaves from another thread.
    """
    allowed = _mail_allowed(email)
    user = _find_by_email(email)
    if not allowed or user is None:
        return
    subject, body = mail.render(
        "reset",
        username=user.username,
        minutes=current_app.config["RESET_TOKEN_MINUTES"],
        link=reset_link(user),
    )
    mail.send_mail_later(user.email, subject, body)


def _reset_payload(token: str) -> dict[str, Any]:
    max_age = current_app.config["RESET_TOKEN_MINUTES"] * 60
    payload = _signed_payload(_reset_serializer(), token, max_age, "reset")
    uid = payload.get("uid") if isinstance(payload, dict) else None
    if not isinstance(uid, int) or isinstance(uid, bool):
        raise BadRequest("This reset link is not valid.")
    return payload


def _user_of_reset(payload: dict[str, Any], lock: bool = False) -> User:
    """The user a reset link names, while the password it was made for is still theirs."""
    user = _user_now(payload["uid"], lock)
    if user is None or not hmac.compare_digest(str(payload.get("pw")), _password_fingerprint(user)):
        raise BadRequest("This reset link has been used already, or is no longer valid.")
    return user


def reset_password(token: str, password: str) -> int:
    """Set the password a reset link's owner chose; every session ends, the address is proven.

    Returns the account's id (its failed logins are forgotten too: see resources/auth.py).
    """
    payload = _reset_payload(token)
    user = _user_of_reset(payload)
    require_acceptable(password, user.username, user.email)
    end_reading()  # bcrypt takes a while: hold no transaction across it
    password_hash = hash_password(password)
    with transaction():
        user = _user_of_reset(payload, lock=True)  # once only, even when two use it at once
        _set_password(user, password_hash)
        if not user.confirmed:
            user.confirmed_at = utcnow()  # the link reached the address: that confirms it
    return payload["uid"]


def change_password(actor, sid: str, current_password: str, new_password: str) -> dict[str, Any]:
    """Check the current password, set the new one, end every other session; this one's pair."""
    user = get_user(actor.id)
    end_reading()  # bcrypt takes a while: hold no transaction across it
    checked_hash = user.password_hash
    if not verify_password(current_password, checked_hash):
        raise WrongPassword()
    require_acceptable(new_password, user.username, user.email, field="new_password")
    password_hash = hash_password(new_password)
    with transaction(keep_state=True):
        user = get_user(actor.id, lock=True)
        if user.password_hash != checked_hash:
            raise WrongPassword()  # changed meanwhile: what was checked is no longer current
        _set_password(user, password_hash, keep_sid=sid)
        expires_at = sessions.renewal(sid)
        if expires_at is None:
            raise Unauthorized("This session has ended.")
        sessions.touch(sid, sessions.Client(), expires_at)
    return tokens.issue_pair(user, sid, expires_at)


def _user_now(user_id: int, lock: bool) -> User | None:
    """The row as the database holds it now (not as this session last read it)."""
    query = sa.select(User).where(User.id == user_id).execution_options(populate_existing=True)
    return db.session.scalar(query.with_for_update() if lock else query)


def get_user(user_id: int, lock: bool = False) -> User:
    user = _user_now(user_id, lock)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return user


def visible_user(actor: User, user_id: int) -> User:
    """`user_id` as seen by `actor`: themselves, or anyone for an admin."""
    require_owner_or_admin(actor, user_id, "see your own account")
    return get_user(user_id)


def _admins_take_turns(user_id: int) -> None:
    """Lock the account and every active admin, in id order, before anything else: two
    admins demoting (or deleting) each other at once then take turns instead of each
    holding the row the other waits for (a deadlock, which would be a 503)."""
    db.session.execute(
        sa.select(User.id)
        .where(sa.or_(User.id == user_id, sa.and_(User.role == "admin", User.status == "active")))
        .order_by(User.id)
        .with_for_update()
    ).all()


def _other_active_admins(user: User) -> int:
    # Locking every active admin row serialises concurrent demotions, so two
    # admins demoting each other at once cannot leave the service without one.
    query = (
        sa.select(User.id)
        .where(User.role == "admin", User.status == "active", User.id != user.id)
        .with_for_update()
    )
    return len(db.session.scalars(query).all())


def _guard_last_admin(user: User, action: str) -> None:
    if user.is_admin and user.is_active and _other_active_admins(user) == 0:
        raise Conflict(f"Cannot {action} the last active admin.")


def delete_user(actor: User, user_id: int) -> None:
    require_owner_or_admin(actor, user_id, "delete your own account")
    with transaction():
        _admins_take_turns(user_id)
        user = get_user(user_id, lock=True)
        _guard_last_admin(user, "delete")
        outbox.record_owner_deleted(user.id)
        sessions.forget(user.id)
        db.session.delete(user)


def update_user(
    actor: User, user_id: int, role: str | None = None, status: str | None = None
) -> User:
    """Change a user's role or status; takes effect on the user's next request."""
    require_admin(actor)
    with transaction():
        _admins_take_turns(user_id)
        user = get_user(user_id, lock=True)
        if (role is not None and role != "admin") or status == "disabled":
            _guard_last_admin(user, "demote or disable")
        if status == "disabled" and user.status != "disabled":
            sessions.revoke_all(user)  # re-enabling later must not revive old sessions
        if role is not None:
            user.role = role
        if status is not None:
            user.status = status
    return user


def list_users(
    actor: User,
    limit: int,
    cursor: str | None = None,
    role: str | None = None,
    status: str | None = None,
) -> Page:
    require_admin(actor)
    query = sa.select(User).order_by(User.id).limit(limit + 1)
    if cursor:
        (last_id,) = decode_cursor(cursor, row_id)
        query = query.where(User.id > last_id)
    if role:
        query = query.where(User.role == role)
    if status:
        query = query.where(User.status == status)
    return page(list(db.session.scalars(query)), limit, key=lambda user: [user.id])
