"""The web console under /app/: static pages that use the JSON API, and its refresh cookie.

Every path under /app/ that names a page answers with the same index.html;
the page's script routes by `location.pathname`. Assets live under
/app/assets/. The console pages carry a strict Content-Security-Policy.
"""

from __future__ import annotations

import re
from pathlib import Path

import pycountry
from flask import Blueprint, Flask, Response, abort, jsonify, request

from my_app.console import cookies

PAGE = re.compile(r"[a-z][a-z-]{0,39}")
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

console = Blueprint(
    "console",
    __name__,
    url_prefix="/app",
    static_folder="static",
    static_url_path="/assets",
)


@console.get("/", strict_slashes=False)
@console.get("/<page>", strict_slashes=False)
def page(page: str = "") -> Response:
    """Any console page: the one HTML shell; the script shows the page the path names."""
    if page and not PAGE.fullmatch(page):
        abort(404)
    shell = Path(console.static_folder, "index.html").read_bytes()
    return Response(shell, mimetype="text/html", headers={"Cache-Control": "no-cache"})


@console.get("/countries.json")
def countries() -> Response:
    """The ISO 3166-1 countries for the address form, as the API accepts them."""
    listed = sorted(pycountry.countries, key=lambda c: c.name)
    return jsonify({"countries": [{"code": c.alpha_2, "name": c.name} for c in listed]})


@console.after_request
def _lock_down(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"  # reset tokens travel in page URLs
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.path.startswith("/app/assets/"):
        response.headers["Cache-Control"] = "no-cache"  # revalidate: a deploy shows at once
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(console)
    cookies.init_app(app)
