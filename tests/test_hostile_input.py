"""No input, however odd, is a 500: each hostile request of issue 15, on every stack.

Every case answers the contract's status as problem+json and stores nothing.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import socket
import time

import jwt
import pytest
import requests
import sqlalchemy as sa

from my_app.extensions import db, limiter
from my_app.models import User
from my_app.models.booking import BookableResource, BookingRequest
from tests.support.api import bearer, booking_body
from tests.support.uwsgi import ROOT, UWSGIServer, environ_for

FULLWIDTH_ONE = "\uff11"
ARABIC_INDIC_ONE = "\u0661"


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
        return count(User), count(BookingRequest), count(BookableResource)


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == status
    return response.json


def _raw_json(client, path: str, text: str, headers=None):
    """POST `text` as the JSON body, byte for byte (escapes such as \\ud800 stay escapes)."""
    return client.post(
        path, data=text.encode(), content_type="application/json", headers=headers or {}
    )


@pytest.fixture
def requester(api):
    return api.user()


@pytest.fixture
def admin(api):
    return api.admin()


# ---- text: NUL, other controls, lone surrogates ------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"topic": "Talk\u0000"}, "topic"),
        ({"topic": "Talk\u001b[31m"}, "topic"),
        ({"topic": "Tab\tin a title"}, "topic"),
        ({"address": {**booking_body()["address"], "street": "1 Main\u0000"}}, "address.street"),
        ({"address": {**booking_body()["address"], "city": "\u0085Springfield"}}, "address.city"),
    ],
)
def test_submit_with_control_characters_is_422_naming_the_field(
    app, api, requester, overrides, field
):
    before = _counts(app)
    response = api.client.post(
        "/submit_request", json=booking_body(**overrides), headers=requester.headers
    )
    assert field in _problem(response, 422)["errors"]
    assert _counts(app) == before


@pytest.mark.parametrize("surrogate", ["\\ud800", "\\udfff", "x\\ud83d"])
def test_submit_with_a_lone_surrogate_in_topic_is_422(app, api, requester, surrogate):
    before = _counts(app)
    text = json.dumps(booking_body(topic="PLACEHOLDER")).replace("PLACEHOLDER", surrogate)
    response = _raw_json(api.client, "/submit_request", text, requester.headers)
    assert "topic" in _problem(response, 422)["errors"]
    assert _counts(app) == before


def test_a_surrogate_pair_is_one_character_and_is_fine(api, requester):
    text = json.dumps(booking_body(topic="PLACEHOLDER")).replace(
        "PLACEHOLDER", "Talk \\ud83d\\ude00"
    )
    response = _raw_json(api.client, "/submit_request", text, requester.headers)
    assert response.status_code == 201
    assert response.json["topic"] == "Talk \U0001f600"


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("user\\u0000", "whatever1", "username"),
        ("\\ud800", "whatever1", "username"),
        ("someone", "pass\\udfffword", "password"),
        ("someone", "pass\\u0000word", "password"),
    ],
)
def test_login_with_hostile_text_is_422(app, api, username, password, field):
    before = _counts(app)
    text = f'{{"username": "{username}", "password": "{password}"}}'
    assert field in _problem(_raw_json(api.client, "/login", text), 422)["errors"]
    assert _counts(app) == before


@pytest.mark.parametrize(
    "password", ["long enough \\ud800", "long enough \\u0000", "tab\\tpassword"]
)
def test_register_with_a_hostile_password_is_422_and_creates_nobody(app, api, password):
    before = _counts(app)
    text = f'{{"username": "newcomer", "email": "new@example.com", "password": "{password}"}}'
    assert "password" in _problem(_raw_json(api.client, "/register", text), 422)["errors"]
    assert _counts(app) == before


def test_resource_description_keeps_newlines_but_not_nul(app, api, admin):
    ok = api.client.post(
        "/resources",
        json={"name": "Room A", "description": "Line 1\nLine 2"},
        headers=admin.headers,
    )
    assert ok.status_code == 201 and ok.json["description"] == "Line 1\nLine 2"
    before = _counts(app)
    response = api.client.post(
        "/resources", json={"name": "Room B", "description": "a\u0000b"}, headers=admin.headers
    )
    assert "description" in _problem(response, 422)["errors"]
    assert _counts(app) == before


def test_query_filters_refuse_nul(api, admin):
    response = api.client.get("/list_requests?status=pending%00", headers=admin.headers)
    assert "status" in _problem(response, 422)["errors"]


# ---- times outside years 1-9999 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("event_time", "duration"),
    [
        ("9999-12-31T23:59:00Z", 10080),
        ("9999-12-31T23:00:00Z", 61),
        ("9999-12-31T23:00:00-05:00", 60),
        ("0001-01-01T00:00:00+14:00", 60),
    ],
)
def test_submit_with_a_time_leaving_years_1_to_9999_is_422(
    app, api, requester, event_time, duration
):
    before = _counts(app)
    body = booking_body(event_time=event_time, duration_minutes=duration)
    response = api.client.post("/submit_request", json=body, headers=requester.headers)
    assert "event_time" in _problem(response, 422)["errors"]
    assert _counts(app) == before


def test_an_event_ending_exactly_at_the_end_of_9999_is_accepted(api, requester):
    body = booking_body(event_time="9999-12-31T22:59:00Z", duration_minutes=60)
    response = api.client.post("/submit_request", json=body, headers=requester.headers)
    assert response.status_code == 201
    assert response.json["end_time"] == "9999-12-31T23:59:00Z"


@pytest.mark.parametrize(
    "query",
    ["from=9999-12-31T23:00:00-05:00", "to=0001-01-01T00:00:00%2B14:00", "from=garbage"],
)
def test_list_filter_with_a_time_out_of_range_is_422(api, admin, query):
    response = api.client.get(f"/list_requests?{query}", headers=admin.headers)
    _problem(response, 422)


@pytest.mark.parametrize("value", [FULLWIDTH_ONE, ARABIC_INDIC_ONE, "1_0", "+1", " 1"])
def test_list_filter_ids_are_ascii_digits(api, admin, value):
    response = api.client.get(
        "/list_requests", query_string={"resource_id": value}, headers=admin.headers
    )
    assert "resource_id" in _problem(response, 422)["errors"]


# ---- bodies: depth, encoding, size ------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/register", "/submit_request", "/resources"])
def test_json_nested_1000_deep_is_400_on_any_endpoint(app, api, admin, path):
    before = _counts(app)
    text = "[" * 1000 + "]" * 1000
    _problem(_raw_json(api.client, path, text, admin.headers), 400)
    text = '{"a":' * 1000 + "1" + "}" * 1000
    _problem(_raw_json(api.client, path, text, admin.headers), 400)
    assert _counts(app) == before


def test_json_nested_32_deep_is_parsed_33_is_not(api):
    ok = _raw_json(api.client, "/login", "[" * 32 + "]" * 32)
    assert _problem(ok, 422)  # parsed, then refused by the schema
    _problem(_raw_json(api.client, "/login", "[" * 33 + "]" * 33), 400)


def test_brackets_inside_strings_do_not_count_as_nesting(api):
    text = json.dumps({"username": "[" * 100 + '\\"{' * 50, "password": "x"})
    # Parsed, then refused as an unknown account: not a 400.
    assert api.client.post("/login", data=text, content_type="application/json").status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        b'{"username": "caf\xe9", "password": "x"}',  # Latin-1, not UTF-8
        b'\xff\xfe{\x00"\x00a\x00"\x00:\x001\x00}\x00',  # UTF-16
        b'{"username": "a", "password": NaN}',
        b'{"username": "a", "password": Infinity}',
        b'{"username": ' + b"1" * 5000 + b', "password": "x"}',
        b"",
        b"{",
    ],
)
def test_a_body_that_is_not_utf8_json_is_400(app, api, body):
    before = _counts(app)
    _problem(api.client.post("/login", data=body, content_type="application/json"), 400)
    assert _counts(app) == before


# ---- before the gate: what the rate limits' keys read ------------------------------------

# A rate limit's key is made before the endpoint loads its body: the login limit's key reads
# the name in the body, the password-check limit's the token's subject.
HOSTILE_LOGINS = [
    pytest.param(b'{"username": "\\ud800", "password": "whatever1"}', id="lone-surrogate"),
    pytest.param(b'{"username": "x\\udfff", "password": "whatever1"}', id="low-surrogate"),
    pytest.param(b'{"username": "user\\u0000", "password": "whatever1"}', id="nul"),
    pytest.param(b'{"username": "caf\xe9", "password": "whatever1"}', id="not-utf8"),
    pytest.param(b'{"username": "\xff\xfe", "password": "whatever1"}', id="invalid-bytes"),
    pytest.param(b"[" * 2000 + b"]" * 2000, id="nested-2000"),
    pytest.param(b'{"username": ' + b"[" * 2000 + b"]" * 2000 + b"}", id="name-nested-2000"),
    pytest.param(b'{"a":' * 2000 + b"1" + b"}" * 2000, id="objects-nested-2000"),
]


@pytest.fixture(params=[True, False], ids=["testing", "not-testing"])
def limited_app(request, make_app, stack):
    """The app with its rate limits on, as served; TESTING off too, as flask-jwt-extended's and
    Flask-RESTful's error routing differ with it."""
    app = make_app(blacklist=stack[1], TESTING=request.param, RATELIMIT_ENABLED=True)
    with app.app_context():
        limiter.reset()  # the limiter object outlives each test's app (memory storage)
    yield app
    with app.app_context():
        limiter.reset()


