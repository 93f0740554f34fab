"""GET /openapi.json and GET /docs: a valid, complete description served by the app itself."""

import re
from urllib.parse import urlsplit

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.parametrize("stack", [("sqlite", "database")])

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule).rstrip("/") or "/"


def test_openapi_document_is_valid(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json
    validate(document)
    assert document["openapi"].startswith("3.")


def test_every_route_the_app_serves_is_described(app, client):
    document = client.get("/openapi.json").json
    served = {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in {"static"}
        and "<path:" not in rule.rule
        and not rule.endpoint.startswith("console.")  # the web console is a client, not the API
        for method in rule.methods & METHODS
    }
    described = {
        (path, method)
        for path, operations in document["paths"].items()
        for method in operations
        if method.upper() in METHODS
    }
    assert served == described
    assert ("/docs", "get") in described


def test_every_operation_has_a_summary_and_problem_errors(client):
    document = client.get("/openapi.json").json
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method.upper() not in METHODS:
                continue
            assert operation["summary"], (path, method)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and path != "/ping":
                    assert "application/problem+json" in response["content"], (path, status)


def test_protected_operations_declare_bearer_security_and_401(client):
    document = client.get("/openapi.json").json
    me = document["paths"]["/me"]["get"]
    assert me["security"] == [{"bearerAuth": []}]
    assert "401" in me["responses"]
    assert "security" not in document["paths"]["/login"]["post"]
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


def test_bodies_are_the_schemas_the_resources_use(client):
    document = client.get("/openapi.json").json
    schemas = document["components"]["schemas"]
    create = schemas["BookingCreate"]
    assert set(create["required"]) == {"topic", "event_time", "duration_minutes", "address"}
    assert create["additionalProperties"] is False
    assert create["properties"]["event_time"]["format"] == "date-time"
    assert create["properties"]["duration_minutes"]["maximum"] == 10080
    decided_by = schemas["Booking"]["properties"]["decided_by"]
    assert decided_by.get("nullable") or any(v.get("nullable") for v in decided_by["anyOf"])
    list_params = {p["name"] for p in document["paths"]["/list_requests"]["get"]["parameters"]}
    assert {"status", "resource_id", "from", "to", "requested_by", "limit", "cursor"} <= list_params


def test_every_success_response_declares_its_body(client):
    paths = client.get("/openapi.json").json["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method.upper() not in METHODS:
                continue
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    assert response.get("content"), (path, method, status)
    document = paths["/openapi.json"]["get"]["responses"]["200"]["content"]["application/json"]
    assert document["schema"] == {"$ref": "#/components/schemas/OpenAPIDocument"}


def test_error_statuses_are_listed_one_by_one_not_defaulted(client):
    # A catch-all `default` response would let schemathesis accept any status code.
    paths = client.get("/openapi.json").json["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method.upper() in METHODS:
                assert "default" not in operation["responses"], (path, method)
    submit = paths["/submit_request"]["post"]["responses"]
    assert {"201", "400", "401", "404", "409", "413", "415", "422", "500", "503"} == set(submit)
    assert set(paths["/health"]["get"]["responses"]) == {"200", "500"}
    assert set(paths["/ping"]["get"]["responses"]) == {"200", "500", "503"}


def test_validators_apispec_cannot_see_are_described(client):
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    username = schemas["Register"]["properties"]["username"]  # validate.And(Length, Regexp)
    assert (username["minLength"], username["maxLength"]) == (3, 80)
    assert re.fullmatch(username["pattern"], "alice_1.x-y")
    assert not re.fullmatch(username["pattern"], "alice smith")
    street = schemas["Address"]["properties"]["street"]  # NonBlank: not only whitespace
    assert re.search(street["pattern"], " a ") and not re.search(street["pattern"], " \t ")
    countries = schemas["Address"]["properties"]["country"]["enum"]
    assert {"US", "USA", "United States"} <= set(countries)


def test_response_schemas_promise_every_field_they_dump(client):
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    booking = schemas["Booking"]
    assert set(booking["required"]) == set(booking["properties"])
    assert "decided_by" in booking["required"]
    assert set(schemas["User"]["required"]) == set(schemas["User"]["properties"])
    assert "required" not in schemas["UserUpdate"]  # a request body keeps its own rules


def test_a_submitted_booking_links_to_what_can_be_done_with_it(client):
    document = client.get("/openapi.json").json
    operation_ids = {
        operation["operationId"]
        for operations in document["paths"].values()
        for method, operation in operations.items()
        if method.upper() in METHODS
    }
    links = document["paths"]["/submit_request"]["post"]["responses"]["201"]["links"]
    assert links["Accept"] == {"operationId": "accept_request",
                               "requestBody": {"id": "$response.body#/id"}}  # fmt: skip
    assert links["Read"]["parameters"] == {"booking_id": "$response.body#/id"}
    assert {link["operationId"] for link in links.values()} <= operation_ids


def test_docs_page_is_served_from_the_app_with_no_external_asset(client):
    response = client.get("/docs/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "/openapi.json" in html
    assert '"validatorUrl": null' in html  # else Swagger UI sends the document to swagger.io
    urls = re.findall(r"""https?://[^\s"'<>)]+""", html)  # markup and the inline config
    assert [url for url in urls if urlsplit(url).hostname != "localhost"] == []
    for asset in re.findall(r"""(?:src|href)=["']([^"']+)""", html):
        if asset.startswith("/docs/") or not asset.startswith("/"):
            path = asset if asset.startswith("/") else f"/docs/{asset.lstrip('./')}"
            with client.get(path) as served:  # static files stream: close them
                assert served.status_code == 200, asset
    assert client.get("/docs").status_code in (200, 301, 308)


def test_docs_page_forbids_inline_and_foreign_scripts(client):
    response = client.get("/docs/")
    policy = dict(
        directive.strip().split(" ", 1) for directive in
        response.headers["Content-Security-Policy"].split(";")
    )  # fmt: skip
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    html = response.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline == [' type="application/json" id="swagger-config"']  # data, never run
    with client.get("/docs/swagger-initializer.js") as script:
        assert script.status_code == 200 and "SwaggerUIBundle" in script.get_data(as_text=True)
