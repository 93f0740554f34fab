"""The shipped nginx site in front of two uWSGI instances ("two hosts"), end to end."""

import json
import os
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
from tests.support.waiting import wait_until_ready

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
UWSGI_INI = ROOT / "deploy/uwsgi.ini"
T = 10  # seconds any one request may take


@pytest.fixture
def nginx_binary():
    if not Path(NGINX).exists():
        services.unavailable("nginx is not installed (apt-get install nginx)")
    return NGINX


def render_site(port: int, upstream: str, directory: Path) -> Path:
    """The shipped site as installed (conf.d: the site, then its upstream), with a loopback
    port and a private prefix instead of :80 and /var/log."""
    site = (ROOT / "deploy/nginx/my_app.conf").read_text()
    assert "listen 80;" in site and "listen [::]:80;" in site
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("listen [::]:80;", "")
    site = site.replace("/var/log/nginx/", f"{directory}/")
    shutil.copy("/etc/nginx/uwsgi_params", directory / "uwsgi_params")
    conf = directory / "nginx.conf"
    temp_paths = "".join(
        f"    {kind}_temp_path {directory}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf.write_text(
        f"pid {directory}/nginx.pid;\nerror_log {directory}/error.log;\ndaemon off;\n"
        f"events {{}}\nhttp {{\n    access_log off;\n{temp_paths}{site}\n{upstream}\n}}\n"
    )
    return conf


def loopback_upstream(ports: list[int]) -> str:
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in ports)
    return f"upstream my_app_uwsgi {{\n{servers}}}\n"


@pytest.mark.parametrize(
    "upstream",
    [
        "upstream.conf",  # EC2: the local uWSGI unix socket
        "upstream-docker.conf",  # compose: the app service, resolved here as loopback
    ],
)
def test_shipped_site_passes_nginx_t(nginx_binary, tmp_path, upstream):
    text = (
        (ROOT / "deploy/nginx" / upstream).read_text().replace("server app:", "server 127.0.0.1:")
    )
    conf = render_site(services.free_port(), text, tmp_path)
    result = subprocess.run([nginx_binary, "-t", "-p", str(tmp_path), "-c", str(conf)],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr, result.stderr


@pytest.mark.parametrize("stack", [("postgresql", "redis")])
def test_two_hosts_behind_nginx_refuse_a_revoked_token_on_every_worker(
    nginx_binary, app, mailbox, tmp_path
):
    """Two uWSGI instances running the shipped deploy/uwsgi.ini (4 workers each) stand for
    two hosts sharing PostgreSQL and Redis; the shipped nginx site balances them."""
    environ = environ_for(app)
    with (
        UWSGIServer(environ, processes=4, uwsgi_socket=True, ini=UWSGI_INI) as host_a,
        UWSGIServer(environ, processes=4, uwsgi_socket=True, ini=UWSGI_INI) as host_b,
    ):
        port = services.free_port()
        upstream = loopback_upstream([host_a.socket_port, host_b.socket_port])
        conf = render_site(port, upstream, tmp_path)
        nginx = subprocess.Popen([nginx_binary, "-p", str(tmp_path), "-c", str(conf)])
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_ready(f"{base}/nginx-health", nginx, timeout=10)
            _request_ids_reach_the_app_and_come_back(base, [host_a, host_b])

            user = {
                "username": "alice",
                "email": "alice@example.com",
                "password": "correct horse battery",
            }
            assert requests.post(f"{base}/register", json=user, timeout=T).status_code == 201
            confirm = urlsplit(mailbox.confirmation_link(user["email"])).path
            assert requests.get(f"{base}{confirm}", timeout=T).status_code == 200
            login = {"username": "alice", "password": user["password"]}
            token = requests.post(f"{base}/login", json=login, timeout=T).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            submitted = requests.post(
                f"{base}/submit_request", json=booking_body(), headers=headers, timeout=T
            )
            assert submitted.status_code == 201
            assert requests.post(f"{base}/logout", headers=headers, timeout=T).status_code == 200

            through_nginx = {
                requests.get(
                    f"{base}/me", headers={**headers, "X-Request-ID": f"lb-{i}"}, timeout=T
                ).status_code
                for i in range(10)
            }
            assert through_nginx == {401}
            for host in (host_a, host_b):  # nginx balanced over both "hosts"
                assert "rid=lb-" in host.output(), host.output()[-2000:]
            for host in (host_a, host_b):  # and every worker of each refuses the token
                assert len(host.requests_per_worker()) == 4
                assert set(hit_every_worker(host, "/me", headers)) == {401}
            _validate_service_hook_passes(f"{base}/ping")
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


def _request_ids_reach_the_app_and_come_back(base: str, hosts: list[UWSGIServer]) -> None:
    health = requests.get(f"{base}/health", headers={"X-Request-ID": "trace-1"}, timeout=T)
    assert health.headers["X-Request-ID"] == "trace-1"
    made = requests.get(f"{base}/health", timeout=T).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    # deploy/uwsgi.ini logs the id the app was given, whichever host answered (uWSGI writes
    # the line after the answer has left, so it may trail it by a moment).
    deadline = time.monotonic() + 10
    while True:
        logs = "".join(host.output() for host in hosts)
        if ("rid=trace-1" in logs and f"rid={made}" in logs) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert "rid=trace-1" in logs and f"rid={made}" in logs


def _validate_service_hook_passes(url: str) -> None:
    """scripts/validate_service.sh, CodeDeploy's last hook, accepts the stack."""
    if not shutil.which("curl"):
        services.unavailable("curl is not installed (the ValidateService hook uses it)")
    result = subprocess.run(
        ["bash", str(ROOT / "scripts/validate_service.sh")],
        env={**os.environ, "VALIDATE_URL": url, "VALIDATE_TIMEOUT": "10"},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.partition("ready: ")[2])["migrations"] == "current"


def test_validate_service_hook_fails_when_nothing_answers(tmp_path):
    if not shutil.which("curl"):
        services.unavailable("curl is not installed (the ValidateService hook uses it)")
    url = f"http://127.0.0.1:{services.free_port()}/ping"
    quick = {"VALIDATE_URL": url, "VALIDATE_TIMEOUT": "1", "VALIDATE_INTERVAL": "0.2"}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts/validate_service.sh")],
        env={**os.environ, **quick},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 1
    assert "did not become ready" in result.stderr
