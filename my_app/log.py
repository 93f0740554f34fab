"""Logging with a request id on every line, echoed to the client as X-Request-ID.

`LOG_FORMAT=json` writes one JSON object per line (time, level, message,
request_id, user_id, method, path, status, duration_ms), adds an access line
per request, and hands the same fields to uWSGI for its own request log
(deploy/uwsgi.ini), so CloudWatch Logs Insights can query every line. `path` is
the route template (`/user_confirm/<string:token>`): never a token, never a
query string. In text format the path is written without its query string and
with a confirmation link's token masked (`safe_path`), by uWSGI, nginx
(deploy/nginx/my_app.conf) and the development server alike.
"""

import json
import logging
import re
import time
import uuid

from flask import Flask, g, has_request_context, request
from flask_jwt_extended import get_jwt_identity

try:  # present only inside uWSGI
    import uwsgi
except ImportError:
    uwsgi = None

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
# A confirmation link's token is in its path (CONTRACT: `GET /user_confirm/<token>`).
_CONFIRM_PATH = re.compile(r"(?i)/user_confirm/[^\s\"'?]*")
_QUERY = re.compile(r"\?[^\s\"']*")
MASKED_CONFIRM_PATH = "/user_confirm/..."
JSON_FIELDS = ["levelname", "message", "name", "request_id", "user_id", "method", "path"]
access_log = logging.getLogger("my_app.access")


def safe_path(target: str) -> str:
    """What a log may say about a request target: no query string, no confirmation token."""
    return scrub(target.partition("?")[0])


def scrub(text: str) -> str:
    """`text` (a request line, a message quoting one) without query strings or confirm tokens."""
    return _CONFIRM_PATH.sub(MASKED_CONFIRM_PATH, _QUERY.sub("", text))


class ScrubRequestLines(logging.Filter):
    """For the development server's lines (werkzeug): its access line quotes the raw request
    line, query string and all, and its error lines may quote it too."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), None
        return True


def _user_id() -> str | None:
    try:
        identity = get_jwt_identity()
    except RuntimeError:  # no token was checked for this request
        return None
    return None if identity is None else str(identity)


def _route() -> str | None:
    rule = request.url_rule
    return (rule.rule.rstrip("/") or "/") if rule is not None else None


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class RequestFieldsFilter(logging.Filter):
    """Who and what a line is about, for JSON lines written while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id")
            record.user_id = _user_id()
            record.method = request.method
            record.path = _route()
        return True


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter  # only LOG_FORMAT=json loads it

    return JsonFormatter(
        JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger"}, timestamp="time"
    )


def _assign_request_id() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
    g.log_started = time.perf_counter()
    if uwsgi is not None:  # for uWSGI's text request line (log-format in uwsgi.ini)
        _logvar("safe_path", safe_path(request.path))


def _echo_request_id(response):
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    return response


def _logvar(name: str, value: str) -> None:
    uwsgi.set_logvar(name, json.dumps(value)[1:-1])  # safe between the quotes of log-format


def _log_access(response):
    """The access line, and the fields of uWSGI's own request line (log-format in uwsgi.ini)."""
    route = _route() or "<unmatched>"
    user_id = _user_id()
    started = g.get("log_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 3) if started else None
    access_log.info(
        "%s %s %s", request.method, route, response.status_code,
        extra={"status": response.status_code, "duration_ms": duration_ms},
    )  # fmt: skip
    if uwsgi is not None:
        _logvar("request_id", g.get("request_id", ""))
        _logvar("user_id", user_id or "")
        _logvar("req_method", request.method)
        _logvar("route", route)
    return response


def init_app(app: Flask) -> None:
    handler = logging.StreamHandler()
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(json_formatter())
        handler.addFilter(RequestFieldsFilter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
        handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "_my_app", False)]
    handler._my_app = True
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, ScrubRequestLines) for f in werkzeug.filters):
        werkzeug.addFilter(ScrubRequestLines())
    app.before_request(_assign_request_id)
    app.after_request(_echo_request_id)
    if app.config["LOG_FORMAT"] == "json":
        # The app writes its own access line, in JSON.
        werkzeug.setLevel(logging.WARNING)
        app.after_request(_log_access)
