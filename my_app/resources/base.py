"""What every resource shares: reading bodies and queries through schemas, and the Api."""

from __future__ import annotations

from typing import Any

import flask_restful
from flask import request
from flask_jwt_extended import jwt_required
from marshmallow import Schema

from my_app.auth import admin_required
from my_app.resources.body import read_json


class Api(flask_restful.Api):
    """Flask-RESTful that hands every error to the app's one error path.

    Its own handler would turn flask-jwt-extended's exceptions into bare 500s.
    """

    def handle_error(self, e: Exception):
        raise e


def load_body(schema: Schema) -> dict[str, Any]:
    """The JSON body, validated by `schema` (415 if not JSON, 400 if malformed, 422 if invalid)."""
    return schema.load(read_json())


def load_query(schema: Schema) -> dict[str, Any]:
    return schema.load(request.args.to_dict())


class Resource(flask_restful.Resource):
    """Public endpoint."""


class AuthResource(flask_restful.Resource):
    """Any valid access token."""

    method_decorators = [jwt_required()]


class AdminResource(flask_restful.Resource):
    """An access token of an admin."""

    method_decorators = [admin_required]
