"""Secrets stay out of logs: a flow carrying every kind of secret through nginx and uWSGI
(the shipped site and deploy/uwsgi.ini), then every line the app, uWSGI and nginx wrote."""

import contextlib
import subprocess
import time
from urllib.parse import urlsplit

import psycopg
import pytest
import requests

from tests.deploy.test_nginx import UWSGI_INI, loopback_upstream, nginx_binary, render_site
from tests.support import services
from tests.support.api import PASSWORD, bearer
from tests.support.uwsgi import UWSGIServer, environ_for
from tests.support.waiting import wait_until_ready

__all__ = ["nginx_binary"]  # the fixture
T = 10  # seconds any one request may take
SQL_CANARY = "sql-parameter-canary-7d41e0"


class Flow:
    """Requests to `base`, remembering every secret that went over the wire."""

    def __init__(self, base: str):
        self.base = base
        self.secrets: set[str] = set()

    def keep(self, *secrets: str) -> None:
        for secret in secrets:
            self.secrets.add(secret)
            if secret.count(".") == 2:  # a JWT: its signature alone is a secret too
                self.secrets.add(secret.rsplit(".", 1)[1])

    def keep_tokens(self, response) -> dict[str, str]:
        assert response.status_code in (200, 201), response.text
        tokens = {k: response.json()[k] for k in ("access_token", "refresh_token")}
        self.keep(*tokens.values())
        return tokens

    def call(self, method: str, path: str, status: int, **kwargs):
        response = requests.request(method, f"{self.base}{path}", timeout=T, **kwargs)
        assert response.status_code == status, (method, path, response.text)
        return response


def _every_secret_over_the_wire(flow: Flow, direct: Flow, api, mailbox, database_url: str):
    first, second, third = "first pass phrase 1", "second pass phrase 2", "third pass phrase 3"
    flow.keep(first, second, third, PASSWORD)
    user = {"username": "alice", "email": "alice@example.com", "password": first}
    flow.call("POST", "/register", 201, json=user)

    confirm = urlsplit(mailbox.confirmation_link(user["email"])).path
    flow.keep(confirm.rsplit("/", 1)[1])
    flow.call("GET", confirm, 200)
    direct.call("GET", confirm + "?again=1", 200)  # already confirmed

    login = {"username": "alice", "password": first}
    tokens = flow.keep_tokens(flow.call("POST", "/login", 200, json=login))
    direct.call("POST", "/login", 401, json={"username": "alice", "password": "wrong " + first})
    tokens = flow.keep_tokens(
        flow.call("POST", "/refresh", 200, headers=bearer(tokens["refresh_token"]))
    )
    flow.call("GET", "/me", 200, headers=bearer(tokens["access_token"]))
    change = {"current_password": first, "new_password": second}
    tokens = flow.keep_tokens(
        flow.call(
            "POST", "/change_password", 200, json=change, headers=bearer(tokens["access_token"])
        )
    )
    direct.call("GET", "/me", 200, headers=bearer(tokens["access_token"]))

    flow.call("POST", "/forgot_password", 202, json={"email": user["email"]})
    reset = urlsplit(mailbox.reset_link(user["email"]))
    token = reset.query.partition("token=")[2]
    flow.keep(token)
    flow.call("GET", f"{reset.path}?{reset.query}", 200)  # the console's page, as a browser would
    direct.call("GET", f"/health?token={token}", 200)
    flow.call("POST", "/reset_password", 200, json={"token": token, "password": third})
    flow.keep_tokens(flow.call("POST", "/login", 200, json={**login, "password": third}))

    admin = api.admin()  # created with the command line; logs in over the wire
    admin_tokens = flow.keep_tokens(
        flow.call("POST", "/login", 200, json={"username": admin.username, "password": PASSWORD})
    )
    resources = flow.call("GET", "/resources", 200, headers=bearer(admin_tokens["access_token"]))
    feed = urlsplit(resources.json()["resources"][0]["calendar_url"])
    flow.keep(feed.query.partition("token=")[2])
    flow.call("GET", f"{feed.path}?{feed.query}", 200)
    direct.call("GET", f"{feed.path}?{feed.query}", 200)

    # nginx refuses a body over 1 MiB itself, an `error`-level line quoting the request line.
    json_type = {"Content-Type": "application/json"}
    flow.call("POST", f"/login?token={token}", 413, data=b"x" * (1024 * 1024 + 1))
    direct.call("POST", "/login", 413, data=b"x" * (64 * 1024 + 1), headers=json_type)
    flow.call("GET", f"/no/such/page?token={token}", 404)

    # A statement that fails (a lock it cannot get in time), its parameter a canary.
    flow.keep(SQL_CANARY)
    with psycopg.connect(database_url.replace("+psycopg", "")) as holder:
        holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        flow.call("POST", "/login", 503, json={"username": SQL_CANARY, "password": first})
        holder.rollback()


