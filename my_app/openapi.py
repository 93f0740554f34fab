"""The OpenAPI 3 document, assembled from the route table and what each method declared.

Request and response bodies are the very marshmallow schemas the resources
load and dump with, so the description cannot drift from the behaviour.
`GET /openapi.json` serves it; `GET /docs` renders it with Swagger UI from
the app's own files. apispec and the country list are loaded by the first request for the
document, not by every worker.
"""

from __future__ import annotations

import copy
import inspect
import re
from functools import cache
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from marshmallow import fields, validate

from my_app import docs
from my_app.apidoc import EndpointDoc
from my_app.schemas.base import MAX_ID, NonBlank, PublicURLFor
from my_app.schemas.booking import Country

if TYPE_CHECKING:
    from apispec import APISpec

TITLE = "my_app booking requests API"
VERSION = "1.0.0"
DOCS_URL = "/docs"
METRICS_URL = "/metrics"
SPEC_URL = "/openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
_PARAM_TYPES = {
    "id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "string": {"type": "string"},
    "": {"type": "string"},
}

ERROR_DESCRIPTIONS = {
    400: "Malformed JSON body",
    401: "Missing, malformed, expired or revoked token",
    403: "Not allowed for this account",
    404: "No such resource",
    409: "Conflict with the current state (or the same Idempotency-Key still in flight)",
    412: "If-Match names a version the request no longer has",
    413: "Body too large",
    415: "Body is not application/json",
    422: "Invalid input; `errors` names each field",
    429: "Too many attempts; wait and retry",
    500: "Unexpected failure (a bug); the log has the request id",
    503: "A dependency (database, Redis) is unavailable",
}

PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "URI reference naming the kind of problem"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
}
VALIDATION_PROBLEM = {
    "allOf": [
        {"$ref": "#/components/schemas/Problem"},
        {
            "type": "object",
            "required": ["errors"],
            "properties": {
                "errors": {
                    "type": "object",
                    "description": "Messages per field; nested fields by path (address.country)",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                }
            },
        },
    ]
}


@cache
def country_names() -> list[str]:
    import pycountry

    return sorted({value for c in pycountry.countries for value in (c.alpha_2, c.alpha_3, c.name)})


def field2extras(self, field: fields.Field, ret: dict, **kwargs: Any) -> dict[str, Any]:
    """What apispec cannot see by itself: `validate.And`, blank-refusing and country fields."""
    extras: dict[str, Any] = {}
    inner = [v for a in field.validators if isinstance(a, validate.And) for v in a.validators]
    if inner:
        flat = copy.copy(field)
        flat.validators = inner
        extras |= self.field2length(flat) | self.field2pattern(flat) | self.field2range(flat, ret)
    if isinstance(field, NonBlank) and "pattern" not in ret | extras:
        extras["pattern"] = r"\S"  # some character other than whitespace remains after trimming
    if isinstance(field, Country):
        extras["enum"] = country_names()  # compared without regard to case or surrounding spaces
    return extras


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 0},
        "required": True,
    }
}


def _problem_response(status: int) -> dict[str, Any]:
    schema = "ValidationProblem" if status == 422 else "Problem"
    response = {
        "description": ERROR_DESCRIPTIONS.get(status, "Error"),
        "content": {
            "application/problem+json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
        },
    }
    if status == 429:
        response["headers"] = RETRY_AFTER
    return response


def _operation(view, path_has_params: bool) -> dict[str, Any]:
    """The operation as the method's decorators recorded it (my_app/apidoc.py)."""
    doc: EndpointDoc = view.apidoc
    summary, _, description = inspect.cleandoc(view.__doc__ or "").partition("\n")
    operation: dict[str, Any] = {
        "operationId": doc.operation,
        "summary": summary.strip(),
        "tags": list(doc.tags),
        "responses": {},
    }
    if description.strip():
        operation["description"] = description.strip()
    if doc.security:
        operation["security"] = doc.security
    parameters: list[dict[str, Any]] = []
    if doc.query is not None:
        parameters.append({"in": "query", "schema": doc.query})
    parameters += doc.request_headers
    if parameters:
        operation["parameters"] = parameters
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": doc.body}},
        }
    if doc.text_body is not None:
        operation["requestBody"] = {
            "required": True,
            "description": doc.text_body_description,
            "content": {doc.text_body: {"schema": {"type": "string"}}},
        }
    success: dict[str, Any] = {"description": summary.strip() or "Success"}
    if doc.response is not None:
        success["content"] = {"application/json": {"schema": doc.response}}
    for media_type in doc.media_types:
        success.setdefault("content", {})[media_type] = {"schema": {"type": "string"}}
    if doc.response_headers:
        success["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in doc.response_headers.items()
        }
    if doc.links:
        success["links"] = doc.links
    operation["responses"][str(doc.status)] = success
    for status, schema in doc.responses.items():
        operation["responses"][str(status)] = {
            "description": ERROR_DESCRIPTIONS.get(status, "See schema"),
            "content": {"application/json": {"schema": schema}},
        }
    errors = doc.errors | {500} | ({404, 503} if path_has_params else set())
    for status in sorted(errors - set(doc.responses)):
        operation["responses"][str(status)] = _problem_response(status)
    return operation


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def _closure(names: set[str], schemas: dict[str, Any]) -> set[str]:
    while True:
        wider = names.union(*(_refs(schemas[name]) for name in names))
        if wider == names:
            return names
        names = wider


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in METHODS
    }


