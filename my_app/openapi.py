"""The OpenAPI 3 document, generated from the route table and each endpoint's `@documented`.

Request and response bodies are the very marshmallow schemas the resources
load and dump with, so the description cannot drift from the behaviour.
`GET /openapi.json` serves it; `GET /docs` renders it with Swagger UI from
the app's own files.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app
from flask_swagger_ui import get_swaggerui_blueprint

from my_app.apidoc import EndpointDoc
from my_app.schemas.base import MAX_ID

TITLE = "my_app booking requests API"
VERSION = "1.0.0"
DOCS_URL = "/docs"
SPEC_URL = "/openapi.json"
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
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Body is not application/json",
    422: "Invalid input; `errors` names each field",
    429: "Too many attempts; wait and retry",
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


def _problem_response(status: int) -> dict[str, Any]:
    schema = "ValidationProblem" if status == 422 else "Problem"
    return {
        "description": ERROR_DESCRIPTIONS.get(status, "Error"),
        "content": {
            "application/problem+json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
        },
    }


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
    return statuses - set(doc.responses)


def _operation(view, method: str, endpoint: str, path_has_params: bool) -> dict[str, Any]:
    doc: EndpointDoc = view.apidoc
    summary, _, description = (view.__doc__ or "").strip().partition("\n")
    operation: dict[str, Any] = {
        "operationId": f"{endpoint}_{method}",
        "summary": summary.strip(),
        "tags": list(doc.tags),
        "responses": {},
    }
    if description.strip():
        operation["description"] = description.strip()
    if doc.auth:
        operation["security"] = [{"bearerAuth": []}]
    if doc.query is not None:
        operation["parameters"] = [{"in": "query", "schema": doc.query}]
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": doc.body}},
        }
    success: dict[str, Any] = {"description": summary.strip() or "Success"}
    if doc.response is not None:
        success["content"] = {"application/json": {"schema": doc.response}}
    operation["responses"][str(doc.status)] = success
    for status, schema in doc.responses.items():
        operation["responses"][str(status)] = {
            "description": ERROR_DESCRIPTIONS.get(status, "See schema"),
            "content": {"application/json": {"schema": schema}},
        }
    for status in sorted(_error_statuses(doc, path_has_params)):
        operation["responses"][str(status)] = _problem_response(status)
    operation["responses"]["default"] = {
        "description": "Any other error (405, 429, 500, 503 …)",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    return operation


def build_spec(app: Flask) -> dict[str, Any]:
    from my_app.resources import ROUTES

    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Register, confirm, log in with JWTs, request bookings; "
            "admins accept, reject or cancel. Errors are RFC 9457 problem+json."
        },
    )
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    spec.components.schema("Problem", PROBLEM)
    spec.components.schema("ValidationProblem", VALIDATION_PROBLEM)

    for resource, rule in ROUTES:
        endpoint = resource.__name__.lower()
        params = _PARAM.findall(rule)
        operations = {
            method: _operation(getattr(resource, method), method, endpoint, bool(params))
            for method in ("get", "post", "put", "patch", "delete")
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
    spec.path(
        path=DOCS_URL,
        operations={
            "get": {
                "operationId": "docs_get",
                "summary": "Swagger UI for this document, served from the app's own files.",
                "tags": ["docs"],
                "responses": {"200": {"description": "HTML page", "content": {"text/html": {}}}},
            }
        },
    )
    return spec.to_dict()


def get_spec() -> dict[str, Any]:
    """The document, built once per app."""
    cache = current_app.extensions.setdefault("openapi", {})
    if "spec" not in cache:
        cache["spec"] = build_spec(current_app)
    return cache["spec"]


def init_app(app: Flask) -> None:
    docs = get_swaggerui_blueprint(
        DOCS_URL,
        SPEC_URL,
        config={"app_name": TITLE, "validatorUrl": None, "deepLinking": True},
    )
    app.register_blueprint(docs)
