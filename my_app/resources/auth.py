"""Registration, confirmation, login and sessions."""

from flask import current_app
from flask_jwt_extended import current_user, get_jwt, jwt_required

from my_app.apidoc import documented
from my_app.extensions import limiter
from my_app.resources.base import AuthResource, Resource, load_body
from my_app.schemas.base import MessageSchema
from my_app.schemas.user import (
    EmailSchema,
    LoginSchema,
    RegisterSchema,
    TokenPairSchema,
    UserSchema,
)
from my_app.services import accounts, tokens

user_schema = UserSchema()


def auth_rate_limit() -> str:
    return current_app.config["RATELIMIT_AUTH"]


class Register(Resource):
    decorators = [limiter.limit(auth_rate_limit, methods=["POST"])]

    @documented(
        body=RegisterSchema, response=UserSchema, status=201, errors=(409, 429), tags=("accounts",)
    )
    def post(self):
        """Create an account and e-mail its confirmation link."""
        data = load_body(RegisterSchema())
        return user_schema.dump(accounts.register(**data)), 201


class ConfirmEmail(Resource):
    @documented(response=MessageSchema, errors=(400,), tags=("accounts",))
    def get(self, token: str):
        """Confirm an e-mail address from the link sent to it."""
        first_time = accounts.confirm(token)
        message = "E-mail address confirmed." if first_time else "E-mail address already confirmed."
        return {"message": message}


class ResendConfirmation(Resource):
    decorators = [limiter.limit(auth_rate_limit, methods=["POST"])]

    @documented(
        body=EmailSchema, response=MessageSchema, status=202, errors=(429,), tags=("accounts",)
    )
    def post(self):
        """Send the confirmation link again (same answer whether or not the address exists)."""
        accounts.resend_confirmation(**load_body(EmailSchema()))
        return {
            "message": "If that address belongs to an unconfirmed account, a link is on its way."
        }, 202


class Login(Resource):
    decorators = [limiter.limit(auth_rate_limit, methods=["POST"])]

    @documented(
        body=LoginSchema, response=TokenPairSchema, errors=(401, 403, 429), tags=("sessions",)
    )
    def post(self):
        """Exchange a username (or e-mail) and password for a token pair."""
        data = load_body(LoginSchema())
        return tokens.issue_pair(accounts.authenticate(data["username"], data["password"]))


class Refresh(Resource):
    method_decorators = [jwt_required(refresh=True)]

    @documented(auth="refresh", response=TokenPairSchema, tags=("sessions",))
    def post(self):
        """Spend a refresh token for a new pair of the same session."""
        return tokens.rotate(get_jwt(), current_user)


class Logout(AuthResource):
    @documented(auth="access", response=MessageSchema, tags=("sessions",))
    def post(self):
        """Revoke the access and refresh tokens of this session."""
        tokens.end_session(get_jwt())
        return {"message": "Logged out."}


class LogoutAll(AuthResource):
    @documented(auth="access", response=MessageSchema, tags=("sessions",))
    def post(self):
        """Revoke every session of the caller."""
        tokens.end_all_sessions(current_user)
        return {"message": "Logged out of every session."}


class Me(AuthResource):
    @documented(auth="access", response=UserSchema, tags=("accounts",))
    def get(self):
        """The caller's account."""
        return user_schema.dump(current_user)
