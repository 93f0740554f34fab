"""The app under uWSGI with four worker processes: revocation holds in every one."""

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests

from tests.conftest import PUBLIC_BASE_URL
from tests.support.uwsgi import UWSGIServer

WORKERS = 4


def _environ(app) -> dict[str, str]:
    config = app.config
    environ = {
        "APP_ENV": "testing",
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "BLACKLIST_BACKEND": config["BLACKLIST_BACKEND"],
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(config["MAIL_PORT"]),
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "BLACKLIST_REDIS_PREFIX": config["BLACKLIST_REDIS_PREFIX"],
    }
    if config["REDIS_URL"]:
        environ["REDIS_URL"] = config["REDIS_URL"]
    return environ


def test_logout_is_honoured_by_every_uwsgi_worker(app, mailbox):
    with UWSGIServer(_environ(app), processes=WORKERS) as server:
        http = requests.Session()
        user = {"username": "alice", "email": "alice@example.com", "password": "password123"}
        assert http.post(f"{server.url}/register", json=user).status_code == 201
        confirm = urlsplit(mailbox.confirmation_link("alice@example.com")).path
        assert http.get(f"{server.url}{confirm}").status_code == 200
        login = {"username": "alice", "password": user["password"]}
        tokens = http.post(f"{server.url}/login", json=login).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert http.get(f"{server.url}/me", headers=headers).status_code == 200
        assert http.post(f"{server.url}/logout", headers=headers).status_code == 200

        before = server.requests_per_worker()
        assert len(before) == WORKERS

        def me(_):
            return requests.get(f"{server.url}/me", headers=headers, timeout=10).status_code

        statuses: list[int] = []
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(10):  # bounded: until every worker has answered at least once
                statuses += pool.map(me, range(40))
                after = server.requests_per_worker()
                if all(after[pid] > before[pid] for pid in before):
                    break
        assert set(statuses) == {401}
        assert all(after[pid] > before[pid] for pid in before), (before, after)
