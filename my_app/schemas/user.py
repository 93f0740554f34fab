"""Shapes of accounts and tokens, in and out."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from my_app.models.user import ACCOUNT_STATUSES, ROLES
from my_app.schemas.base import (
    BodySchema,
    NonBlank,
    PageQuerySchema,
    Text,
    Trimmed,
    UTCTimestamp,
    page_of,
)
from my_app.schemas.passwords import MAX_LENGTH, MIN_LENGTH, password_problems

USERNAME = validate.And(
    validate.Length(min=3, max=80),
    validate.Regexp(r"^[A-Za-z0-9_.\-]+$", error="Use only letters, digits, '_', '.' and '-'."),
)
PASSWORD_DOC = {
    "minLength": MIN_LENGTH,
    "maxLength": MAX_LENGTH,
    "description": "Not one of the 10,000 most common passwords, nor the username or e-mail.",
}
# A password that is only checked, not chosen: any length a user might have typed.
GIVEN_PASSWORD = validate.Length(min=1, max=1024)


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    email = fields.String()
    role = fields.String(validate=validate.OneOf(ROLES))
    status = fields.String(validate=validate.OneOf(ACCOUNT_STATUSES))
    confirmed = fields.Boolean()
    created_at = UTCTimestamp()


class UserRefSchema(Schema):
    """A user as named inside another resource."""

    id = fields.Integer()
    username = fields.String()
    email = fields.String()


UserListSchema = page_of("users", UserSchema)


class EmailField(Trimmed):
    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {"format": "email"})
        super().__init__(validate=[validate.Email(), validate.Length(max=254)], **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).lower()


class RegisterSchema(BodySchema):
    username = Trimmed(required=True, validate=USERNAME)
    email = EmailField(required=True)
    password = Text(required=True, metadata=PASSWORD_DOC)

    @validates_schema(skip_on_field_errors=False)
    def _password_rules(self, data, **kwargs):
        if "password" in data:
            problems = password_problems(
                data["password"], data.get("username", ""), data.get("email", "")
            )
            if problems:
                raise ValidationError(problems, field_name="password")


class LoginSchema(BodySchema):
    username = NonBlank(required=True, validate=validate.Length(max=254))
    password = Text(required=True, validate=GIVEN_PASSWORD)


class EmailSchema(BodySchema):
    email = EmailField(required=True)


class UserUpdateSchema(BodySchema):
    role = Trimmed(validate=validate.OneOf(ROLES))
    status = Trimmed(validate=validate.OneOf(ACCOUNT_STATUSES))

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Give at least one of 'role' or 'status'.")


class UserListQuerySchema(PageQuerySchema):
    role = Text(validate=validate.OneOf(ROLES))
    status = Text(validate=validate.OneOf(ACCOUNT_STATUSES))


class TokenPairSchema(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)


class ForgotPasswordSchema(EmailSchema):
    pass


class ResetPasswordSchema(BodySchema):
    token = Text(required=True, validate=validate.Length(min=1, max=1024))
    password = Text(required=True, validate=GIVEN_PASSWORD, metadata=PASSWORD_DOC)


class ChangePasswordSchema(BodySchema):
    current_password = Text(required=True, validate=GIVEN_PASSWORD)
    new_password = Text(required=True, validate=GIVEN_PASSWORD, metadata=PASSWORD_DOC)


class SessionSchema(Schema):
    id = fields.Integer()
    created_at = UTCTimestamp()
    last_used_at = UTCTimestamp()
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    current = fields.Boolean()


class SessionListSchema(Schema):
    sessions = fields.List(fields.Nested(SessionSchema))
