"""config.py: environments, secret checks, AWS Secrets Manager."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from config import (
    DEV_JWT_SECRET_KEY,
    ConfigError,
    DevelopmentConfig,
    ProductionConfig,
    TestingConfig,
    load_config,
)

ROOT = Path(__file__).resolve().parents[1]
STRONG = "s" * 40
STRONG_JWT = "j" * 40


PRODUCTION = {"SECRET_KEY": STRONG, "JWT_SECRET_KEY": STRONG_JWT, "MAIL_BACKEND": "smtp"}


def production(**env):
    return ProductionConfig({**PRODUCTION, **env})


def test_app_env_selects_the_class():
    assert isinstance(load_config(environ={}), DevelopmentConfig)
    assert isinstance(load_config(environ={"APP_ENV": "testing"}), TestingConfig)
    assert isinstance(
        load_config(environ={"APP_ENV": "production", **PRODUCTION}),
        ProductionConfig,
    )
    with pytest.raises(ConfigError):
        load_config(environ={"APP_ENV": "staging"})


def test_development_defaults_match_the_contract():
    config = DevelopmentConfig({})
    assert config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert "/instance/" in config.SQLALCHEMY_DATABASE_URI
    assert config.BLACKLIST_BACKEND == "database"
    assert config.MAIL_BACKEND == "console"
    assert (config.MAIL_SERVER, config.MAIL_PORT, config.MAIL_USE_TLS) == ("localhost", 25, False)
    assert config.PUBLIC_BASE_URL == "http://127.0.0.1:5000"
    assert config.JWT_ACCESS_TOKEN_EXPIRES.total_seconds() == 15 * 60
    assert config.JWT_REFRESH_TOKEN_EXPIRES.days == 30
    assert config.CONFIRM_TOKEN_HOURS == 48
    assert config.BCRYPT_LOG_ROUNDS == 12
    assert config.AWS_REGION == "us-east-1"
    assert config.LOG_LEVEL == "INFO"
    assert config.CORS_ORIGINS == []
    assert config.DATABASE_TIMEOUT_SECONDS == 5
    assert config.SESSION_MAX_DAYS == 90
    assert config.RATELIMIT_ACCOUNT_FAILURES == "100 per hour"
    assert config.JWT_ENCODE_ISSUER == config.JWT_DECODE_ISSUER
    assert config.JWT_ENCODE_AUDIENCE == config.JWT_DECODE_AUDIENCE


def test_redis_url_makes_redis_the_default_blacklist():
    assert DevelopmentConfig({"REDIS_URL": "redis://x"}).BLACKLIST_BACKEND == "redis"
    config = DevelopmentConfig({"REDIS_URL": "redis://x", "BLACKLIST_BACKEND": "database"})
    assert config.BLACKLIST_BACKEND == "database"


def test_database_timeout_accepts_fractions_of_a_second():
    assert DevelopmentConfig({"DATABASE_TIMEOUT_SECONDS": "1.5"}).DATABASE_TIMEOUT_SECONDS == 1.5


def test_postgres_urls_are_normalised_to_psycopg3():
    config = DevelopmentConfig({"DATABASE_URL": "postgres://u:p@h/db"})
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u:p@h/db"


@pytest.mark.parametrize(
    "env",
    [
        {"BLACKLIST_BACKEND": "memcached"},
        {"BLACKLIST_BACKEND": "redis"},
        {"MAIL_BACKEND": "pigeon"},
        {"BCRYPT_LOG_ROUNDS": "2"},
        {"ACCESS_TOKEN_MINUTES": "soon"},
        {"DATABASE_TIMEOUT_SECONDS": "soon"},
        {"DATABASE_TIMEOUT_SECONDS": "0"},
        {"DATABASE_TIMEOUT_SECONDS": "-1"},
        {"DATABASE_TIMEOUT_SECONDS": "nan"},
        {"SESSION_MAX_DAYS": "0"},
        {"SESSION_MAX_DAYS": "forever"},
        {"RATELIMIT_ACCOUNT_FAILURES": "lots"},
    ],
)
def test_invalid_settings_are_refused(env):
    with pytest.raises(ConfigError):
        DevelopmentConfig(env)


@pytest.mark.parametrize(
    "env",
    [
        {"SECRET_KEY": ""},
        {"JWT_SECRET_KEY": ""},
        {"SECRET_KEY": "short"},
        {"JWT_SECRET_KEY": DEV_JWT_SECRET_KEY},
        {"SECRET_KEY": "changeme"},
        {"JWT_SECRET_KEY": STRONG},
    ],
)
def test_production_refuses_missing_default_or_short_secrets(env):
    with pytest.raises(ConfigError):
        production(**env)


@pytest.mark.parametrize(
    "env, reason",
    [
        ({"MAIL_BACKEND": "console"}, "MAIL_BACKEND=console"),
        ({"MAIL_BACKEND": ""}, "MAIL_BACKEND=console"),  # the default is for development
        ({"METRICS_TOKEN": "m" * 31}, "METRICS_TOKEN must be at least 32 bytes"),
        ({"WEBHOOK_URLS": "https://h.example/e", "WEBHOOK_SECRET": "w" * 31}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URLS": "http://h.example/e", "WEBHOOK_SECRET": "w" * 32}, "https://"),
        ({"WEBHOOK_URLS": "http://127.0.0.1:9/e", "WEBHOOK_SECRET": "w" * 32}, "https://"),
    ],
)
def test_production_refuses_console_mail_short_tokens_and_plain_http_webhooks(env, reason):
    with pytest.raises(ConfigError, match=reason):
        production(**env)


def test_production_accepts_long_tokens_and_https_webhooks():
    config = production(
        METRICS_TOKEN="m" * 32, WEBHOOK_URLS="https://h.example/e", WEBHOOK_SECRET="w" * 32
    )
    assert config.WEBHOOK_URLS == ["https://h.example/e"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/e", "http://localhost/e", "http://[::1]/e"])
def test_development_sends_plain_http_webhooks_to_loopback_only(url):
    assert [url] == DevelopmentConfig({"WEBHOOK_URLS": url, "WEBHOOK_SECRET": "s"}).WEBHOOK_URLS
    elsewhere = url.replace("127.0.0.1", "10.0.0.1").replace("localhost", "h.example")
    with pytest.raises(ConfigError, match="https://"):
        DevelopmentConfig({"WEBHOOK_URLS": elsewhere.replace("[::1]", "[2001:db8::1]"),
                           "WEBHOOK_SECRET": "s"})  # fmt: skip


def test_every_engine_hides_sql_parameters():
    assert DevelopmentConfig({}).SQLALCHEMY_ENGINE_OPTIONS["hide_parameters"] is True
    assert production().SQLALCHEMY_ENGINE_OPTIONS["hide_parameters"] is True


def test_production_accepts_strong_secrets():
    config = production()
    assert config.SECRET_KEY == STRONG
    assert config.DEBUG is False


@mock_aws
def test_production_reads_secrets_from_aws_secrets_manager():
    client = boto3.client("secretsmanager", region_name="eu-west-1")
    secret = {"SECRET_KEY": "k" * 48, "JWT_SECRET_KEY": "t" * 48, "DATABASE_URL": "postgres://h/db"}
    client.create_secret(Name="my_app/prod", SecretString=json.dumps(secret))
    config = ProductionConfig(
        {"AWS_SECRET_ID": "my_app/prod", "AWS_REGION": "eu-west-1", "MAIL_BACKEND": "ses"}
    )
    assert config.SECRET_KEY == "k" * 48
    assert config.JWT_SECRET_KEY == "t" * 48
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://h/db"


@mock_aws
def test_production_with_a_missing_aws_secret_refuses_to_start():
    with pytest.raises(ConfigError, match="cannot read secret"):
        ProductionConfig(
            {"AWS_SECRET_ID": "nope", "SECRET_KEY": STRONG, "JWT_SECRET_KEY": STRONG_JWT}
        )


@mock_aws
def test_production_with_a_non_object_secret_refuses_to_start():
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="bad", SecretString="[1, 2]"
    )
    with pytest.raises(ConfigError, match="JSON object"):
        ProductionConfig({"AWS_SECRET_ID": "bad"})


def test_wsgi_refuses_to_start_in_production_with_weak_secrets(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        env={"APP_ENV": "production", "SECRET_KEY": "short", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=tmp_path.parent,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("module", ["wsgi", "deploy.serve"])
def test_under_uwsgi_without_app_env_the_app_is_production_and_refuses_the_dev_keys(module):
    """No APP_ENV, no keys: the WSGI entry points run as production, which will not start."""
    binary = shutil.which("uwsgi", path=str(Path(sys.executable).parent)) or "uwsgi"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("UWSGI_", "APP_ENV"))}
    inherited = {k: v for k, v in inherited.items() if k not in ("SECRET_KEY", "JWT_SECRET_KEY")}
    result = subprocess.run(
        [binary, "--module", f"{module}:app", "--need-app", "--http-socket", "127.0.0.1:0"],
        cwd=ROOT, env=inherited, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert (
        "my_app cannot start: SECRET_KEY is required in production" in result.stdout + result.stderr
    )
