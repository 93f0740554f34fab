"""The OpenAPI 3 document, generated from the route table and each endpoint's `@endpoint`.

Request and response bodies are the very marshmallow schemas the resources
load and dump with, so the description cannot drift from the behaviour.
`GET /openapi.json` serves it; `GET /docs` renders it with Swagger UI from
the app's own files.
"""

from __future__ import annotations

import copy
import inspect
import re
from typing import Any

import pycountry
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app
from marshmallow import fields, validate

from my_app import docs
from my_app.apidoc import EndpointDoc
from my_app.schemas.base import MAX_ID, NonBlank
from my_app.schemas.booking import Country
from my_app.schemas.openapi import OpenAPIDocumentSchema

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


COUNTRY_NAMES = sorted(
    {value for c in pycountry.countries for value in (c.alpha_2, c.alpha_3, c.name)}
)

# Where a booking's id goes next. Swagger UI shows these links; schemathesis
# follows them, so its accept/reject/cancel calls meet real, pending requests.
_BOOKING_ID = "$response.body#/id"
_BY_PATH = {"parameters": {"booking_id": _BOOKING_ID}}
_BY_BODY = {"requestBody": {"id": _BOOKING_ID}}
_BOOKING_TARGETS = {
    "Read": ("get_request", _BY_PATH),
    "History": ("get_request_history", _BY_PATH),
    "Accept": ("accept_request", _BY_BODY),
    "Reject": ("reject_request", _BY_BODY),
    "Cancel": ("cancel_request", _BY_BODY),
    "Delete": ("delete_request", _BY_PATH),
}
LINKS = {
    ("submit_request", "201"): _BOOKING_TARGETS,
    ("accept_request", "200"): {k: _BOOKING_TARGETS[k] for k in ("Cancel", "History")},
}


# Request headers with rules of their own (others are plain strings).
HEADER_SCHEMAS = {
    "Idempotency-Key": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}


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
        extras["enum"] = COUNTRY_NAMES  # compared without regard to case or surrounding spaces
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


def _error_statuses(doc: EndpointDoc, path_has_params: bool) -> set[int]:
    statuses = set(doc.errors)
    if doc.auth:
        statuses.add(401)
    if doc.auth == "admin":
        statuses.add(403)
    if doc.body is not None:
        statuses |= {400, 413, 415, 422}
    if doc.query is not None:
        statuses.add(422)
    if path_has_params:
        statuses.add(404)
    if doc.idempotent:
        statuses |= {409, 422}  # the key still in flight; the key reused with another body
    if doc.feed_token:
        statuses.add(401)
    if doc.auth or doc.body is not None or doc.query is not None or path_has_params:
        statuses.add(503)  # it reads stored rows, or the blacklist for a token
    statuses.add(500)
    return statuses - set(doc.responses)


def _operation(view, path_has_params: bool) -> dict[str, Any]:
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
    if doc.auth:
        operation["security"] = [{"bearerAuth": []}]
    if doc.feed_token:
        operation["security"] = [{"bearerAuth": []}, {"calendarToken": []}]
    parameters: list[dict[str, Any]] = []
    if doc.query is not None:
        parameters.append({"in": "query", "schema": doc.query})
    parameters += [
        {"in": "header", "name": name, "required": False, "description": text, "schema": schema}
        for name, text in doc.request_headers.items()
        for schema in [HEADER_SCHEMAS.get(name, {"type": "string"})]
    ]
    if parameters:
        operation["parameters"] = parameters
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": doc.body}},
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
    operation["responses"][str(doc.status)] = success
    for status, schema in doc.responses.items():
        operation["responses"][str(status)] = {
            "description": ERROR_DESCRIPTIONS.get(status, "See schema"),
            "content": {"application/json": {"schema": schema}},
        }
    for status in sorted(_error_statuses(doc, path_has_params)):
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


def _add_links(document: dict[str, Any]) -> None:
    operations = _operations(document)
    for (source, status), targets in LINKS.items():
        links = operations[source]["responses"][status].setdefault("links", {})
        for name, (target, values) in targets.items():
            if target not in operations:
                raise LookupError(f"link {source} -> {target}: no such operation")
            links[name] = {"operationId": target, **values}


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
    from my_app.resources import ROUTES

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
    _add_links(document)
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
