"""A deleted account's tokens: refused by every later account, even one given the same id."""

import sqlalchemy as sa

from my_app.extensions import db
from tests.support.api import assert_problem, bearer


def _next_user_id_is(app, user_id: int) -> None:
    """Hand `user_id` out again, as an id reset or a restored dump would."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            query = "UPDATE sqlite_sequence SET seq = :id - 1 WHERE name = 'users'"
        else:
            query = "SELECT setval('users_id_seq', :id, false)"
        with db.engine.begin() as connection:
            connection.execute(sa.text(query), {"id": user_id})


def test_a_deleted_accounts_id_is_never_handed_out_again(api):
    first = api.user("mallory")
    assert api.client.delete(f"/user/{first.id}", headers=first.headers).status_code == 200
    second = api.register("victim")
    assert second.status_code == 201
    assert second.json["id"] > first.id


def test_a_later_account_with_a_deleted_accounts_id_refuses_its_tokens(api, app):
    mallory = api.user("mallory")
    assert api.client.delete(f"/user/{mallory.id}", headers=mallory.headers).status_code == 200
    assert_problem(api.client.get("/me", headers=mallory.headers), 401)
    _next_user_id_is(app, mallory.id)
    victim = api.user("victim")
    assert victim.id == mallory.id
    assert_problem(api.client.get("/me", headers=mallory.headers), 401)
    assert_problem(api.client.post("/refresh", headers=mallory.refresh_headers), 401)
    me = api.client.get("/me", headers=victim.headers)
    assert me.status_code == 200
    assert me.json["username"] == "victim"


def test_deleting_an_account_ends_every_session_at_once(api):
    account = api.user()
    second = api.login(account.username).json
    admin = api.admin()
    assert api.client.delete(f"/user/{account.id}", headers=admin.headers).status_code == 200
    for tokens in (account.tokens, second):
        assert_problem(api.client.get("/me", headers=bearer(tokens["access_token"])), 401)
        assert_problem(api.client.post("/refresh", headers=bearer(tokens["refresh_token"])), 401)