@pytest.mark.parametrize("body", HOSTILE_LOGINS)
def test_a_hostile_login_body_is_refused_with_the_rate_limit_on(limited_app, body):
    before = _counts(limited_app)
    response = limited_app.test_client().post("/login", data=body, content_type="application/json")
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    _problem(response, response.status_code)
    assert _counts(limited_app) == before


def test_the_login_limit_still_counts_guesses_after_hostile_bodies(limited_app):
    client = limited_app.test_client()
    for body in HOSTILE_LOGINS:
        client.post("/login", data=body.values[0], content_type="application/json")
    guess = {"username": "nobody", "password": "a wrong guess"}
    statuses = [client.post("/login", json=guess).status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]


def _deep_token(depth: int = 2000) -> str:
    def segment(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

    header, payload = '{"alg": "HS256"}', '{"sub": ' + "[" * depth + "]" * depth + "}"
    return ".".join(segment(part) for part in (header, payload, "x"))


def test_a_hostile_token_on_a_password_change_is_401_with_the_rate_limit_on(limited_app):
    body = {"current_password": "whatever1", "new_password": "another long password"}
    response = limited_app.test_client().post(
        "/change_password", json=body, headers=bearer(_deep_token())
    )
    _problem(response, 401)


def test_non_json_content_type_is_415(api):
    _problem(api.client.post("/login", data="username=a", content_type="text/plain"), 415)


def test_body_over_64_kib_is_413_with_content_length(app, api, requester):
    before = _counts(app)
    body = json.dumps(booking_body(topic="x" * 70_000))
    response = api.client.post(
        "/submit_request", data=body, content_type="application/json", headers=requester.headers
    )
    _problem(response, 413)
    assert _counts(app) == before


def test_chunked_body_over_64_kib_is_413(app, api, requester):
    before = _counts(app)
    body = json.dumps(booking_body(topic="x" * 20_000_00)).encode()
    response = api.client.post(
        "/submit_request",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={**requester.headers, "Transfer-Encoding": "chunked"},
    )
    _problem(response, 413)
    assert _counts(app) == before


def test_small_chunked_body_is_read(api, requester):
    body = json.dumps(booking_body()).encode()
    response = api.client.post(
        "/submit_request",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={**requester.headers, "Transfer-Encoding": "chunked"},
    )
    assert response.status_code == 201, response.json


# ---- ids in paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_id",
    [
        FULLWIDTH_ONE,
        ARABIC_INDIC_ONE,
        "01",
        "0",
        "-1",
        "+1",
        "1.0",
        str(2**31),  # above the rows' 32-bit range, within 64-bit
        str(2**63 - 1),
        str(2**63),
        "9" * 5000,
    ],
)
def test_an_id_in_a_path_that_is_not_plain_ascii_digits_in_range_is_404(api, requester, raw_id):
    booking = api.booking(requester)
    assert booking["id"] == 1
    for path in (f"/request/{raw_id}", f"/request/{raw_id}/history", f"/user/{raw_id}"):
        _problem(api.client.get(path, headers=requester.headers), 404)
    assert api.client.get("/request/1", headers=requester.headers).status_code == 200


