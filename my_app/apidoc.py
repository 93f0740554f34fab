"""What an endpoint declares about itself.

`@endpoint(...)` (my_app/resources/base.py) builds one of these for each
resource method and runs the request by it; the OpenAPI generator reads the
same declaration, the method's docstring (first line = summary) and the
route table, so the description cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import Schema

AUTH_KINDS = (None, "access", "refresh", "admin")


@dataclass(frozen=True)
class EndpointDoc:
    operation: str  # the OpenAPI operationId, a snake_case verb phrase
    auth: str | None = None  # None (public), "access", "refresh" or "admin"
    body: type[Schema] | Schema | None = None  # JSON request body
    query: type[Schema] | Schema | None = None  # query-string parameters
    response: type[Schema] | Schema | None = None  # success body
    status: int = 200  # success status
    errors: tuple[int, ...] = ()  # further error statuses beyond those implied
    responses: dict = field(default_factory=dict)  # other statuses with a JSON body schema
    tags: tuple[str, ...] = field(default_factory=tuple)
    # Request headers the endpoint reads, as OpenAPI header parameters (name -> description).
    request_headers: dict[str, str] = field(default_factory=dict)
    # Headers of the success response (name -> description).
    response_headers: dict[str, str] = field(default_factory=dict)
    # Other media types of the success response, chosen by `Accept` (e.g. "text/csv").
    media_types: tuple[str, ...] = ()
    # Honours `Idempotency-Key` (my_app/services/idempotency.py): replays, 409 and 422.
    idempotent: bool = False
    # Also readable without a Bearer token through `?token=` (a calendar feed link).
    feed_token: bool = False
