"""The environment that points an app under test at its database, blacklist store and mail."""

from __future__ import annotations

from tests.support import services

PUBLIC_BASE_URL = "http://bookings.test"


def app_environment(
    database_url: str,
    smtp_port: int,
    blacklist: str = "database",
    redis_prefix: str = "",
    public_base_url: str = PUBLIC_BASE_URL,
) -> dict[str, str]:
    """Settings for `TestingConfig` or a server process: SMTP mail to the test's server, and
    with the Redis blacklist, Redis keys (rate limits too) under `redis_prefix`."""
    environ = {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "BLACKLIST_BACKEND": blacklist,
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "PUBLIC_BASE_URL": public_base_url,
    }
    if blacklist == "redis":
        environ["REDIS_URL"] = services.REDIS_URL
        environ["BLACKLIST_REDIS_PREFIX"] = redis_prefix
        environ["RATELIMIT_KEY_PREFIX"] = redis_prefix + "limits"
    return environ
