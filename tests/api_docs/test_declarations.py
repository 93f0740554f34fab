"""What /openapi.json says of an endpoint is what it does: both come from its decorators."""

import re

import pytest

from my_app.resources import ROUTES

METHODS = ("get", "post", "patch", "delete")
JSON = "application/json"
DECLARED = [
    pytest.param(path, method, getattr(resource, method).apidoc, id=f"{method} {path}")
    for resource, path in ROUTES
    for method in METHODS
    if hasattr(getattr(resource, method, None), "apidoc")
]


def _url(path: str) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", "1", path)


@pytest.fixture(scope="module")
def document(sqlite_template, smtp_server):
    from config import TestingConfig
    from my_app import create_app
    from tests.support.environ import app_environment

    environ = app_environment(f"sqlite:///{sqlite_template}", smtp_server.port)
    return create_app(TestingConfig(environ)).test_client().get("/openapi.json").json


@pytest.mark.parametrize("stack", [("sqlite", "database")])
@pytest.mark.parametrize(("path", "method", "doc"), DECLARED)
def test_the_document_and_the_endpoint_agree(api, document, path, method, doc):
    operation = document["paths"][re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)][method]
    assert operation["operationId"] == doc.operation
    call = getattr(api.client, method)

    anonymous = call(_url(path), data="x", content_type="text/plain")
    if doc.auth:
        assert {"bearerAuth": []} in operation["security"]
        assert anonymous.status_code == 401
        assert "401" in operation["responses"]
    else:
        assert "security" not in operation
        assert anonymous.status_code != 401

    if doc.auth in ("access", "admin"):
        requester = api.user()
        refused = call(_url(path), headers=requester.headers, data="x", content_type="text/plain")
        if doc.auth == "admin":
            assert refused.status_code == 403
            assert "403" in operation["responses"]
        else:
            assert refused.status_code != 403 or "403" in operation["responses"]

    if doc.body is not None and doc.auth != "refresh":
        headers = api.admin().headers if doc.auth else {}
        response = call(_url(path), headers=headers, data="x", content_type="text/plain")
        assert response.status_code == 415
        assert set(operation["responses"]) >= {"400", "415", "422"}
        assert "application/json" in operation["requestBody"]["content"]
    elif doc.text_body is not None:
        response = call(_url(path), headers=api.admin().headers, data="x", content_type=JSON)
        assert response.status_code == 415
        assert set(operation["responses"]) >= {"413", "415"}
        assert set(operation["requestBody"]["content"]) == {doc.text_body}
    else:
        assert "requestBody" not in operation
