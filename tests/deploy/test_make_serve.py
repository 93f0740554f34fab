"""`make serve`: migrations first, then the shipped uWSGI configuration over plain HTTP."""

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.support import services, uwsgi
from tests.support.waiting import wait_until_ready

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _inherited() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("UWSGI_", "MAKE", "APP_ENV"))}


def test_make_serve_without_app_env_refuses_the_development_keys(tmp_path):
    environ = {**_inherited(), "DATABASE_URL": f"sqlite:///{tmp_path}/never.sqlite"}
    environ = {k: v for k, v in environ.items() if k not in ("SECRET_KEY", "JWT_SECRET_KEY")}
    result = subprocess.run(
        ["make", "--no-print-directory", "serve", f"BIN={BIN}", f"PORT={services.free_port()}"],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "my_app cannot start: SECRET_KEY is required in production" in result.stderr
    assert not (tmp_path / "never.sqlite").exists()  # not even migrated


def test_make_serve_migrates_then_serves_production_over_http_with_four_workers(
    empty_postgres_url, private_redis_prefix, tmp_path
):
    port, stats_port = services.free_port(), services.free_port()
    environ = {
        **_inherited(),  # no APP_ENV: `make serve` means production
        "DATABASE_URL": empty_postgres_url,
        "REDIS_URL": services.REDIS_URL,
        "BLACKLIST_REDIS_PREFIX": private_redis_prefix,
        "RATELIMIT_KEY_PREFIX": private_redis_prefix + "limits",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "MAIL_BACKEND": "smtp",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "UWSGI_STATS": f"127.0.0.1:{stats_port}",  # uWSGI reads UWSGI_<OPTION> variables
    }
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        ["make", "--no-print-directory", "serve", f"BIN={BIN}"],
        cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        # uWSGI's HTTP router listens before the workers have loaded the app: any answer will do.
        ping = wait_until_ready(
            f"http://127.0.0.1:{port}/ping", process, ready=lambda response: True, timeout=60
        )
        assert ping.status_code == 200, ping.text
        assert ping.json()["migrations"] == "current"  # the database was empty before
        assert ping.headers["X-Request-ID"]

        stats = uwsgi.stats(stats_port)
        assert len(stats["workers"]) == 4  # UWSGI_PROCESSES defaults to 4
        assert all(worker["pid"] > 0 for worker in stats["workers"])
        health = requests.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert health.json() == {"status": "ok"}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.seek(0)
        output = log.read()
        log.close()
    assert "goodbye to uWSGI" in output, output[-3000:]  # die-on-term: a clean stop
