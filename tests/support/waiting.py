"""Waiting for a server that was just started."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import requests


def _ok(response: requests.Response) -> bool:
    return response.status_code == 200


def wait_until_ready(
    url: str,
    process: subprocess.Popen | None = None,
    ready: Callable[[requests.Response], bool] = _ok,
    timeout: float = 30,
    output: Callable[[], str] = lambda: "",
) -> requests.Response:
    """GET `url` until `ready(response)` (by default: a 200); the response. Fails early when
    `process` exits, and after `timeout` seconds, either way with `output()` (e.g. its log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}:\n{output()}")
        try:
            response = requests.get(url, timeout=2)
            if ready(response):
                return response
        except (requests.ConnectionError, requests.Timeout, OSError, ValueError):
            pass  # not listening yet, or `ready` could not ask yet
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready in {timeout:g} s:\n{output()}")
