"""What must not be forgotten is in the database: Redis, a cache in front, may lose it all."""

import jwt
import pytest
import sqlalchemy as sa

from blacklist import BlacklistUnavailable, get_blacklist
from my_app.extensions import db
from tests.conftest import ALL_STACKS
from tests.support import services
from tests.support.api import ApiClient, assert_problem, bearer
from tests.support.concurrency import at_once

REDIS = [pytest.param(("postgresql", "redis"), id="postgresql-redis")]


@pytest.fixture
def graceless_api(stack, make_app, mailbox):
    """REFRESH_GRACE_SECONDS=0: a spent refresh token presented again is a reuse at once."""
    app = make_app(blacklist=stack[1], REFRESH_GRACE_SECONDS=0)
    return ApiClient(app.test_client(), app.test_cli_runner(), mailbox)


@pytest.mark.parametrize("stack", REDIS)
def test_after_redis_loses_its_data_nothing_revoked_or_spent_works_again(
    graceless_api, redis_prefix
):
    api = graceless_api
    gone = api.user()
    assert api.client.post("/logout", headers=gone.headers).status_code == 200
    rotating = api.user()
    rotated = api.client.post("/refresh", headers=rotating.refresh_headers).json
    everywhere = api.user()
    other = api.login(everywhere.username).json
    assert api.client.post("/logout_all", headers=everywhere.headers).status_code == 200

    services.delete_redis_prefix(redis_prefix)  # a flush, an eviction, a failover

    assert_problem(api.client.get("/me", headers=gone.headers), 401)
    assert_problem(api.client.post("/refresh", headers=gone.refresh_headers), 401)
    assert_problem(api.client.get("/me", headers=bearer(other["access_token"])), 401)
    assert_problem(api.client.post("/refresh", headers=bearer(other["refresh_token"])), 401)
    # The spent refresh token is still known as spent: its reuse ends the session.
    assert_problem(api.client.post("/refresh", headers=rotating.refresh_headers), 401)
    assert_problem(api.client.get("/me", headers=bearer(rotated["access_token"])), 401)
    fresh = api.login(gone.username)
    assert fresh.status_code == 200
    assert api.client.get("/me", headers=bearer(fresh.json["access_token"])).status_code == 200


@pytest.mark.parametrize("stack", REDIS)
def test_live_sessions_go_on_after_redis_loses_its_data(api, redis_prefix):
    account = api.user()
    assert api.client.get("/me", headers=account.headers).status_code == 200
    services.delete_redis_prefix(redis_prefix)
    assert api.client.get("/me", headers=account.headers).status_code == 200
    assert api.client.post("/refresh", headers=account.refresh_headers).status_code == 200


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_the_database_holds_no_token_that_would_work(api, app):
    account = api.user()
    rotated = api.client.post("/refresh", headers=account.refresh_headers).json
    with app.app_context():
        values = db.session.execute(sa.text("SELECT key, value FROM token_blacklist")).all()
    assert values, "the spent token and its successor are recorded"
    for _, value in values:
        assert rotated["refresh_token"] not in value
        assert account.tokens["refresh_token"] not in value
        with pytest.raises(jwt.PyJWTError):
            jwt.decode(value, options={"verify_signature": False})
    # The successor, kept encrypted, is still handed to a retry within the grace.
    again = api.client.post("/refresh", headers=account.refresh_headers)
    assert again.json["refresh_token"] == rotated["refresh_token"]


@pytest.mark.parametrize("stack", REDIS)
def test_a_lost_write_of_the_cached_account_leaves_no_stale_copy(api, app, monkeypatch):
    """Disabling commits; Redis then fails to take the new copy: the old one is not trusted."""
    account = api.user()
    admin = api.admin()
    assert api.client.get("/me", headers=account.headers).status_code == 200  # cached now
    with app.app_context():
        store = get_blacklist()

    def lost(user_id, record):
        raise BlacklistUnavailable("the write after the commit was lost")

    monkeypatch.setattr(store, "account_changed", lost)
    patch = {"status": "disabled"}
    response = api.client.patch(f"/user/{account.id}", json=patch, headers=admin.headers)
    assert response.status_code == 200  # committed: the answer says so
    assert response.json["status"] == "disabled"
    assert_problem(api.client.get("/me", headers=account.headers), 401)


def _token_version(app, user_id: int) -> int:
    with app.app_context():
        query = sa.text("SELECT token_version FROM users WHERE id = :id")
        return db.session.execute(query, {"id": user_id}).scalar_one()


def test_logouts_everywhere_at_once_each_end_what_they_saw(api, app):
    """Each accepted /logout_all bumps the version once more: none undoes another's."""
    account = api.user()
    pairs = [api.login(account.username).json for _ in range(6)]
    before = _token_version(app, account.id)

    def logout_all(pair):
        return lambda client: (
            client.post("/logout_all", headers=bearer(pair["access_token"])).status_code
        )

    statuses = at_once(app, [logout_all(pair) for pair in pairs])
    assert set(statuses) <= {200, 401}
    assert _token_version(app, account.id) == before + statuses.count(200)
    for pair in pairs:
        assert_problem(api.client.get("/me", headers=bearer(pair["access_token"])), 401)
