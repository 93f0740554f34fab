"""The shipped uWSGI on its own HTTP port (`make serve`, the Docker image's 8000): the app
answers 413 problem+json above 64 KiB, and uWSGI refuses a body over 1 MiB (`limit-post`)
before reading or buffering any of it."""

from pathlib import Path

import pytest
import requests

from tests.support.uwsgi import UWSGIServer, environ_for

ROOT = Path(__file__).resolve().parents[2]
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("stack", [("sqlite", "database")])
def test_bodies_over_64_kib_are_413_and_over_1_mib_are_refused_unread(app):
    ini = ROOT / "deploy/uwsgi.ini"
    with UWSGIServer(environ_for(app), processes=1, ini=ini, http_router=True) as server:
        just_over = requests.post(
            f"{server.url}/login", data=b"x" * (64 * 1024 + 1), headers=JSON, timeout=10
        )
        assert just_over.status_code == 413
        assert just_over.headers["Content-Type"] == "application/problem+json"
        assert just_over.json()["status"] == 413

        with pytest.raises(requests.ConnectionError):
            requests.post(
                f"{server.url}/login", data=b"x" * (1024 * 1024 + 1), headers=JSON, timeout=10
            )
        assert "Invalid (too big) CONTENT_LENGTH" in server.output()
        assert requests.get(f"{server.url}/health", timeout=10).status_code == 200