def _require_response_fields(document: dict[str, Any]) -> None:
    """Every field of a dump-only schema is always in the response: say so.

    The schemas the resources dump with emit each field they declare (null when
    unset), so clients may rely on every key. Schemas that also shape request
    bodies keep their own `required` list.
    """
    schemas = document["components"]["schemas"]
    operations = list(_operations(document).values())
    inbound = _closure(_refs([op.get("requestBody", {}) for op in operations]), schemas)
    outbound = _closure(_refs([op["responses"] for op in operations]), schemas)
    for name in outbound - inbound - {"Problem", "ValidationProblem"}:
        properties = schemas[name].get("properties", {})
        schemas[name]["required"] = sorted(
            key
            for key, prop in properties.items()
            if not prop.get("writeOnly") and not prop.get("x-optional")
        )


def _check_links(document: dict[str, Any]) -> None:
    operations = _operations(document)
    for source, operation in operations.items():
        for answer in operation["responses"].values():
            for name, link in answer.get("links", {}).items():
                if link["operationId"] not in operations:
                    raise LookupError(f"link {source} -> {name}: no such operation")


def _metrics_operation() -> dict[str, Any]:
    """`GET /metrics` is a plain Flask route (my_app/metrics.py), described here by hand."""
    return {
        "operationId": "get_metrics",
        "summary": "Prometheus metrics of the whole host (every worker added up).",
        "description": "Needs `Authorization: Bearer $METRICS_TOKEN`; 404 when the server "
        "has no METRICS_TOKEN.",
        "tags": ["health"],
        "security": [{"metricsToken": []}],
        "responses": {
            "200": {
                "description": "Prometheus text exposition format",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            **{str(status): _problem_response(status) for status in (401, 404, 500)},
        },
    }


def _add_get(spec: APISpec, path: str, operation_id: str, summary: str, responses: dict) -> None:
    """A path served outside the route table (a plain Flask view)."""
    operation = {"operationId": operation_id, "summary": summary, "tags": ["docs"]}
    spec.path(path=path, operations={"get": {**operation, "responses": responses}})


def build_spec(app: Flask) -> dict[str, Any]:
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    from my_app.resources import ROUTES
    from my_app.schemas.openapi import OpenAPIDocumentSchema

    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.0.3",
        plugins=[marshmallow],
        info={
            "description": "Register, confirm, log in with JWTs, request bookings; "
            "admins accept, reject or cancel. Errors are RFC 9457 problem+json."
        },
    )
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    spec.components.security_scheme(
        "calendarToken",
        {
            "type": "apiKey",
            "in": "query",
            "name": "token",
            "description": "The secret of a resource's calendar feed link (`calendar_url`)",
        },
    )
    marshmallow.converter.add_attribute_function(field2extras)
    marshmallow.map_to_openapi_type(PublicURLFor, "string", None)
    spec.components.security_scheme("metricsToken", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Problem", PROBLEM)
    spec.components.schema("ValidationProblem", VALIDATION_PROBLEM)

    for resource, rule in ROUTES:
        params = _PARAM.findall(rule)
        operations = {
            method: _operation(getattr(resource, method), bool(params))
            for method in METHODS
            if hasattr(getattr(resource, method, None), "apidoc")
        }
        spec.path(
            path=_PARAM.sub(r"{\2}", rule),
            operations=operations,
            parameters=[
                {"in": "path", "name": name, "required": True, "schema": _PARAM_TYPES[kind]}
                for kind, name in params
            ],
        )
    _add_get(
        spec,
        SPEC_URL,
        "get_openapi_document",
        "This OpenAPI 3 document, generated from the code.",
        {
            "200": {
                "description": "The document",
                "content": {"application/json": {"schema": OpenAPIDocumentSchema}},
            },
            "500": _problem_response(500),
        },
    )
    _add_get(
        spec,
        DOCS_URL,
        "get_docs",
        "Swagger UI for this document, served from the app's own files.",
        {"200": {"description": "HTML page", "content": {"text/html": {}}}},
    )
    spec.path(path=METRICS_URL, operations={"get": _metrics_operation()})
    document = spec.to_dict()
    _require_response_fields(document)
    _check_links(document)
    return document


def get_spec() -> dict[str, Any]:
    """The document, built once per app."""
    cache = current_app.extensions.setdefault("openapi", {})
    if "spec" not in cache:
        cache["spec"] = build_spec(current_app)
    return cache["spec"]


def serve_spec():
    return current_app.json.response(get_spec())


def init_app(app: Flask) -> None:
    app.add_url_rule(SPEC_URL, "openapi", serve_spec)
    docs.init_app(app, DOCS_URL, SPEC_URL, TITLE)
