"""Registration, confirmation, login and sessions."""

from flask import current_app, g, request
from flask_jwt_extended import current_user, decode_token, get_jwt
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_limiter.util import get_remote_address
from jwt import PyJWTError
from limits import parse_many
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from my_app.errors import AppError
from my_app.extensions import limiter
from my_app.resources.base import Resource
from my_app.resources.endpoint import (
    authenticated,
    body,
    load_body,
    operation,
    other_responses,
    response,
)
from my_app.schemas.base import MessageSchema
from my_app.schemas.user import (
    ChangePasswordSchema,
    EmailSchema,
    ForgotPasswordSchema,
    LoginSchema,
    RegisterSchema,
    ResetPasswordSchema,
    SessionListSchema,
    TokenPairSchema,
    UserSchema,
)
from my_app.services import accounts, sessions, tokens

ACCOUNTS, SESSIONS = ("accounts",), ("sessions",)


def auth_rate_limit() -> str:
    return current_app.config["RATELIMIT_AUTH"]


def login_failure_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_FAILURES"]


def account_failure_limit() -> str:
    return current_app.config["RATELIMIT_ACCOUNT_FAILURES"]


LOGIN_BODY = LoginSchema()


def _login_name() -> str:
    """The account a login names (case and surrounding spaces aside), once the endpoint's own
    gate has accepted the body; "" for a body it refuses, which the endpoint then answers."""
    try:
        name = load_body(LOGIN_BODY)["username"]
    except (AppError, HTTPException, ValidationError):
        return ""
    return name.strip().lower()


def _token_subject() -> str:
    """The account a bearer token names; only its signature is checked here."""
    header = request.headers.get("Authorization", "")
    try:
        return str(decode_token(header.removeprefix("Bearer ").strip())["sub"])
    except (PyJWTError, JWTExtendedException, KeyError):
        return ""  # the endpoint itself answers 401


def _login_account() -> str:
    """The account a login names, by its username or its e-mail alike."""
    name = _login_name()
    user = accounts.find_user(name) if name else None
    return _account_key(user.id) if user is not None else f"name:{name}"


def _account_key(user_id: int) -> str:
    return f"id:{user_id}"


def login_failure_key() -> str:
    """The client address and the account named."""
    return f"{get_remote_address()}|login|{_login_account()}"


def account_failure_key() -> str:
    """The account named, whichever address asks."""
    return f"login|{_login_account()}"


ACCOUNT_FAILURES = "account-failures"


def clear_account_failures(user_id: int) -> None:
    """Forget the failed logins against an account (its owner has just proven it theirs)."""
    if not limiter.enabled:
        return
    prefix = limiter._key_prefix  # the one the limiter counted with (its first app's setting)
    for limit in parse_many(account_failure_limit()):
        limiter.limiter.clear(limit, prefix, f"login|{_account_key(user_id)}", ACCOUNT_FAILURES)


def password_check_key() -> str:
    return f"{get_remote_address()}|user|{_token_subject()}"


# Per client address: sign-up and mail-sending endpoints.
per_address = limiter.limit(auth_rate_limit, scope="auth")
# Only failures count, per account and client address: an office behind one
# address logs in freely, a guesser is slowed, the owner elsewhere is unaffected.
login_failures = limiter.limit(
    login_failure_limit,
    key_func=login_failure_key,
    scope="login-failures",
    deduct_when=lambda response: response.status_code == 401,
)
# Failures against one account from all addresses together (many addresses, one target).
account_failures = limiter.shared_limit(
    account_failure_limit,
    scope=ACCOUNT_FAILURES,
    key_func=account_failure_key,
    deduct_when=lambda response: response.status_code == 401,
)
password_check_failures = limiter.limit(
    login_failure_limit,
    key_func=password_check_key,
    scope="login-failures",
    deduct_when=lambda response: bool(g.get("password_guess_failed")),
)


def _client() -> sessions.Client:
    return sessions.Client(request.remote_addr, request.user_agent.string)


class Register(Resource):
    @per_address
    @operation("register", tags=ACCOUNTS)
    @body(RegisterSchema)
    @response(UserSchema, 201)
    @other_responses(409, 429)
    def post(self, data):
        """Create an account and e-mail its confirmation link."""
        return accounts.register(**data)


