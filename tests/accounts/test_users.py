"""GET /me, GET/DELETE/PATCH /user/<id>, GET /users."""

import pytest

from tests.conftest import ALL_STACKS
from tests.support.api import assert_problem
from tests.support.concurrency import at_once

USER_FIELDS = {"id", "username", "email", "role", "status", "confirmed", "created_at"}


def test_me_returns_the_caller(api):
    account = api.user("alice")
    response = api.client.get("/me/", headers=account.headers)
    assert response.status_code == 200
    assert set(response.json) == USER_FIELDS
    assert response.json["username"] == "alice"


def test_user_sees_own_account_but_not_anothers(api):
    alice, bob = api.user(), api.user()
    assert api.client.get(f"/user/{alice.id}", headers=alice.headers).json["id"] == alice.id
    assert api.client.get(f"/user/{bob.id}", headers=alice.headers).status_code == 403


def test_admin_sees_any_account_and_404_for_unknown(api):
    admin, alice = api.admin(), api.user()
    assert api.client.get(f"/user/{alice.id}", headers=admin.headers).json["id"] == alice.id
    response = api.client.get("/user/999999", headers=admin.headers)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_user_endpoints_need_a_token(api):
    alice = api.user()
    assert api.client.get(f"/user/{alice.id}").status_code == 401
    assert api.client.delete(f"/user/{alice.id}").status_code == 401
    assert api.client.get("/users").status_code == 401


def test_user_deletes_own_account_and_its_tokens_stop_at_once(api):
    alice = api.user()
    response = api.client.delete(f"/user/{alice.id}", headers=alice.headers)
    assert response.status_code == 200
    assert "message" in response.json
    assert api.client.get("/me", headers=alice.headers).status_code == 401
    assert api.login(alice.username).status_code == 401
    assert api.register(alice.username).status_code == 201


def test_user_cannot_delete_another_account(api):
    alice, bob = api.user(), api.user()
    assert api.client.delete(f"/user/{bob.id}", headers=alice.headers).status_code == 403
    assert api.client.get("/me", headers=bob.headers).status_code == 200


def test_admin_deletes_any_account_and_404_for_unknown(api):
    admin, alice = api.admin(), api.user()
    assert api.client.delete(f"/user/{alice.id}", headers=admin.headers).status_code == 200
    assert api.client.delete(f"/user/{alice.id}", headers=admin.headers).status_code == 404


def test_deleting_the_last_admin_is_409(api):
    admin = api.admin()
    response = api.client.delete(f"/user/{admin.id}", headers=admin.headers)
    assert response.status_code == 409
    assert api.client.get("/me", headers=admin.headers).status_code == 200


def test_an_admin_may_delete_themselves_when_another_remains(api):
    first, second = api.admin(), api.admin()
    assert api.client.delete(f"/user/{first.id}", headers=first.headers).status_code == 200
    assert api.client.get("/me", headers=second.headers).status_code == 200


def test_list_users_is_admin_only(api):
    alice = api.user()
    assert api.client.get("/users", headers=alice.headers).status_code == 403


def test_list_users_pages_with_a_cursor_and_filters(api):
    admin = api.admin()
    created = [api.user() for _ in range(5)]
    seen = []
    for page in api.pages("/users", admin.headers, limit=2):
        assert len(page["users"]) <= 2
        seen += [user["id"] for user in page["users"]]
    assert seen == sorted(seen)
    assert set(seen) == {admin.id, *(user.id for user in created)}
    admins = api.client.get("/users?role=admin", headers=admin.headers).json["users"]
    assert [user["id"] for user in admins] == [admin.id]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=x", "role=root", "status=gone", "cursor=%%%", "cursor=WzFd1"],
)
def test_list_users_bad_query_is_422(api, query):
    admin = api.admin()
    assert_problem(api.client.get(f"/users?{query}", headers=admin.headers), 422)


def test_admin_promotes_a_user_who_gains_admin_rights_on_the_next_request(api):
    admin, alice = api.admin(), api.user()
    assert api.client.get("/users", headers=alice.headers).status_code == 403
    response = api.client.patch(f"/user/{alice.id}", json={"role": "admin"}, headers=admin.headers)
    assert response.status_code == 200
    assert response.json["role"] == "admin"
    assert api.client.get("/users", headers=alice.headers).status_code == 200


def test_demoted_admin_loses_rights_on_the_next_request(api):
    first, second = api.admin(), api.admin()
    api.client.patch(f"/user/{second.id}", json={"role": "requester"}, headers=first.headers)
    assert api.client.get("/users", headers=second.headers).status_code == 403


def test_patch_user_is_admin_only(api):
    alice, bob = api.user(), api.user()
    response = api.client.patch(
        f"/user/{bob.id}", json={"status": "disabled"}, headers=alice.headers
    )
    assert response.status_code == 403
    assert api.client.get("/me", headers=bob.headers).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{}, {"role": "root"}, {"status": "deleted"}, {"role": "admin", "email": "x@example.com"}],
)
def test_patch_user_invalid_body_is_422(api, body):
    admin, alice = api.admin(), api.user()
    response = api.client.patch(f"/user/{alice.id}", json=body, headers=admin.headers)
    assert response.status_code == 422


def test_patch_unknown_user_is_404(api):
    admin = api.admin()
    response = api.client.patch("/user/999999", json={"role": "admin"}, headers=admin.headers)
    assert response.status_code == 404


@pytest.mark.parametrize("change", [{"role": "requester"}, {"status": "disabled"}])
def test_removing_or_disabling_the_last_admin_is_409(api, change):
    admin = api.admin()
    response = api.client.patch(f"/user/{admin.id}", json=change, headers=admin.headers)
    assert response.status_code == 409
    assert api.client.get("/users", headers=admin.headers).status_code == 200


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, api):
    first, second = api.admin(), api.admin()

    def demote(actor, target):
        return lambda client: (
            client.patch(
                f"/user/{target.id}", json={"role": "requester"}, headers=actor.headers
            ).status_code
        )

    statuses = at_once(app, [demote(first, second), demote(second, first)])
    assert sorted(statuses) in ([200, 403], [200, 409])
    admins = [
        account
        for account in (first, second)
        if api.client.get("/users", headers=account.headers).status_code == 200
    ]
    assert len(admins) == 1
