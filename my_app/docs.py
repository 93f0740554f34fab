"""GET /docs: Swagger UI for /openapi.json, from the app's own files (no internet needed).

The page runs no inline script, so it can carry a strict Content-Security-Policy: Swagger
UI's settings travel in a JSON data block, which the browser never executes, and
data/docs/swagger-initializer.js starts Swagger UI with them.
"""

from __future__ import annotations

import json
from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Flask, Response, send_from_directory
from markupsafe import escape

SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"
OWN_FILES = Path(__file__).parent / "data" / "docs"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        # swagger-ui-bundle.js adds one <style> element of its own (flask-swagger-ui 5.34.0)
        "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='",
        "img-src 'self' data:",  # swagger-ui.css draws its icons as data: URIs
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="stylesheet" href="{base}/index.css">
  <link rel="stylesheet" href="{base}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{base}/favicon-32x32.png" sizes="32x32">
  <script type="application/json" id="swagger-config">{config}</script>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{base}/swagger-ui-bundle.js"></script>
  <script src="{base}/swagger-ui-standalone-preset.js"></script>
  <script src="{base}/swagger-initializer.js"></script>
</body>
</html>
"""


def blueprint(base: str, spec_url: str, title: str) -> Blueprint:
    """Swagger UI under `base` (e.g. /docs) for the document at `spec_url`."""
    docs = Blueprint("docs", __name__, url_prefix=base)
    settings = {"url": spec_url, "dom_id": "#swagger-ui", "deepLinking": True,
                "validatorUrl": None}  # fmt: skip
    # A JSON data block ends at the first "</": keep "<" out of it.
    config = json.dumps(settings).replace("<", "\\u003c")
    page = PAGE.format(title=escape(title), base=base, config=config)

    @docs.get("/")
    @docs.get("/<path:path>")
    def show(path: str | None = None) -> Response:
        if path in (None, "", "index.html"):
            return Response(page, mimetype="text/html")
        if path == "swagger-initializer.js":
            return send_from_directory(OWN_FILES, path)
        return send_from_directory(SWAGGER_DIST, path)

    @docs.after_request
    def _lock_down(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return docs


def init_app(app: Flask, base: str, spec_url: str, title: str) -> None:
    app.register_blueprint(blueprint(base, spec_url, title))
