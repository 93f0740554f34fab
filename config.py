"""Configuration classes: the one place that reads the environment.

`load_config()` picks a class by `APP_ENV` and builds it from `os.environ`
(overlaid, in production, with the JSON secret named by `AWS_SECRET_ID`).
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"

# Development only: production refuses both (KNOWN_DEFAULT_SECRETS below).
DEV_SECRET_KEY = "dev-secret-key-not-for-production-0000000000"  # nosec B105  # development only
DEV_JWT_SECRET_KEY = "dev-jwt-secret-key-not-for-production-000000"  # nosec B105  # development only
# Values that must never sign anything in production: ours, and the usual suspects.
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        DEV_SECRET_KEY,
        DEV_JWT_SECRET_KEY,
        "change-me",
        "changeme",
        "secret",
        "super-secret",
        "dev",
        "development",
        "replace-me-with-32-or-more-random-bytes",
    }
)
MIN_SECRET_BYTES = 32
# Every token names who issued it and for whom; a token without both, or others, is refused.
TOKEN_ISSUER = "my_app"
TOKEN_AUDIENCE = "my_app"


class ConfigError(RuntimeError):
    """The configuration is unusable; the process must not start."""


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from exc
    if not 0 < value < 86400:
        raise ConfigError(f"{name} must be more than 0 and less than a day, got {raw!r}")
    return value


def normalise_database_url(url: str) -> str:
    """Let people paste `postgres://` URLs; we always speak psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Settings shared by every environment, read from `environ`."""

    ENV_NAME = "base"
    DEBUG = False
    TESTING = False

    def __init__(self, environ: Mapping[str, str] | None = None):
        env = dict(os.environ if environ is None else environ)
        env = self.overlay_secrets(env)
        self._read(env)
        self.validate()

    def overlay_secrets(self, env: dict[str, str]) -> dict[str, str]:
        return env

    def _read(self, env: Mapping[str, str]) -> None:
        self.SECRET_KEY = env.get("SECRET_KEY") or self.default_secret(DEV_SECRET_KEY)
        self.JWT_SECRET_KEY = env.get("JWT_SECRET_KEY") or self.default_secret(DEV_JWT_SECRET_KEY)

        default_db = f"sqlite:///{INSTANCE_DIR / f'my_app-{self.ENV_NAME}.sqlite'}"
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(env.get("DATABASE_URL") or default_db)
        # Pool and statement bounds are derived from this in my_app/database.py. No SQL
        # parameter (a password hash, a token) ever reaches an error message, hence a log.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
        self.DATABASE_TIMEOUT_SECONDS = _seconds(env, "DATABASE_TIMEOUT_SECONDS", 5)
        self.MIGRATIONS_DIR = str(MIGRATIONS_DIR)
        # A hot standby for lag-tolerant reads (my_app/replica.py), passed over when it lags.
        replica = env.get("DATABASE_REPLICA_URL") or None
        self.DATABASE_REPLICA_URL = normalise_database_url(replica) if replica else None
        self.REPLICA_MAX_LAG_SECONDS = _seconds(env, "REPLICA_MAX_LAG_SECONDS", 10)

        self.REDIS_URL = env.get("REDIS_URL") or None
        backend = (env.get("BLACKLIST_BACKEND") or "").strip().lower()
        self.BLACKLIST_BACKEND = backend or ("redis" if self.REDIS_URL else "database")
        self.BLACKLIST_REDIS_PREFIX = env.get("BLACKLIST_REDIS_PREFIX", "my_app:blacklist:")

        self.ACCESS_TOKEN_MINUTES = _int(env, "ACCESS_TOKEN_MINUTES", 15)
        self.REFRESH_TOKEN_DAYS = _int(env, "REFRESH_TOKEN_DAYS", 30)
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=self.ACCESS_TOKEN_MINUTES)
        self.JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=self.REFRESH_TOKEN_DAYS)
        # The console's refresh cookie (my_app/console/cookies.py); a Bearer header wins.
        self.JWT_TOKEN_LOCATION = ["headers", "cookies"]
        self.JWT_REFRESH_COOKIE_PATH = "/refresh"
        self.JWT_REFRESH_CSRF_COOKIE_PATH = "/app"
        self.JWT_COOKIE_SAMESITE = "Strict"
        self.JWT_COOKIE_SECURE = self.ENV_NAME == "production"
        self.JWT_COOKIE_CSRF_PROTECT = True
        self.JWT_ALGORITHM = "HS256"
        self.JWT_DECODE_ALGORITHMS = ["HS256"]
        self.JWT_ENCODE_ISSUER = self.JWT_DECODE_ISSUER = TOKEN_ISSUER
        self.JWT_ENCODE_AUDIENCE = self.JWT_DECODE_AUDIENCE = TOKEN_AUDIENCE
        self.SESSION_MAX_DAYS = _int(env, "SESSION_MAX_DAYS", 90)
        self.REFRESH_GRACE_SECONDS = _int(env, "REFRESH_GRACE_SECONDS", 10)
        self.CONFIRM_TOKEN_HOURS = _int(env, "CONFIRM_TOKEN_HOURS", 48)
        self.IDEMPOTENCY_HOURS = _int(env, "IDEMPOTENCY_HOURS", 24)
        self.RESET_TOKEN_MINUTES = _int(env, "RESET_TOKEN_MINUTES", 30)

        self.BCRYPT_LOG_ROUNDS = _int(env, "BCRYPT_LOG_ROUNDS", 12)

        self.MAIL_BACKEND = (env.get("MAIL_BACKEND") or "console").strip().lower()
        self.MAIL_SERVER = env.get("MAIL_SERVER") or "localhost"
        self.MAIL_PORT = _int(env, "MAIL_PORT", 25)
        self.MAIL_USE_TLS = _flag(env.get("MAIL_USE_TLS"))
        self.MAIL_USERNAME = env.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = env.get("MAIL_PASSWORD") or None
        self.MAIL_DEFAULT_SENDER = env.get("MAIL_DEFAULT_SENDER") or "no-reply@localhost"
        self.MAIL_TIMEOUT_SECONDS = _int(env, "MAIL_TIMEOUT_SECONDS", 10)

        self.AWS_REGION = env.get("AWS_REGION") or "us-east-1"
        self.AWS_SECRET_ID = env.get("AWS_SECRET_ID") or None
        # Booking events (services/events.py): where `deliver-events` sends them, and how hard.
        self.EVENTS_SNS_TOPIC_ARN = env.get("EVENTS_SNS_TOPIC_ARN") or None
        self.WEBHOOK_URLS = [u.strip() for u in env.get("WEBHOOK_URLS", "").split(",") if u.strip()]
        self.WEBHOOK_SECRET = env.get("WEBHOOK_SECRET") or None
        self.WEBHOOK_TIMEOUT_SECONDS = _int(env, "WEBHOOK_TIMEOUT_SECONDS", 5)
        self.EVENTS_RETRY_BASE_SECONDS = _int(env, "EVENTS_RETRY_BASE_SECONDS", 10)
        self.EVENTS_RETRY_MAX_SECONDS = _int(env, "EVENTS_RETRY_MAX_SECONDS", 3600)
        self.EVENTS_GIVE_UP_HOURS = _int(env, "EVENTS_GIVE_UP_HOURS", 24)
        self.EVENTS_POLL_SECONDS = _int(env, "EVENTS_POLL_SECONDS", 2)
        self.PUBLIC_BASE_URL = (env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
        self.PASSWORD_RESET_URL = (
            env.get("PASSWORD_RESET_URL") or f"{self.PUBLIC_BASE_URL}/app/reset-password"
        )
        # Proxies in front of us that append to X-Forwarded-For; 0: the peer is the client.
        self.TRUSTED_PROXIES = _int(env, "TRUSTED_PROXIES", 0)

        self.CORS_ORIGINS = [o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip()]
        self.LOG_LEVEL = (env.get("LOG_LEVEL") or "INFO").upper()
        self.LOG_FORMAT = (env.get("LOG_FORMAT") or "text").strip().lower()
        self.METRICS_TOKEN = env.get("METRICS_TOKEN") or None
        # prometheus_client's multiprocess mode (every uWSGI worker adds up); the library
        # reads the same variable itself when the process starts.
        self.PROMETHEUS_MULTIPROC_DIR = env.get("PROMETHEUS_MULTIPROC_DIR") or None

        self.RATELIMIT_ENABLED = _flag(env.get("RATELIMIT_ENABLED"), default=True)
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        # As for the blacklist: a Redis that stops answering costs 2 s, then 503.
        self.RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 2, "socket_connect_timeout": 2}
        self.RATELIMIT_AUTH = env.get("RATELIMIT_AUTH") or "10 per minute"
        self.RATELIMIT_LOGIN_FAILURES = env.get("RATELIMIT_LOGIN_FAILURES") or "10 per 15 minutes"
        self.RATELIMIT_ACCOUNT_FAILURES = env.get("RATELIMIT_ACCOUNT_FAILURES") or "100 per hour"
        self.RATELIMIT_KEY_PREFIX = env.get("RATELIMIT_KEY_PREFIX", "my_app")
        self.RATELIMIT_HEADERS_ENABLED = True
        self.MAX_CONTENT_LENGTH = 64 * 1024
        self.PROPAGATE_EXCEPTIONS = False

    def default_secret(self, dev_value: str) -> str:
        return dev_value

    def plain_http_allowed(self, url: str) -> bool:
        """Events are signed, not encrypted: plain HTTP only to this machine, outside production."""
        return url.startswith("http://") and _is_loopback(url)

    def validate(self) -> None:
        if self.BLACKLIST_BACKEND not in {"database", "redis"}:
            raise ConfigError("BLACKLIST_BACKEND must be 'database' or 'redis'")
        if self.BLACKLIST_BACKEND == "redis" and not self.REDIS_URL:
            raise ConfigError("BLACKLIST_BACKEND=redis needs REDIS_URL")
        if self.MAIL_BACKEND not in {"console", "smtp", "ses"}:
            raise ConfigError("MAIL_BACKEND must be 'console', 'smtp' or 'ses'")
        if self.LOG_FORMAT not in {"text", "json"}:
            raise ConfigError("LOG_FORMAT must be 'text' or 'json'")
        if not 4 <= self.BCRYPT_LOG_ROUNDS <= 31:
            raise ConfigError("BCRYPT_LOG_ROUNDS must be between 4 and 31")
        if self.ACCESS_TOKEN_MINUTES < 1 or self.REFRESH_TOKEN_DAYS < 1:
            raise ConfigError("token lifetimes must be positive")
        if self.SESSION_MAX_DAYS < 1:
            raise ConfigError("SESSION_MAX_DAYS must be positive")
        if self.IDEMPOTENCY_HOURS < 1:
            raise ConfigError("IDEMPOTENCY_HOURS must be positive")
        if self.RESET_TOKEN_MINUTES < 1:
            raise ConfigError("RESET_TOKEN_MINUTES must be positive")
        if not 0 <= self.TRUSTED_PROXIES <= 10:
            raise ConfigError("TRUSTED_PROXIES must be between 0 and 10")
        for name in ("RATELIMIT_AUTH", "RATELIMIT_LOGIN_FAILURES", "RATELIMIT_ACCOUNT_FAILURES"):
            _check_rate_limit(name, getattr(self, name))
        if self.WEBHOOK_URLS and not self.WEBHOOK_SECRET:
            raise ConfigError("WEBHOOK_URLS needs WEBHOOK_SECRET to sign the events it receives")
        for url in self.WEBHOOK_URLS:
            if not (url.startswith("https://") or self.plain_http_allowed(url)):
                raise ConfigError(
                    "every WEBHOOK_URLS entry must be an https:// URL (plain http:// only to"
                    f" loopback, outside production), got {url!r}"
                )
        if self.WEBHOOK_TIMEOUT_SECONDS < 1 or self.EVENTS_POLL_SECONDS < 1:
            raise ConfigError("WEBHOOK_TIMEOUT_SECONDS and EVENTS_POLL_SECONDS must be positive")


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_rate_limit(name: str, value: str) -> None:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as exc:
        raise ConfigError(f"{name} is not a rate limit such as '10 per minute': {value!r}") from exc


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True


class TestingConfig(Config):
    __test__ = False  # not a pytest test class, despite the name
    ENV_NAME = "testing"
    TESTING = True

    def _read(self, env: Mapping[str, str]) -> None:
        super()._read(env)
        self.BCRYPT_LOG_ROUNDS = _int(env, "BCRYPT_LOG_ROUNDS", 4)
        self.RATELIMIT_ENABLED = _flag(env.get("RATELIMIT_ENABLED"), default=False)


class ProductionConfig(Config):
    ENV_NAME = "production"

    def overlay_secrets(self, env: dict[str, str]) -> dict[str, str]:
        secret_id = env.get("AWS_SECRET_ID")
        if not secret_id:
            return env
        return {**env, **fetch_aws_secret(secret_id, env.get("AWS_REGION") or "us-east-1")}

    def default_secret(self, dev_value: str) -> str:
        return ""

    def plain_http_allowed(self, url: str) -> bool:
        return False

    def validate(self) -> None:
        super().validate()
        for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
            value = getattr(self, name)
            if not value:
                raise ConfigError(f"{name} is required in production")
            if value in KNOWN_DEFAULT_SECRETS:
                raise ConfigError(f"{name} is a known default value; generate a new one")
            if len(value.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(f"{name} must be at least {MIN_SECRET_BYTES} bytes long")
        if self.SECRET_KEY == self.JWT_SECRET_KEY:
            raise ConfigError("SECRET_KEY and JWT_SECRET_KEY must differ")
        if self.MAIL_BACKEND == "console":
            # Reset and confirmation links would be written to the logs.
            raise ConfigError("MAIL_BACKEND=console is for development; use smtp or ses")
        for name in ("METRICS_TOKEN", "WEBHOOK_SECRET"):
            value = getattr(self, name)
            if value is not None and len(value.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(f"{name} must be at least {MIN_SECRET_BYTES} bytes long")


def fetch_aws_secret(secret_id: str, region: str) -> dict[str, str]:
    """Read a JSON object secret from AWS Secrets Manager."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client("secretsmanager", region_name=region)
    try:
        raw = client.get_secret_value(SecretId=secret_id)["SecretString"]
    except (BotoCoreError, ClientError, KeyError) as exc:
        raise ConfigError(f"cannot read secret {secret_id!r} from Secrets Manager: {exc}") from exc
    return {str(k): str(v) for k, v in decode_secret(secret_id, raw).items()}


def decode_secret(secret_id: str, raw: str) -> dict:
    """A secret's SecretString, which this project always keeps as a JSON object."""
    try:
        values = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"secret {secret_id!r} is not a JSON object") from exc
    if not isinstance(values, dict):
        raise ConfigError(f"secret {secret_id!r} is not a JSON object")
    return values


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def default_app_env() -> str:
    """Without `APP_ENV`: production under uWSGI (whose embedded `uwsgi` module exists only
    there), so that a server never runs on the development keys because a variable was
    forgotten; development everywhere else (`make start`, the command line)."""
    return "production" if _under_uwsgi() else "development"


def _under_uwsgi() -> bool:
    try:
        import uwsgi  # noqa: F401
    except ImportError:
        return False
    return True


def load_config(name: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Build the configuration for `name` (default: `APP_ENV`, else `default_app_env()`)."""
    env = os.environ if environ is None else environ
    name = (name or env.get("APP_ENV") or default_app_env()).strip().lower()
    try:
        config_class = CONFIGS[name]
    except KeyError as exc:
        raise ConfigError(f"APP_ENV must be one of {sorted(CONFIGS)}, got {name!r}") from exc
    return config_class(env)
