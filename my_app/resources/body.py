"""Reading a request body safely: bounded size; JSON in strict UTF-8 with bounded nesting."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from my_app.errors import BadRequest

MAX_DEPTH = 32
DISCARD_AT_MOST = 1024 * 1024  # deploy/uwsgi.ini's limit-post
# Only brackets, quotes and backslashes decide how deep a JSON text nests.
_STRUCTURE = re.compile(r'[\[\]{}"\\]')


def read_json() -> Any:
    """The request's JSON value (415 not JSON, 413 too large, 400 not UTF-8 JSON or too deep).

    Read once per request, with the same outcome each time it is asked for: a rate
    limit's key, which runs before the endpoint, sees exactly what the endpoint will
    (a chunked body cannot be read twice).
    """
    if "json_body" not in g:
        try:
            g.json_body = (_read_json(), None)
        except (BadRequest, RequestEntityTooLarge, UnsupportedMediaType) as refusal:
            g.json_body = (None, refusal)
    value, refusal = g.json_body
    if refusal is not None:
        raise refusal
    return value


def _read_json() -> Any:
    if not request.is_json:
        raise UnsupportedMediaType("Send the request body as application/json.")
    try:
        text = _read_limited().decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The request body is not UTF-8.") from None
    if nests_deeper_than(text, MAX_DEPTH):
        raise BadRequest(f"The JSON body nests deeper than {MAX_DEPTH} levels.")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError:  # malformed JSON, NaN/Infinity, or an integer too long to convert
        raise BadRequest("The request body is not valid JSON.") from None


def read_text(media_type: str) -> str:
    """The body as text of `media_type` in UTF-8 (415 another type or charset, 413 too large).

    Bytes that are not UTF-8 become lone surrogates (`surrogateescape`), which every text
    field refuses: a line-by-line reader reports the lines they are on, and stores none.
    """
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if request.mimetype != media_type or charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"Send the request body as {media_type} in UTF-8.")
    return _read_limited().decode("utf-8", "surrogateescape")


def _read_limited() -> bytes:
    """The body, refusing more than MAX_CONTENT_LENGTH bytes whether or not it is chunked."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None:
        if request.content_length > limit:
            _discard(request.content_length)
            raise RequestEntityTooLarge()
        return request.get_data(cache=True)
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not (chunked or request.environ.get("wsgi.input_terminated")):
        return b""  # no body at all; reading on would wait for the client's next request
    # Read one byte past the limit to tell "exactly the limit" from "too much", then, as
    # _discard does, the rest of a refused body, up to what uWSGI would buffer.
    chunks, size = [], 0
    for chunk in _body_chunks(DISCARD_AT_MOST + 1):
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    return b"".join(chunks)


def _discard(length: int) -> None:
    """Read and drop a refused body before answering: a client still sending it would get a
    connection reset instead of the 413. Bodies over uWSGI's `limit-post` never get here
    (a chunked one is read up to that size: past it the connection may close unanswered)."""
    stream = request.environ["wsgi.input"]
    left = min(length, DISCARD_AT_MOST)
    while left > 0 and (chunk := stream.read(min(65536, left))):
        left -= len(chunk)


def _body_chunks(most: int) -> Iterator[bytes]:
    """A chunked body's pieces: de-chunked by the server, or through uWSGI's chunked API."""
    if not request.environ.get("wsgi.input_terminated") and "uwsgi.version" in request.environ:
        import uwsgi  # present only inside uWSGI, whose wsgi.input does not de-chunk

        size = 0
        try:
            while size < most and (chunk := uwsgi.chunked_read()):
                size += len(chunk)
                yield chunk
        except OSError:
            # uWSGI refuses a chunk larger than its buffer (1 MB, far above our limit)
            # and a body that stalls or breaks off, with the same error.
            raise RequestEntityTooLarge("The chunked body is too large or incomplete.") from None
        return
    stream = request.environ["wsgi.input"]
    size = 0
    while size < most and (chunk := stream.read(min(65536, most - size))):
        size += len(chunk)
        yield chunk


def nests_deeper_than(text: str, limit: int) -> bool:
    """Whether JSON `text` opens more than `limit` arrays/objects at once (strings skipped)."""
    depth = 0
    in_string = False
    escaped_until = -1
    for match in _STRUCTURE.finditer(text):
        position, char = match.start(), match.group()
        if position < escaped_until:
            continue
        if in_string:
            if char == "\\":
                escaped_until = position + 2
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
