"""The console's files as served: security headers, no inline code, every page the same shell."""

from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "my_app" / "console" / "static"
PAGES = ["/app/", "/app", "/app/sign-in", "/app/queue", "/app/reset-password?token=abc"]


@pytest.fixture
def stack():
    return ("sqlite", "database")


@pytest.mark.parametrize("path", [*PAGES, "/app/assets/js/main.js", "/app/countries.json"])
def test_every_console_response_carries_a_strict_csp_and_refuses_framing(client, path):
    response = client.get(path)
    response.close()
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    policy = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_the_console_shell(client, path):
    response = client.get(path)
    assert response.mimetype == "text/html"
    assert b'<script type="module" src="/app/assets/js/main.js">' in response.data


def test_a_path_that_names_no_page_is_404(client):
    assert client.get("/app/..%2Fconfig.py").status_code == 404
    assert client.get("/app/assets/../../config.py").status_code == 404


def test_the_country_list_is_what_the_api_accepts(client, api):
    countries = client.get("/app/countries.json").json["countries"]
    assert {"code": "FR", "name": "France"} in countries
    assert len({c["code"] for c in countries}) == len(countries) >= 249
    requester = api.user()
    for country in (countries[0], countries[-1]):
        response = api.submit(requester, address={"street": "1 Main", "city": "X",
                                                  "country": country["code"]})  # fmt: skip
        assert response.status_code == 201, response.json
        assert response.json["address"]["country"] == country["code"]


def test_the_console_has_no_inline_script_or_style_and_never_writes_html():
    html = (STATIC / "index.html").read_text()
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    for script in STATIC.rglob("*.js"):
        source = script.read_text()
        for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                          "localStorage", "sessionStorage", "eval(", ".style."):  # fmt: skip
            assert forbidden not in source, f"{script.name} uses {forbidden}"
