"""What every resource shares: the Api, the Resource class and the `Reply` a method may return.

A resource method declares itself with the stacked decorators of
my_app/resources/endpoint.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import flask_restful


class Api(flask_restful.Api):
    """Flask-RESTful that hands every error to the app's one error path.

    Its own handler would turn flask-jwt-extended's exceptions into bare 500s.
    """

    def handle_error(self, e: Exception):
        raise e


class Resource(flask_restful.Resource):
    """A group of endpoints on one path; each method declares itself (resources/endpoint.py)."""


@dataclass(frozen=True)
class Reply:
    """A return value with a status other than the declared one, or extra headers."""

    body: Any
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
