"""What each endpoint declares about itself for the OpenAPI document.

`@documented(...)` sits on a resource method next to the schemas it really
uses; the document generator reads these declarations, the method's
docstring (first line = summary) and the route table, so the description
cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from marshmallow import Schema

AUTH_KINDS = (None, "access", "refresh", "admin")


@dataclass(frozen=True)
class EndpointDoc:
    auth: str | None = None  # None (public), "access", "refresh" or "admin"
    body: type[Schema] | Schema | None = None  # JSON request body
    query: type[Schema] | Schema | None = None  # query-string parameters
    response: type[Schema] | Schema | None = None  # success body
    status: int = 200  # success status
    errors: tuple[int, ...] = ()  # further error statuses beyond those implied
    responses: dict = field(default_factory=dict)  # other statuses with a JSON body schema
    tags: tuple[str, ...] = field(default_factory=tuple)


def documented(
    *,
    auth: str | None = None,
    body=None,
    query=None,
    response=None,
    status: int = 200,
    errors: Iterable[int] = (),
    responses: dict | None = None,
    tags: Iterable[str] = (),
) -> Callable:
    if auth not in AUTH_KINDS:
        raise ValueError(f"auth must be one of {AUTH_KINDS}")

    def decorate(method: Callable) -> Callable:
        method.apidoc = EndpointDoc(
            auth, body, query, response, status, tuple(errors), dict(responses or {}), tuple(tags)
        )
        return method

    return decorate
