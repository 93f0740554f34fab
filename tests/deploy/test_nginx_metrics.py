"""The shipped nginx site lets a scraper on a private network reach /metrics, and hides it from
requests that come through the load balancer."""

import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.deploy.test_nginx import NGINX, loopback_upstream, render_site
from tests.support import services
from tests.support.uwsgi import UWSGIServer, environ_for

TOKEN = "nginx-metrics-token-0123456789"


@pytest.mark.slow
def test_metrics_through_nginx_only_for_direct_private_scrapers(app, tmp_path):
    if not Path(NGINX).exists():
        services.unavailable("nginx is not installed (apt-get install nginx)")
    environ = {**environ_for(app), "METRICS_TOKEN": TOKEN}
    with UWSGIServer(environ, processes=1, uwsgi_socket=True) as server:
        port = services.free_port()
        conf = render_site(port, loopback_upstream([server.socket_port]), tmp_path)
        nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf)],
                                 stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/metrics"
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    requests.get(f"http://127.0.0.1:{port}/nginx-health", timeout=2)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            auth = {"Authorization": f"Bearer {TOKEN}"}
            direct = requests.get(url, headers=auth, timeout=10)
            assert direct.status_code == 200
            assert "my_app_http_requests_total" in direct.text
            assert requests.get(url, timeout=10).status_code == 401  # the token still counts
            balanced = requests.get(url, headers={**auth, "X-Forwarded-For": "203.0.113.9"},
                                    timeout=10)  # fmt: skip
            assert balanced.status_code == 404
            assert "my_app_" not in balanced.text
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
