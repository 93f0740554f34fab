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
