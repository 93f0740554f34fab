"""A webhook receiver for tests: a threaded HTTP server that checks signatures.

It answers 500 to the first `fail_first` tries of each event id, 401 to a bad
signature, and 204 otherwise, keeping every accepted event's body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    def __init__(self, secret: str, fail_first: int = 0, delay: float = 0.0):
        self.secret, self.fail_first, self.delay = secret, fail_first, delay
        self.tries: Counter = Counter()  # every POST per event id, failed ones included
        self.accepted: list[dict] = []  # the bodies answered 2xx, in order
        self.bad_signatures = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/bookings"

    def __enter__(self) -> WebhookReceiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def accepted_ids(self) -> Counter:
        with self._lock:
            return Counter(body["id"] for body in self.accepted)

    def _verify(self, body: bytes, header: str) -> bool:
        """What a receiver does: recompute the HMAC and compare in constant time."""
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, header)

    def _receive(self, headers, body: bytes) -> int:
        if not self._verify(body, headers.get("X-Signature", "")):
            with self._lock:
                self.bad_signatures += 1
            return 401
        event = json.loads(body)
        assert headers["X-Event-Id"] == event["id"]
        assert headers["X-Event-Type"] == event["type"]
        time.sleep(self.delay)
        with self._lock:
            self.tries[event["id"]] += 1
            if self.tries[event["id"]] <= self.fail_first:
                return 500
            self.accepted.append(event)
        return 204

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    status = receiver._receive(self.headers, body)
                except (AssertionError, ValueError, KeyError):
                    status = 400
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # keep the test output clean
                pass

        return Handler