class ConfirmEmail(Resource):
    @operation("confirm_email", tags=ACCOUNTS)
    @response(MessageSchema)
    @other_responses(400)
    def get(self, token: str):
        """Confirm an e-mail address from the link sent to it."""
        first_time = accounts.confirm(token)
        return {
            "message": "E-mail address confirmed."
            if first_time
            else "E-mail address already confirmed."
        }


class ResendConfirmation(Resource):
    @per_address
    @operation("resend_confirmation", tags=ACCOUNTS)
    @body(EmailSchema)
    @response(MessageSchema, 202)
    @other_responses(429)
    def post(self, data):
        """Send the confirmation link again (same answer whether or not the address exists)."""
        accounts.resend_confirmation(**data)
        return {
            "message": "If that address belongs to an unconfirmed account, a link is on its way."
        }


class Login(Resource):
    @login_failures
    @account_failures
    @operation("login", tags=SESSIONS)
    @body(LoginSchema)
    @response(TokenPairSchema)
    @other_responses(401, 403, 429)
    def post(self, data):
        """Exchange a username (or e-mail) and password for a token pair."""
        user = accounts.authenticate(data["username"], data["password"])
        return tokens.login(user, _client())


class Refresh(Resource):
    @operation("refresh_tokens", tags=SESSIONS)
    @authenticated("refresh")
    @response(TokenPairSchema)
    def post(self):
        """Spend a refresh token for a new pair of the same session."""
        return tokens.rotate(get_jwt(), current_user, _client())


class Logout(Resource):
    @operation("logout", tags=SESSIONS)
    @authenticated()
    @response(MessageSchema)
    def post(self):
        """Revoke the access and refresh tokens of this session."""
        sessions.end_session(current_user.id, get_jwt()["sid"])
        return {"message": "Logged out."}


class LogoutAll(Resource):
    @operation("logout_all", tags=SESSIONS)
    @authenticated()
    @response(MessageSchema)
    def post(self):
        """Revoke every session of the caller."""
        sessions.end_all_sessions(current_user)
        return {"message": "Logged out of every session."}


class Me(Resource):
    @operation("get_current_user", tags=ACCOUNTS)
    @authenticated()
    @response(UserSchema)
    def get(self):
        """The caller's account."""
        return current_user


class ForgotPassword(Resource):
    @per_address
    @operation("forgot_password", tags=ACCOUNTS)
    @body(ForgotPasswordSchema)
    @response(MessageSchema, 202)
    @other_responses(429)
    def post(self, data):
        """E-mail a password-reset link (same answer whether or not the address exists)."""
        accounts.forgot_password(**data)
        return {"message": "If that address belongs to an account, a reset link is on its way."}


class ResetPassword(Resource):
    @operation("reset_password", tags=ACCOUNTS)
    @body(ResetPasswordSchema)
    @response(MessageSchema)
    @other_responses(400)
    def post(self, data):
        """Choose a new password with the e-mailed link's token; every session ends."""
        user_id = accounts.reset_password(**data)
        clear_account_failures(user_id)
        return {"message": "Password changed. Every session has ended; log in again."}


class ChangePassword(Resource):
    @password_check_failures
    @operation("change_password", tags=ACCOUNTS)
    @authenticated()
    @body(ChangePasswordSchema)
    @response(TokenPairSchema)
    @other_responses(429)
    def post(self, data):
        """Change the password; every other session ends, this one gets a new pair."""
        try:
            return accounts.change_password(current_user, get_jwt()["sid"], **data)
        except accounts.WrongPassword:
            g.password_guess_failed = True  # counted by the login-failure rate limit
            raise


class SessionList(Resource):
    @operation("list_sessions", tags=SESSIONS)
    @authenticated()
    @response(SessionListSchema)
    def get(self):
        """The caller's live logins, newest first; `current` marks this one."""
        return {"sessions": sessions.list_sessions(current_user, get_jwt().get("sid"))}


class SessionItem(Resource):
    @operation("end_session", tags=SESSIONS)
    @authenticated()
    @response(MessageSchema)
    @other_responses(404)
    def delete(self, session_id: int):
        """End one of the caller's sessions: its tokens stop working at once."""
        sessions.end_session_by_id(current_user, session_id)
        return {"message": f"Session {session_id} ended."}
