"""The OpenAPI document describes the integrators' headers, answers and media types."""


def _paths(client):
    return client.get("/openapi.json").json["paths"]


def _header_params(operation):
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}


def test_idempotency_key_and_its_answers_are_documented(client):
    submit = _paths(client)["/submit_request"]["post"]
    key = _header_params(submit)["Idempotency-Key"]
    assert key["required"] is False
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 255)
    assert "Idempotent-Replayed" in submit["responses"]["201"]["headers"]
    assert {"409", "422"} <= set(submit["responses"])


def test_etag_and_if_match_are_documented(client):
    paths = _paths(client)
    read = paths["/request/{booking_id}"]["get"]
    assert "ETag" in read["responses"]["200"]["headers"]
    for action in ("accept", "reject", "cancel"):
        operation = paths[f"/{action}_request"]["post"]
        assert "If-Match" in _header_params(operation), action
        assert "412" in operation["responses"], action
        problem = operation["responses"]["412"]["content"]["application/problem+json"]
        assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_csv_calendar_and_availability_are_documented(client):
    document = client.get("/openapi.json").json
    paths = document["paths"]
    for path in ("/list_requests", "/my_requests"):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert {"application/json", "text/csv"} <= set(content), path
    feed = paths["/resources/{resource_id}/calendar.ics"]["get"]
    assert set(feed["responses"]["200"]["content"]) == {"text/calendar"}
    assert {"bearerAuth": []} in feed["security"] and {"calendarToken": []} in feed["security"]
    assert document["components"]["securitySchemes"]["calendarToken"]["in"] == "query"
    availability = paths["/resources/{resource_id}/availability"]["get"]
    names = {p["name"]: p for p in availability["parameters"]}
    assert names["from"]["required"] and names["to"]["required"]
    resource = document["components"]["schemas"]["Resource"]
    assert "calendar_url" in resource["properties"]
    assert "calendar_url" not in resource["required"]  # admins only
    assert paths["/resources/{resource_id}/calendar_token"]["post"]["operationId"] == (
        "rotate_calendar_token"
    )
