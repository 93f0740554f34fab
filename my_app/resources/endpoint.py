"""How a resource method declares itself: stacked decorators, each doing one part.

    @operation("submit_request", tags=TAGS)
    @authenticated()                 # 401 problem+json without a valid access token
    @idempotent                      # my_app/resources/idempotency.py
    @body(BookingCreateSchema)       # the loaded body is the first argument
    @response(BookingSchema, 201)    # the return value, dumped
    @other_responses(404, 409)
    def post(self, data): ...

Each decorator runs its part of the request and records its part of the OpenAPI
document on the method (`method.apidoc`, my_app/apidoc.py), so the document
cannot drift from the behaviour. From the top: rate limits, `@authenticated`,
domain gates such as `@idempotent`, `@body`/`@text_body`/`@arguments`, `@response`, then what
works on the method's own return value (`@csv_export`); the gates check their
place when the module loads. `@operation`, `@alt_response` and `@other_responses`
only record, anywhere in the stack.
Schema instances are made once, when the method is declared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from flask import Response, current_app, request

from my_app import auth
from my_app.apidoc import AUTH_KINDS, EndpointDoc
from my_app.resources.base import Reply
from my_app.resources.body import read_json, read_text

JSON = "application/json"


def declaration(view: Callable) -> EndpointDoc:
    """The record the decorators share; `functools.wraps` carries it to every wrapper."""
    if "apidoc" not in view.__dict__:
        view.apidoc = EndpointDoc()
    return view.apidoc


def stacked(*decorators: Callable) -> Callable:
    """Several decorators as one, applied as if written one above the other."""

    def decorate(view: Callable) -> Callable:
        for decorator in reversed(decorators):
            view = decorator(view)
        return view

    return decorate


def operation(operation_id: str, *, tags: tuple[str, ...] = ()) -> Callable:
    """The OpenAPI operationId and tags; the docstring's first line is the summary."""

    def decorate(view: Callable) -> Callable:
        doc = declaration(view)
        doc.operation, doc.tags = operation_id, tuple(tags)
        return view

    return decorate


def authenticated(kind: str = "access") -> Callable:
    """A valid Bearer token of `kind`: "access", "refresh", or "admin" (an admin's access token)."""
    if kind not in AUTH_KINDS:
        raise ValueError(f"kind must be one of {AUTH_KINDS}")
    refresh, admin = kind == "refresh", kind == "admin"

    def decorate(view: Callable) -> Callable:
        doc = declaration(view)
        doc.auth = kind
        doc.security.append({"bearerAuth": []})
        doc.errors |= {401, 503} | ({403} if admin else set())  # 503: the revocation store

        @wraps(view)
        def run(self, *args, **kwargs):
            auth.authenticate(refresh=refresh, admin=admin)
            return view(self, *args, **kwargs)

        return run

    return decorate


def body(schema) -> Callable:
    """The JSON body, loaded by `schema`, as the first argument (415, 413, 400 or 422 if not)."""
    return _loading(schema, load_body, "body", {400, 413, 415, 422, 503})


def text_body(media_type: str, description: str) -> Callable:
    """The body as text of `media_type` in UTF-8, as the first argument (415 or 413 if not);
    for bodies a service reads line by line, such as CSV."""

    def decorate(view: Callable) -> Callable:
        doc = declaration(view)
        doc.text_body, doc.text_body_description = media_type, description
        doc.errors |= {413, 415}

        @wraps(view)
        def run(self, *args, **kwargs):
            return view(self, read_text(media_type), *args, **kwargs)

        return run

    return decorate


def arguments(schema) -> Callable:
    """The query string, loaded by `schema`, as the first argument (422 if invalid)."""
    return _loading(schema, load_query, "query", {422, 503})


def load_body(schema) -> dict[str, Any]:
    """What `@body(schema)` hands the method; for code that runs before it (a limit's key)."""
    return schema.load(read_json())


def load_query(schema) -> dict[str, Any]:
    return schema.load(request.args.to_dict())


def _loading(schema, load: Callable, part: str, statuses: set[int]) -> Callable:
    loader = _instance(schema)

    def decorate(view: Callable) -> Callable:
        doc = declaration(view)
        setattr(doc, part, loader)
        doc.errors |= statuses  # 503: what it names is looked up in the database

        @wraps(view)
        def run(self, *args, **kwargs):
            return view(self, load(loader), *args, **kwargs)

        return run

    return decorate


def response(
    schema=None,
    status: int = 200,
    *,
    headers: Mapping[str, str] | None = None,
    links: Mapping[str, dict[str, Any]] | None = None,
    media_type: str = JSON,
) -> Callable:
    """The success answer: the return value dumped by `schema` (or encoded, `_json`) with
    `status`.

    The method may return a `Reply` for another declared status or extra headers, or
    a `Response` of its own. Without a schema, `media_type` names the body it returns.
    `headers` (name -> description) and `links` are documented on the success answer.
    """
    dumper = _instance(schema) if schema is not None else None

    def decorate(view: Callable) -> Callable:
        doc = declaration(view)
        doc.response, doc.status = dumper, status
        doc.response_headers.update(headers or {})
        doc.links.update(links or {})
        if media_type != JSON:
            doc.media_types.append(media_type)

        @wraps(view)
        def run(self, *args, **kwargs):
            return _render(doc, media_type, view(self, *args, **kwargs))

        return run

    return decorate


def alt_response(status: int, schema) -> Callable:
    """Another status the method may answer (with a `Reply`), its body dumped by `schema`."""

    def decorate(view: Callable) -> Callable:
        declaration(view).responses[status] = _instance(schema)
        return view

    return decorate


def other_responses(*statuses: int) -> Callable:
    """Problem+json statuses the method may answer, beyond those its decorators imply."""

    def decorate(view: Callable) -> Callable:
        declaration(view).errors.update(statuses)
        return view

    return decorate


def _instance(schema):
    return schema() if isinstance(schema, type) else schema


def _render(doc: EndpointDoc, media_type: str, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    reply = result if isinstance(result, Reply) else Reply(result)
    status = reply.status or doc.status
    schema = doc.response if status == doc.status else doc.responses.get(status)
    if schema is not None:
        response = _json(schema, reply.body)
    elif reply.body is None:
        response = Response()
    elif media_type != JSON:
        response = Response(reply.body, mimetype=media_type)
    else:
        raise TypeError(f"no schema declared for a {status} answer")
    response.status_code = status
    response.headers.update(reply.headers)
    return response


def _json(schema, body: Any) -> Response:
    """`body` dumped by `schema`, as the app's JSON. A schema with an `encode` method writes
    the same bytes itself, in one pass, unless the app pretty-prints (debug)."""
    provider = current_app.json
    pretty = provider.compact is False or (provider.compact is None and current_app.debug)
    if hasattr(schema, "encode") and not pretty:  # Flask's `response` appends the newline
        return Response(schema.encode(body) + b"\n", mimetype=provider.mimetype)
    return provider.response(schema.dump(body))
