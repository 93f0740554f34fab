"""The shipped nginx site in front of two uWSGI instances ("two hosts"), end to end."""

import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.support import services
from tests.support.api import booking_body
from tests.support.uwsgi import UWSGIServer, environ_for, hit_every_worker

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture
def nginx_binary():
    if not Path(NGINX).exists():
        services.unavailable("nginx is not installed (apt-get install nginx)")
    return NGINX


def render_site(port: int, upstreams: list[int], directory: Path) -> Path:
    """The shipped config, with loopback ports and a private prefix instead of :80 and /var/log."""
    site = (ROOT / "deploy/nginx/my_app.conf").read_text()
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("listen [::]:80;", "")
    site = site.replace("/var/log/nginx/", f"{directory}/")
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in upstreams)
    upstream = f"upstream my_app_uwsgi {{\n{servers}}}\n"
    shutil.copy("/etc/nginx/uwsgi_params", directory / "uwsgi_params")
    conf = directory / "nginx.conf"
    temp_paths = "".join(
        f"    {kind}_temp_path {directory}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf.write_text(
        f"pid {directory}/nginx.pid;\nerror_log {directory}/error.log;\ndaemon off;\n"
        f"events {{}}\nhttp {{\n    access_log off;\n{temp_paths}{upstream}{site}\n}}\n"
    )
    return conf


def test_shipped_site_passes_nginx_t(nginx_binary, tmp_path):
    conf = render_site(services.free_port(), [services.free_port()], tmp_path)
    result = subprocess.run([nginx_binary, "-t", "-p", str(tmp_path), "-c", str(conf)],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("stack", [("postgresql", "redis")])
def test_two_hosts_behind_nginx_refuse_a_revoked_token_on_every_worker(
    nginx_binary, app, mailbox, tmp_path
):
    environ = environ_for(app)
    with (
        UWSGIServer(environ, processes=4, uwsgi_socket=True) as host_a,
        UWSGIServer(environ, processes=4, uwsgi_socket=True) as host_b,
    ):
        port = services.free_port()
        conf = render_site(port, [host_a.socket_port, host_b.socket_port], tmp_path)
        nginx = subprocess.Popen([nginx_binary, "-p", str(tmp_path), "-c", str(conf)])
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(f"{base}/nginx-health")
            health = requests.get(f"{base}/health", headers={"X-Request-ID": "trace-1"})
            assert health.headers["X-Request-ID"] == "trace-1"
            assert re.fullmatch(
                r"[0-9a-f]{32}", requests.get(f"{base}/health").headers["X-Request-ID"]
            )

            user = {"username": "alice", "email": "alice@example.com", "password": "password123"}
            assert requests.post(f"{base}/register", json=user).status_code == 201
            confirm = urlsplit(mailbox.confirmation_link(user["email"])).path
            assert requests.get(f"{base}{confirm}").status_code == 200
            login = {"username": "alice", "password": user["password"]}
            token = requests.post(f"{base}/login", json=login).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            submitted = requests.post(
                f"{base}/submit_request", json=booking_body(), headers=headers
            )
            assert submitted.status_code == 201
            assert requests.post(f"{base}/logout", headers=headers).status_code == 200

            assert {requests.get(f"{base}/me", headers=headers).status_code for _ in range(10)} == {
                401
            }
            for host in (host_a, host_b):
                assert set(hit_every_worker(host, "/me", headers)) == {401}
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


def _wait(url: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")
