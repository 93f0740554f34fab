"""What every resource shares: the one declaration an endpoint makes, and the Api.

`@endpoint(...)` on a resource method is the single statement of what the
endpoint does at its edge: who may call it, the body or query it reads, the
shape and status of its answer. The same declaration runs the request and
feeds `/openapi.json`, so the document cannot drift from the behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import flask_restful
from flask import Response, current_app, request
from flask_jwt_extended import current_user

from my_app import auth
from my_app.apidoc import AUTH_KINDS, EndpointDoc
from my_app.resources.body import read_json
from my_app.services import idempotency


class Api(flask_restful.Api):
    """Flask-RESTful that hands every error to the app's one error path.

    Its own handler would turn flask-jwt-extended's exceptions into bare 500s.
    """

    def handle_error(self, e: Exception):
        raise e


class Resource(flask_restful.Resource):
    """A group of endpoints on one path; each method declares itself with `@endpoint`."""


@dataclass(frozen=True)
class Reply:
    """A return value with a status other than the declared one, or extra headers."""

    body: Any
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def load_body(schema) -> dict[str, Any]:
    """The JSON body, validated by `schema` (415 if not JSON, 400 if malformed, 422 if invalid)."""
    return schema.load(read_json())


def load_query(schema) -> dict[str, Any]:
    return schema.load(request.args.to_dict())


def _instance(schema):
    return schema() if isinstance(schema, type) else schema


def _render(doc: EndpointDoc, dumpers: Mapping[int, Any], result: Any) -> Response:
    if isinstance(result, Response):
        return result
    reply = result if isinstance(result, Reply) else Reply(result)
    status = reply.status or doc.status
    schema = dumpers.get(status)
    if schema is None and reply.body is not None:
        raise TypeError(f"no schema declared for a {status} answer")
    body = None if schema is None else schema.dump(reply.body)
    response = current_app.json.response(body) if body is not None else Response(status=status)
    response.status_code = status
    response.headers.update(reply.headers)
    return response


def endpoint(
    operation: str,
    *,
    auth: str | None = None,
    body=None,
    query=None,
    response=None,
    status: int = 200,
    errors: Iterable[int] = (),
    responses: Mapping[int, Any] | None = None,
    tags: Iterable[str] = (),
    decorators: Iterable[Callable] = (),
    request_headers: Mapping[str, str] | None = None,
    response_headers: Mapping[str, str] | None = None,
    media_types: Iterable[str] = (),
    idempotent: bool = False,
    feed_token: bool = False,
) -> Callable:
    """Declare a resource method: authenticate, load, call, dump, and document it."""
    if auth not in AUTH_KINDS:
        raise ValueError(f"auth must be one of {AUTH_KINDS}")
    doc = EndpointDoc(
        operation,
        auth,
        body,
        query,
        response,
        status,
        tuple(errors),
        dict(responses or {}),
        tuple(tags),
        dict(request_headers or {}),
        dict(response_headers or {}),
        tuple(media_types),
        idempotent,
        feed_token,
    )
    body_schema = _instance(body) if body is not None else None
    query_schema = _instance(query) if query is not None else None
    # Schema instances are made once here: marshmallow 4 keeps no state between calls.
    dumpers = {**doc.responses, status: response}
    dumpers = {code: _instance(schema) for code, schema in dumpers.items() if schema is not None}

    def decorate(method: Callable) -> Callable:
        @wraps(method)
        def run(self, *args, **kwargs):
            feed_token = request.args.get(FEED_TOKEN) if doc.feed_token else None
            if feed_token is None:
                _authenticate(doc.auth)
            else:  # a calendar app's secret link stands in for the Bearer token
                kwargs["feed_token"] = feed_token

            def call(args=args):
                if body_schema is not None:
                    args = (load_body(body_schema), *args)
                elif query_schema is not None:
                    args = (load_query(query_schema), *args)
                return _render(doc, dumpers, method(self, *args, **kwargs))

            key = request.headers.get(idempotency.HEADER) if doc.idempotent else None
            if key is not None:
                return idempotency.run(current_user.id, key, call)
            return call()

        for decorator in reversed(tuple(decorators)):
            run = wraps(method)(decorator(run))
        run.apidoc = doc
        return run

    return decorate


# The query parameter of a resource's secret calendar feed link.
FEED_TOKEN = "token"  # nosec B105  # a name, not a secret


def _authenticate(kind: str | None) -> None:
    if kind is not None:
        auth.authenticate(refresh=kind == "refresh", admin=kind == "admin")
