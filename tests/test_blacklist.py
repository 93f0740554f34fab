"""blacklist.py: both stores behave alike; entries live exactly as long as what they record."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
import redis
from freezegun import freeze_time

from blacklist import DatabaseBlacklist, RedisBlacklist, get_blacklist, user_key
from my_app.models import BlacklistEntry
from tests.conftest import ALL_STACKS
from tests.support import services


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
        assert store.add("jti:a", later, "first") is True
        assert store.add("jti:a", later, "second") is False
        assert store.get("jti:a") == "first"
        assert store.get("jti:x") is None


def test_an_entry_is_forgotten_once_its_token_expires(store_app):
    with store_app.app_context():
        store = get_blacklist()
        store.add("jti:soon", datetime.now(UTC) + timedelta(seconds=60))
        assert store.get("jti:soon") == "1"
        with freeze_time(datetime.now(UTC) + timedelta(seconds=61)):
            assert store.get("jti:soon") is None


@pytest.mark.parametrize("stack", [("postgresql", "redis")])
def test_redis_caches_a_logged_out_session_as_ended(api, app):
    account = api.user()
    api.client.post("/logout", headers=account.headers)
    sid = jwt.decode(account.tokens["refresh_token"], options={"verify_signature": False})["sid"]
    with app.app_context():
        store = get_blacklist()
        assert store.client.get(store.prefix + user_key(account.id, f"sess:{sid}")) == b"ended"
        assert 0 < store.client.ttl(store.prefix + user_key(account.id, f"sess:{sid}")) <= store.ttl


@pytest.mark.parametrize("stack", [("postgresql", "redis")])
def test_a_live_session_is_cached_no_longer_than_it_lives(api, app):
    account = api.user()
    assert api.client.get("/me", headers=account.headers).status_code == 200
    sid = jwt.decode(account.tokens["access_token"], options={"verify_signature": False})["sid"]
    with app.app_context():
        store = get_blacklist()
        assert store.client.get(store.prefix + user_key(account.id, f"sess:{sid}")) == b"live"
        assert 0 < store.client.ttl(store.prefix + user_key(account.id, f"sess:{sid}")) <= store.ttl


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
    store = RedisBlacklist(client, "x:", database=None)
    with pytest.raises(BlacklistUnavailable):
        store.check("sid", 1)
    with pytest.raises(BlacklistUnavailable):
        store.account_changing(1)
    with pytest.raises(BlacklistUnavailable):
        store.session_ending(1, "sid")


def test_check_reads_the_account_with_the_keys_in_one_answer(store_app):
    with store_app.app_context():
        store = get_blacklist()
        assert store.check("no-session", 1).account is None  # no such user yet
        result = store_app.test_cli_runner().invoke(
            args=["create-admin", "--username", "root", "--email", "root@example.com",
                  "--password", "a long admin password"]
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        check = store.check("another-session", 1)
        assert check.revoked is True  # no such session
        assert check.account["username"] == "root"
        assert check.account["role"] == "admin"
