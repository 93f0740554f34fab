"""GET/POST /resources and PATCH /resources/<id>."""

import pytest


def test_main_calendar_exists_after_migrations(api):
    alice = api.user()
    response = api.client.get("/resources", headers=alice.headers)
    assert response.status_code == 200
    main = response.json["resources"][0]
    assert (main["id"], main["name"], main["active"]) == (1, "Main calendar", True)
    assert isinstance(main["description"], str)


def test_resources_need_a_token(api):
    assert api.client.get("/resources").status_code == 401


def test_admin_creates_a_resource(api):
    admin = api.admin()
    response = api.client.post(
        "/resources", json={"name": " Van 2 ", "description": "Seats nine"}, headers=admin.headers
    )
    assert response.status_code == 201
    assert {k: response.json[k] for k in ("name", "description", "active")} == {
        "name": "Van 2", "description": "Seats nine", "active": True,
    }  # fmt: skip
    listed = api.client.get("/resources", headers=admin.headers).json["resources"]
    assert response.json in listed


def test_requester_cannot_create_or_change_resources(api):
    alice = api.user()
    assert (
        api.client.post("/resources", json={"name": "X"}, headers=alice.headers).status_code == 403
    )
    assert (
        api.client.patch("/resources/1", json={"active": False}, headers=alice.headers).status_code
        == 403
    )


@pytest.mark.parametrize("name", ["Main calendar", "MAIN CALENDAR"])
def test_duplicate_resource_name_is_409(api, name):
    admin = api.admin()
    assert (
        api.client.post("/resources", json={"name": name}, headers=admin.headers).status_code == 409
    )


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 121}, {"name": "A", "size": 3}])
def test_invalid_resource_is_422(api, body):
    admin = api.admin()
    assert api.client.post("/resources", json=body, headers=admin.headers).status_code == 422


def test_admin_renames_and_retires_a_resource(api):
    admin = api.admin()
    room = api.client.post("/resources", json={"name": "Room 1"}, headers=admin.headers).json
    path = f"/resources/{room['id']}"
    renamed = api.client.patch(path, json={"name": "Room One"}, headers=admin.headers)
    assert (renamed.status_code, renamed.json["name"]) == (200, "Room One")
    retired = api.client.patch(path, json={"active": False}, headers=admin.headers)
    assert retired.json["active"] is False
    assert (
        api.client.patch(path, json={"name": "main calendar"}, headers=admin.headers).status_code
        == 409
    )
    assert api.client.patch(path, json={}, headers=admin.headers).status_code == 422
    assert api.client.patch(path, json={"active": "no"}, headers=admin.headers).status_code == 422
    assert (
        api.client.patch("/resources/999", json={"active": True}, headers=admin.headers).status_code
        == 404
    )
