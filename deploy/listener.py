"""What uWSGI's HTTP listener lacks, supplied from Python (deploy/uwsgi.ini loads this file).

uWSGI 2.0's HTTP router keeps connections alive (`http-keepalive`) but has two faults that no
option fixes, and the router's request size has a hard ceiling:

1. It never sets TCP_NODELAY on client connections, so the tail of a response written in
   several pieces waits for the client's delayed ACK: about 44 ms per response over a
   reused connection. Accepted sockets inherit TCP_NODELAY from their listening socket, so
   `set_tcp_nodelay_on_listeners()` sets it on every TCP socket uWSGI listens on. It runs in
   the master (`shared-import`), after the sockets are bound and before anything is accepted.
2. When a worker dies before answering (kill -9, harakiri), the router, in keep-alive mode,
   keeps the client connection open and silent until its timeout. `Listener` arms an
   abortive close (SO_LINGER 0) on the worker's connection for the length of each request,
   so a death mid-request resets that connection and the router closes the client's at
   once; a request that completes disarms it first and closes normally.
3. A request line or header block that does not fit the worker's buffer is dropped without
   an answer. `buffer-size` lets requests up to 64 KiB of headers through, and `Listener`
   answers 414 or 431 above `MAX_URI_BYTES` / `MAX_HEADER_BYTES`. (Above 64 KiB the router
   itself cannot forward the request, the uwsgi protocol's limit, and closes the connection.)
4. A chunked request body reaches the worker only as a raw stream (`http-chunked-input`),
   after which the router cannot find the next request and closes the connection once the
   answer is out. `Listener` says so (`Connection: close`), so that a client does not send
   its next request on a connection about to close.
"""

from __future__ import annotations

import json
import os
import socket
import struct
from collections.abc import Callable, Iterable, Iterator

MAX_URI_BYTES = 8 * 1024
MAX_HEADER_BYTES = 16 * 1024

_ABORT = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() resets the connection
_GRACEFUL = struct.pack("ii", 0, 0)

try:
    import uwsgi
except ImportError:  # imported outside uWSGI (tests, tools): the middleware passes through
    uwsgi = None


def set_tcp_nodelay_on_listeners() -> list[str]:
    """TCP_NODELAY on every listening TCP socket of this process; the addresses changed."""
    changed = []
    for name in os.listdir("/proc/self/fd"):
        try:
            sock = socket.socket(fileno=int(name))
        except OSError:  # not a socket
            continue
        try:
            listening = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
            if listening and sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                host, port = sock.getsockname()[:2]
                changed.append(f"{host}:{port}")
        except OSError:
            pass
        finally:
            sock.detach()  # the descriptor stays uWSGI's
    return changed


def _set_linger(fd: int, value: bytes) -> None:
    sock = socket.socket(fileno=fd)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, value)
    except OSError:
        pass  # a Unix socket or an already closed connection: nothing to arm
    finally:
        sock.detach()


def _too_large(status: int, title: str, detail: str, start_response) -> list[bytes]:
    if uwsgi is not None:  # the app, which names the path in uWSGI's log, never saw it
        uwsgi.set_logvar("safe_path", "-")
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail}
    ).encode()
    start_response(
        f"{status} {title}",
        [
            ("Content-Type", "application/problem+json"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ],
    )
    return [body]


def _closing(start_response: Callable) -> Callable:
    def start(status: str, headers: list, *args):
        headers = [(k, v) for k, v in headers if k.lower() != "connection"]
        return start_response(status, [*headers, ("Connection", "close")], *args)

    return start


class _Disarm:
    """The app's response iterable, disarming the abortive close once it is fully sent."""

    def __init__(self, iterable: Iterable[bytes], fd: int):
        self.iterable, self.fd = iterable, fd

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.iterable)

    def close(self) -> None:
        try:
            if hasattr(self.iterable, "close"):
                self.iterable.close()
        finally:
            _set_linger(self.fd, _GRACEFUL)


class Listener:
    """WSGI middleware for the app served by deploy/uwsgi.ini (see the module's docstring)."""

    def __init__(self, app: Callable):
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        # Not REQUEST_URI: deploy/uwsgi.ini keeps the raw target (and its tokens) out of it.
        target = len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", "")) + 1
        if target > MAX_URI_BYTES:
            detail = f"The request target is longer than {MAX_URI_BYTES} bytes."
            return _too_large(414, "URI Too Long", detail, start_response)
        header_bytes = sum(len(k) - 5 + len(v) + 4 for k, v in environ.items()
                           if k.startswith("HTTP_"))  # fmt: skip
        if header_bytes > MAX_HEADER_BYTES:
            detail = f"The request's headers are larger than {MAX_HEADER_BYTES} bytes."
            return _too_large(431, "Request Header Fields Too Large", detail, start_response)
        if uwsgi is None:
            return self.app(environ, start_response)

        fd = uwsgi.connection_fd()
        _set_linger(fd, _ABORT)
        sent_files = []
        file_wrapper = environ.get("wsgi.file_wrapper")
        if file_wrapper:

            def wrap_file(*args, **kwargs):
                sent_files.append(file_wrapper(*args, **kwargs))
                return sent_files[-1]

            environ["wsgi.file_wrapper"] = wrap_file
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            start_response = _closing(start_response)
        result = self.app(environ, start_response)
        if sent_files and result is sent_files[-1]:
            # uWSGI sends this file itself (sendfile) only if it gets the very object back.
            _set_linger(fd, _GRACEFUL)
            return result
        return _Disarm(result, fd)


if uwsgi is not None and uwsgi.worker_id() == 0:  # the master, through `shared-import`
    print("TCP_NODELAY on " + ", ".join(set_tcp_nodelay_on_listeners()))  # noqa: T201