# ---- tokens ------------------------------------------------------------------------------


def _forged(app, requester, **changes) -> str:
    """The requester's access token, re-signed with the real key after `changes` (None drops)."""
    claims = jwt.decode(
        requester.tokens["access_token"],
        app.config["JWT_SECRET_KEY"],
        algorithms=["HS256"],
        options={"verify_aud": False},  # re-signed as issued, audience and all
    )
    for name, value in changes.items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value
    return jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": None},
        {"iat": None},
        {"nbf": None},
        {"jti": None},
        {"type": None},
        {"sid": None},
        {"ver": None},
        {"sub": "9223372036854775808"},
        {"sub": "2147483648"},
        {"sub": FULLWIDTH_ONE},
        {"sub": "01"},
        {"sub": " 1"},
        {"sub": "-1"},
        {"sub": 1},
        {"sub": "1" * 5000},
        {"type": "other"},
        {"ver": "0"},
        {"jti": 5},
    ],
)
def test_a_token_not_shaped_as_we_issue_it_is_401(app, api, requester, changes):
    token = _forged(app, requester, **changes)
    response = api.client.get("/me", headers=bearer(token))
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_without_exp_is_refused_even_long_after(app, api, requester):
    token = _forged(app, requester, exp=None, iat=int(time.time()) - 10**7)
    _problem(api.client.get("/me", headers=bearer(token)), 401)


