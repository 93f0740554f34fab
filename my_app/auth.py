"""Wiring of flask-jwt-extended: every token problem is a problem+json 401."""

from __future__ import annotations

from flask import Flask
from flask_jwt_extended import current_user, verify_jwt_in_request

from my_app.errors import unauthorized
from my_app.extensions import jwt
from my_app.services import tokens
from my_app.services.permissions import require_admin


@jwt.unauthorized_loader
def _missing(reason: str):
    return unauthorized("A Bearer access token is required.", error="invalid_request")


@jwt.invalid_token_loader
def _invalid(reason: str):
    return unauthorized(f"The token is invalid: {reason}.")


@jwt.expired_token_loader
def _expired(header, payload):
    return unauthorized("The token has expired.")


@jwt.revoked_token_loader
def _revoked(header, payload):
    return unauthorized("The token has been revoked.")


@jwt.needs_fresh_token_loader
def _not_fresh(header, payload):
    return unauthorized("A fresh token is required.")


@jwt.user_lookup_error_loader
def _lookup_failed(header, payload):
    return unauthorized("The token's account no longer exists.")


@jwt.token_verification_failed_loader
def _verification_failed(header, payload):
    return unauthorized("The token was refused.")


@jwt.token_in_blocklist_loader
def _in_blocklist(header, payload) -> bool:
    return tokens.is_revoked(payload)


@jwt.user_lookup_loader
def _load_user(header, payload):
    return tokens.load_user(payload)


def authenticate(refresh: bool = False, admin: bool = False) -> None:
    """Require a valid access (or refresh) token; with `admin`, of an admin."""
    verify_jwt_in_request(refresh=refresh)
    if admin:
        require_admin(current_user)


def init_app(app: Flask) -> None:
    jwt.init_app(app)
    tokens.init_app(app)
