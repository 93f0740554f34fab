"""The app under uWSGI with four worker processes: revocation holds in every one."""

from urllib.parse import urlsplit

import requests

from tests.support.uwsgi import UWSGIServer, environ_for, hit_every_worker

WORKERS = 4


def test_logout_is_honoured_by_every_uwsgi_worker(app, mailbox):
    with UWSGIServer(environ_for(app), processes=WORKERS) as server:
        user = {
            "username": "alice",
            "email": "alice@example.com",
            "password": "correct horse battery",
        }
        assert requests.post(f"{server.url}/register", json=user).status_code == 201
        confirm = urlsplit(mailbox.confirmation_link("alice@example.com")).path
        assert requests.get(f"{server.url}{confirm}").status_code == 200
        login = {"username": "alice", "password": user["password"]}
        tokens = requests.post(f"{server.url}/login", json=login).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert requests.get(f"{server.url}/me", headers=headers).status_code == 200
        assert requests.post(f"{server.url}/logout", headers=headers).status_code == 200
        assert len(server.requests_per_worker()) == WORKERS
        assert set(hit_every_worker(server, "/me", headers)) == {401}