def test_the_untouched_token_still_works(app, api, requester):
    assert api.client.get("/me", headers=bearer(_forged(app, requester))).status_code == 200


# ---- the same bodies through the production server ---------------------------------------


def _chunked_post(port: int, path: str, chunks: list[bytes]) -> bytes:
    """POST `chunks` with Transfer-Encoding: chunked over a raw socket; the response's head."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
        )
        try:
            for chunk in chunks:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before reading everything
        response = b""
        with contextlib.suppress(OSError):
            while data := sock.recv(65536):
                response += data
    return response


@pytest.mark.parametrize("stack", [("sqlite", "database")])
def test_chunked_bodies_under_uwsgi(app, stack):
    login = json.dumps({"username": "nobody", "password": "whatever"}).encode()
    with UWSGIServer(environ_for(app), processes=1, ini=ROOT / "deploy" / "uwsgi.ini") as server:
        # A small chunked body is read (then refused as an unknown account).
        assert _chunked_post(server.port, "/login", [login[:10], login[10:]]).startswith(
            b"HTTP/1.1 401"
        )
        for chunks in ([b"x" * 65536] * 320, [b"x" * 2_000_000]):  # 20 MB; one 2 MB chunk
            response = _chunked_post(server.port, "/login", chunks)
            assert response.startswith(b"HTTP/1.1 413"), response[:200]
            assert b"application/problem+json" in response


@pytest.mark.parametrize("stack", [("sqlite", "database")])
def test_hostile_logins_under_uwsgi_with_the_rate_limit_on(app, stack):
    environ = {**environ_for(app), "APP_ENV": "development"}  # as `make serve`: limits on
    with UWSGIServer(environ, processes=1, ini=ROOT / "deploy" / "uwsgi.ini") as server:
        for param in HOSTILE_LOGINS:
            (body,) = param.values
            response = requests.post(
                f"{server.url}/login",
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=10,
            )
            assert response.status_code in (400, 422), (param.id, response.text)
            assert response.headers["Content-Type"] == "application/problem+json"
        # A chunked body is read once, for the limit's key and the endpoint alike.
        login = json.dumps({"username": "nobody", "password": "whatever"}).encode()
        head = _chunked_post(server.port, "/login", [login[:10], login[10:]])
        assert head.startswith(b"HTTP/1.1 401"), head[:200]