@pytest.mark.parametrize("stack", [("postgresql", "redis")])
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_reaches_any_log_of_nginx_uwsgi_or_the_app(
    nginx_binary, app, api, mailbox, tmp_path, log_format
):
    environ = {**environ_for(app), "LOG_FORMAT": log_format, "DATABASE_TIMEOUT_SECONDS": "1"}
    server = UWSGIServer(environ, processes=2, uwsgi_socket=True, ini=UWSGI_INI, http_router=True)
    with server as host:
        port = services.free_port()
        conf = render_site(port, loopback_upstream([host.socket_port]), tmp_path)
        with (tmp_path / "nginx.out").open("w") as out:
            nginx = subprocess.Popen(
                [nginx_binary, "-p", str(tmp_path), "-c", str(conf)], stdout=out, stderr=out
            )
            try:
                wait_until_ready(f"http://127.0.0.1:{port}/nginx-health", nginx, timeout=10)
                flow, direct = Flow(f"http://127.0.0.1:{port}"), Flow(host.url)
                _every_secret_over_the_wire(
                    flow, direct, api, mailbox, app.config["SQLALCHEMY_DATABASE_URI"]
                )
                time.sleep(0.5)  # uWSGI writes a request's line after its answer has left
            finally:
                nginx.terminate()
                nginx.wait(timeout=10)
        uwsgi_log = host.output()
    secrets = flow.secrets | direct.secrets
    nginx_logs = {
        name: (tmp_path / name).read_text() if (tmp_path / name).exists() else ""
        for name in ("my_app.access.log", "my_app.error.log", "error.log", "nginx.out")
    }
    logs = {"uwsgi and the app": uwsgi_log, **nginx_logs}
    for name, text in logs.items():
        leaked = sorted(s for s in secrets if s in text)
        assert not leaked, f"{name} holds {leaked}:\n{text[-3000:]}"

    # The logs did record the flow: each request, by its path alone.
    access = nginx_logs["my_app.access.log"]
    assert '"GET /user_confirm/... HTTP/1.1" 200' in access
    assert '"GET /resources/1/calendar.ics HTTP/1.1" 200' in access
    assert '"POST /login HTTP/1.1" 413' in access and "upstream=503/" in access
    if log_format == "text":
        assert '"GET /user_confirm/... HTTP/1.1" 200' in uwsgi_log  # through nginx
        assert '"GET /resources/1/calendar.ics HTTP/1.1" 200' in uwsgi_log  # directly
    else:
        assert '"path":"/user_confirm/<string:token>"' in uwsgi_log.replace(": ", ":")
        assert '"path":"/resources/<id:resource_id>/calendar.ics"' in uwsgi_log.replace(": ", ":")
    assert "dependency unavailable" in uwsgi_log and "FROM users" in uwsgi_log


@pytest.mark.parametrize("stack", [("postgresql", "redis")])
def test_a_request_killed_by_harakiri_is_reported_without_its_token(
    nginx_binary, app, mailbox, tmp_path
):
    """uWSGI names the request a harakiri killed by its REQUEST_URI: the one nginx or its own
    HTTP router handed it, never the raw target."""
    environ = {**environ_for(app), "DATABASE_TIMEOUT_SECONDS": "20"}
    server = UWSGIServer(environ, processes=1, uwsgi_socket=True, ini=UWSGI_INI, http_router=True)
    server.args += ["--harakiri", "2"]  # after the ini's 30 s, so it wins
    with server as host:
        port = services.free_port()
        conf = render_site(port, loopback_upstream([host.socket_port]), tmp_path)
        nginx = subprocess.Popen([nginx_binary, "-p", str(tmp_path), "-c", str(conf)])
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_ready(f"{base}/nginx-health", nginx, timeout=10)
            user = {"username": "carol", "email": "carol@example.com", "password": PASSWORD}
            assert requests.post(f"{base}/register", json=user, timeout=T).status_code == 201
            confirm = urlsplit(mailbox.confirmation_link(user["email"])).path
            stuck = [f"{base}{confirm}", f"{host.url}/resources/1/calendar.ics?token=stuck-feed"]
            url = app.config["SQLALCHEMY_DATABASE_URI"].replace("+psycopg", "")
            with psycopg.connect(url) as holder:
                holder.execute("LOCK TABLE users, resources IN ACCESS EXCLUSIVE MODE")
                for address in stuck:  # each waits on the lock until harakiri kills its worker
                    with contextlib.suppress(requests.RequestException):
                        requests.get(address, timeout=T)
                holder.rollback()
            wait_until_ready(f"{host.url}/health", None, timeout=30)
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
        output = host.output()
    assert output.count("HARAKIRI ON WORKER") >= 2, output[-3000:]
    for secret in (confirm.rsplit("/", 1)[1], "stuck-feed"):
        assert secret not in output, output[-3000:]
    assert "GET /user_confirm/..." in output  # through nginx: the masked path
