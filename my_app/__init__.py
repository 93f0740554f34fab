"""my_app: a Flask-RESTful service for booking requests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask.sessions import SessionInterface

from config import INSTANCE_DIR, Config, load_config


def create_app(
    config: Config | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    serving: bool = False,
) -> Flask:
    """Build the app from `config` (default: the environment's), with `overrides` on top.

    `serving=True` builds it for a WSGI server's workers: without the command-line tools
    (`flask db` and ours), which no request uses and which would cost each worker memory.
    """
    from my_app import console, errors, headers, log, metrics, openapi, resources
    from my_app.services import events

    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.from_object(config or load_config())
    app.config.update(overrides or {})
    app.json.sort_keys = False
    app.session_interface = NoSessions()
    from my_app import jsonprovider  # orjson for every JSON response (my_app/jsonprovider.py)

    jsonprovider.init_app(app)
    INSTANCE_DIR.mkdir(exist_ok=True)

    log.init_app(app)
    headers.init_app(app)
    register_extensions(app)
    errors.init_app(app)
    resources.init_app(app)
    openapi.init_app(app)
    metrics.init_app(app, backlog=events.backlog)
    console.init_app(app)
    if not serving:
        from my_app import commands

        commands.init_app(app)
    trust_proxies(app)
    return app


class NoSessions(SessionInterface):
    """No `flask.session`: every request carries its own token, and the console's refresh
    token travels in a cookie of its own. Opening Flask's signed-cookie session on every
    request would cost a serializer for nothing; writing to it raises."""

    def open_session(self, app: Flask, request) -> None:
        return None  # Flask then uses its null session

    def save_session(self, app: Flask, session, response) -> None:
        return None


def trust_proxies(app: Flask) -> None:
    """Take the client address `TRUSTED_PROXIES` hops from the right of X-Forwarded-For.

    With 0 (a server reached directly) forwarding headers are ignored, so a
    client can never choose the address that rate limits count by.
    """
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=1, x_host=1)


def register_extensions(app: Flask) -> None:
    import redis_client
    from my_app import auth, database, models, replica  # noqa: F401  (models registers the tables)
    from my_app.extensions import db, limiter, ma

    database.configure_engine(app)
    db.init_app(app)
    ma.init_app(app)
    database.init_app(app)
    replica.init_app(app)
    auth.init_app(app)
    # The rate limits' Redis is reached as the revocation store's is (redis_client.py).
    storage_options = redis_client.limiter_storage_options(app.config["RATELIMIT_STORAGE_URI"])
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {
        **storage_options,
        **app.config["RATELIMIT_STORAGE_OPTIONS"],
    }
    # init_app merges into the one Limiter's options: an earlier app's (a Sentinel's
    # `use_replicas`) would reach a storage that refuses them.
    limiter._storage_options = {}
    limiter.init_app(app)
    if app.config["CORS_ORIGINS"]:
        from flask_cors import CORS  # only a deployment that allows other origins loads it

        CORS(app, origins=app.config["CORS_ORIGINS"], expose_headers=["X-Request-ID"])
