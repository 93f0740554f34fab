"""What an endpoint declares about itself, gathered from its decorators.

Each decorator of my_app/resources/endpoint.py (and the domain ones beside
the code they wrap, such as `@idempotent`) does its part of the request and
writes its part here; the OpenAPI generator assembles the document from this
record, the method's docstring (first line = summary) and the route table, so
the description cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema

AUTH_KINDS = ("access", "refresh", "admin")


@dataclass
class EndpointDoc:
    operation: str = ""  # the OpenAPI operationId, a snake_case verb phrase
    tags: tuple[str, ...] = ()
    auth: str | None = None  # None (public), "access", "refresh" or "admin"
    security: list[dict[str, list]] = field(default_factory=list)  # OpenAPI security options
    body: Schema | None = None  # the JSON request body's schema
    text_body: str | None = None  # the media type of a text request body (CSV), if any
    text_body_description: str = ""
    query: Schema | None = None  # the query string's schema
    response: Schema | None = None  # the success body's schema
    status: int = 200  # the success status
    # Other media types of the success response (e.g. "text/csv" chosen by `Accept`).
    media_types: list[str] = field(default_factory=list)
    response_headers: dict[str, str] = field(default_factory=dict)  # name -> description
    links: dict[str, dict[str, Any]] = field(default_factory=dict)  # OpenAPI links of success
    responses: dict[int, Schema] = field(default_factory=dict)  # other statuses, JSON bodies
    errors: set[int] = field(default_factory=set)  # problem+json statuses it may answer
    request_headers: list[dict[str, Any]] = field(default_factory=list)  # header parameters
