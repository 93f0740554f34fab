"""LOG_FORMAT=json: one JSON object per line, an access line per request, nothing secret."""

import json
import logging

import pytest

from config import ConfigError, TestingConfig


def _lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_json_format_writes_an_access_line_per_request_with_the_request_fields(make_app, capfd):
    client = make_app(LOG_FORMAT="json").test_client()
    capfd.readouterr()
    response = client.get("/user_confirm/secret-token?next=hidden", headers={"X-Request-ID": "r-1"})
    assert response.status_code == 400
    out = capfd.readouterr().err
    assert "secret-token" not in out and "hidden" not in out
    (access,) = [line for line in _lines(out) if line["logger"] == "my_app.access"]
    assert access["request_id"] == "r-1"
    assert (access["method"], access["path"], access["status"]) == (
        "GET", "/user_confirm/<string:token>", 400,
    )  # fmt: skip
    assert access["level"] == "INFO" and access["time"].endswith("+00:00")
    assert access["user_id"] is None and access["duration_ms"] >= 0
    assert access["message"] == "GET /user_confirm/<string:token> 400"


def test_json_lines_name_the_user_of_the_token(api, make_app, capfd):
    app = make_app(LOG_FORMAT="json")
    api.client = app.test_client()
    account = api.user()
    capfd.readouterr()
    assert api.client.get("/me", headers=account.headers).status_code == 200
    (access,) = [line for line in _lines(capfd.readouterr().err) if line.get("path") == "/me"]
    assert access["user_id"] == str(account.id)


def test_every_line_is_json_including_errors(make_app, capfd):
    app = make_app(LOG_FORMAT="json")
    capfd.readouterr()
    with app.test_request_context("/me"):
        try:
            raise ValueError("boom")
        except ValueError:
            app.logger.exception("it broke")
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line parses
    (record,) = [r for r in records if r["message"] == "it broke"]
    assert record["level"] == "ERROR" and "ValueError: boom" in record["exc_info"]
    assert (record["method"], record["path"]) == ("GET", "/me")


def test_text_format_writes_no_access_lines(make_app, capfd):
    client = make_app(LOG_FORMAT="text").test_client()
    capfd.readouterr()
    assert client.get("/health").status_code == 200
    assert "my_app.access" not in capfd.readouterr().err


def test_unknown_log_format_is_refused():
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        TestingConfig({"LOG_FORMAT": "xml"})


def test_the_development_server_logs_paths_without_query_strings_or_confirm_tokens(
    make_app, caplog
):
    """`make start` and `flask run` serve with werkzeug, whose access line quotes the raw
    request line: it goes through the same scrubbing as every other log."""
    import threading

    import requests
    from werkzeug.serving import make_server

    from tests.support import services

    server = make_server("127.0.0.1", services.free_port(), make_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    caplog.set_level(logging.INFO, logger="werkzeug")
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert requests.get(f"{base}/health?token=feed-secret-1", timeout=10).status_code == 200
        requests.get(f"{base}/user_confirm/confirm-secret-2?x=1", timeout=10)
        requests.get(f"{base}/app/reset-password?token=reset-secret-3", timeout=10)
    finally:
        server.shutdown()
        thread.join()
    logged = caplog.text
    assert "secret" not in logged
    assert '"GET /health HTTP/1.1" 200' in logged
    assert '"GET /user_confirm/... HTTP/1.1" 400' in logged
    assert '"GET /app/reset-password HTTP/1.1" 200' in logged
