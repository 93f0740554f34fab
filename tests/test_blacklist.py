"""blacklist.py: both stores behave alike; entries live exactly as long as what they revoke."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
import redis
from freezegun import freeze_time

from blacklist import DatabaseBlacklist, RedisBlacklist, get_blacklist, user_key
from my_app.models import BlacklistEntry
from tests.conftest import ALL_STACKS
from tests.support import services
from tests.support.api import assert_problem


@pytest.fixture(params=ALL_STACKS)
def store_app(request, make_app):
    return make_app(blacklist=request.param[1])


@pytest.fixture
def stack(request):
    # Each store_app param names its own stack; other tests here use SQLite.
    callspec = getattr(request.node, "callspec", None)
    return (
        callspec.params.get("store_app", ("sqlite", "database"))
        if callspec
        else ("sqlite", "database")
    )


def test_add_is_true_only_for_the_first_caller(store_app):
    with store_app.app_context():
        store = get_blacklist()
        later = datetime.now(UTC) + timedelta(hours=1)
        assert store.add("jti:a", later) is True
        assert store.add("jti:a", later) is False
        assert store.check(("jti:a", "sid:b"), 1).revoked is True
        assert store.check(("jti:x", "sid:y"), 1).revoked is False


def test_an_entry_is_forgotten_once_its_token_expires(store_app):
    with store_app.app_context():
        store = get_blacklist()
        store.add("jti:soon", datetime.now(UTC) + timedelta(seconds=60))
        assert store.check(("jti:soon",), 1).revoked
        if isinstance(store, RedisBlacklist):
            ttl = store.client.pttl(store.prefix + "jti:soon")
            assert 55_000 < ttl <= 60_000
        else:
            with freeze_time(datetime.now(UTC) + timedelta(seconds=61)):
                assert not store.check(("jti:soon",), 1).revoked


@pytest.mark.parametrize("stack", [("postgresql", "redis")])
def test_redis_ttl_of_a_revoked_refresh_token_is_its_remaining_lifetime(api, app):
    account = api.user()
    api.client.post("/logout", headers=account.headers)
    sid = jwt.decode(account.tokens["refresh_token"], options={"verify_signature": False})["sid"]
    with app.app_context():
        store = get_blacklist()
        days = store.client.ttl(store.prefix + user_key(account.id, f"sid:{sid}")) / 86400
        assert 29.9 < days <= 30


def test_prune_blacklist_removes_only_expired_entries(make_app, stack):
    app = make_app(blacklist="database")
    now = datetime.now(UTC)
    with app.app_context():
        store = get_blacklist()
        assert isinstance(store, DatabaseBlacklist)
        store.add("jti:old", now + timedelta(seconds=1))
        store.add("jti:new", now + timedelta(days=30))
    with freeze_time(now + timedelta(seconds=5)):
        result = app.test_cli_runner().invoke(args=["prune-blacklist"])
    assert result.exit_code == 0
    assert "1" in result.output
    with app.app_context():
        from my_app.extensions import db

        assert [e.key for e in db.session.query(BlacklistEntry)] == ["jti:new"]


def test_redis_store_unreachable_raises_unavailable():
    from blacklist import BlacklistUnavailable

    client = redis.Redis(port=services.free_port(), socket_connect_timeout=0.5)
    store = RedisBlacklist(client, "x:", load_account=lambda user_id: None)
    with pytest.raises(BlacklistUnavailable):
        store.check(("jti:a",), 1)
    with pytest.raises(BlacklistUnavailable):
        store.add("jti:a", datetime.now(UTC) + timedelta(minutes=1))


def test_check_reads_the_account_with_the_keys_in_one_answer(store_app):
    with store_app.app_context():
        store = get_blacklist()
        assert store.check(("jti:none",), 1).account is None  # no such user yet
        result = store_app.test_cli_runner().invoke(
            args=["create-admin", "--username", "root", "--email", "root@example.com",
                  "--password", "a long admin password"]
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        check = store.check(("jti:none",), 1)
        assert check.revoked is False
        assert check.account["username"] == "root"
        assert check.account["role"] == "admin"


@pytest.mark.parametrize("stack", [("postgresql", "redis")])
def test_revocations_recorded_before_the_hash_tags_still_count(api, app):
    ended, spent = api.user(), api.user()
    ended_sid = jwt.decode(ended.tokens["access_token"], options={"verify_signature": False})
    spent_jti = jwt.decode(spent.tokens["refresh_token"], options={"verify_signature": False})
    with app.app_context():
        store = get_blacklist()
        # What the version before the hash tags wrote: an ended session, a spent refresh token.
        store.client.set(f"{store.prefix}sid:{ended_sid['sid']}", "1", ex=60)
        store.client.set(f"{store.prefix}jti:{spent_jti['jti']}", "{}", ex=60)
    assert_problem(api.client.get("/me", headers=ended.headers), 401)
    assert_problem(api.client.post("/refresh", headers=spent.refresh_headers), 401)
