"""GET /docs in a real headless browser: Swagger UI renders the operations with no internet."""

import re
import shutil
import subprocess
import threading

import pytest
from werkzeug.serving import make_server

from tests.support import services

pytestmark = pytest.mark.parametrize("stack", [("sqlite", "database")])
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # No name resolves but the loopback server's: the page must work with no internet.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]  # fmt: skip


@pytest.fixture
def chromium():
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        services.unavailable("chromium is not installed (apt-get install chromium)")
    return binary


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", services.free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_swagger_ui_renders_every_operation_in_a_headless_browser(
    chromium, served, client, tmp_path
):
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path}", "--virtual-time-budget=15000",
         "--enable-logging=stderr", "--v=0", "--dump-dom", f"{served}/docs/"],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    dom = result.stdout
    assert "opblock" in dom, result.stderr[-2000:]
    # The page's Content-Security-Policy blocks nothing it needs (no inline script).
    refused = [line for line in result.stderr.splitlines() if "Content Security Policy" in line]
    assert refused == []
    rendered = set(re.findall(r'class="opblock opblock-(\w+)[^"]*" id="operations-', dom))
    assert rendered >= {"get", "post", "patch", "delete"}
    operations = [
        (method, path)
        for path, item in client.get("/openapi.json").json["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(re.findall(r'id="operations-(?!tag-)', dom)) == len(operations)
    for method, path in operations:
        assert f'data-path="{path}"' in dom, (method, path)
