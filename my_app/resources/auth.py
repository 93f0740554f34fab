"""Registration, confirmation, login and sessions."""

from flask import current_app
from flask_jwt_extended import current_user, get_jwt

from my_app.extensions import limiter
from my_app.resources.base import Resource, endpoint
from my_app.schemas.base import MessageSchema
from my_app.schemas.user import (
    EmailSchema,
    LoginSchema,
    RegisterSchema,
    TokenPairSchema,
    UserSchema,
)
from my_app.services import accounts, tokens

ACCOUNTS, SESSIONS = ("accounts",), ("sessions",)


def auth_rate_limit() -> str:
    return current_app.config["RATELIMIT_AUTH"]


per_address = limiter.limit(auth_rate_limit)


class Register(Resource):
    @endpoint(
        "register",
        body=RegisterSchema,
        response=UserSchema,
        status=201,
        errors=(409, 429),
        tags=ACCOUNTS,
        decorators=[per_address],
    )
    def post(self, data):
        """Create an account and e-mail its confirmation link."""
        return accounts.register(**data)


class ConfirmEmail(Resource):
    @endpoint("confirm_email", response=MessageSchema, errors=(400,), tags=ACCOUNTS)
    def get(self, token: str):
        """Confirm an e-mail address from the link sent to it."""
        first_time = accounts.confirm(token)
        return {
            "message": "E-mail address confirmed."
            if first_time
            else "E-mail address already confirmed."
        }


class ResendConfirmation(Resource):
    @endpoint(
        "resend_confirmation",
        body=EmailSchema,
        response=MessageSchema,
        status=202,
        errors=(429,),
        tags=ACCOUNTS,
        decorators=[per_address],
    )
    def post(self, data):
        """Send the confirmation link again (same answer whether or not the address exists)."""
        accounts.resend_confirmation(**data)
        return {
            "message": "If that address belongs to an unconfirmed account, a link is on its way."
        }


class Login(Resource):
    @endpoint(
        "login",
        body=LoginSchema,
        response=TokenPairSchema,
        errors=(401, 403, 429),
        tags=SESSIONS,
        decorators=[per_address],
    )
    def post(self, data):
        """Exchange a username (or e-mail) and password for a token pair."""
        return tokens.issue_pair(accounts.authenticate(data["username"], data["password"]))


class Refresh(Resource):
    @endpoint("refresh_tokens", auth="refresh", response=TokenPairSchema, tags=SESSIONS)
    def post(self):
        """Spend a refresh token for a new pair of the same session."""
        return tokens.rotate(get_jwt(), current_user)


class Logout(Resource):
    @endpoint("logout", auth="access", response=MessageSchema, tags=SESSIONS)
    def post(self):
        """Revoke the access and refresh tokens of this session."""
        tokens.end_session(get_jwt())
        return {"message": "Logged out."}


class LogoutAll(Resource):
    @endpoint("logout_all", auth="access", response=MessageSchema, tags=SESSIONS)
    def post(self):
        """Revoke every session of the caller."""
        tokens.end_all_sessions(current_user)
        return {"message": "Logged out of every session."}


class Me(Resource):
    @endpoint("get_current_user", auth="access", response=UserSchema, tags=ACCOUNTS)
    def get(self):
        """The caller's account."""
        return current_user
