"""The console's refresh cookie, attached to the API's own token answers.

`/login`, `/refresh` and `/change_password` answer with a token pair in the
body, as they always have; on success they now also set the refresh token
as an HttpOnly, SameSite=Strict cookie scoped to /refresh (plus the readable
CSRF cookie of flask-jwt-extended's double-submit protection), so the console
keeps its session across a reload without any script ever holding the
refresh token. Ending a session clears the cookie. A Bearer header still
wins over the cookie, so API clients see no change.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_jwt_extended import set_refresh_cookies, unset_refresh_cookies

ISSUES_PAIR = {"/login", "/refresh", "/change_password"}
ENDS_SESSION = {"/logout", "/logout_all", "/reset_password"}


def _path() -> str:
    return request.path.rstrip("/") or "/"


def _console_refresh() -> bool:
    """The console's own refresh attempt: by cookie, with its CSRF header."""
    header = current_app.config["JWT_REFRESH_CSRF_HEADER_NAME"]
    return "Authorization" not in request.headers and header in request.headers


def _attach(response: Response) -> Response:
    path = _path()
    if request.method != "POST" or path not in ISSUES_PAIR | ENDS_SESSION:
        return response
    if path in ISSUES_PAIR and response.status_code == 200:
        body = response.get_json(silent=True) or {}
        if isinstance(body.get("refresh_token"), str):
            set_refresh_cookies(response, body["refresh_token"])
    elif path in ENDS_SESSION and response.status_code == 200:
        unset_refresh_cookies(response)
    elif path == "/refresh" and response.status_code == 401 and _console_refresh():
        unset_refresh_cookies(response)  # a spent or revoked cookie is of no further use
    return response


def init_app(app: Flask) -> None:
    app.after_request(_attach)
