"""The one error path: everything is problem+json, nothing internal leaks."""

import pytest

from tests.support import services
from tests.support.api import assert_problem, bearer


def test_unknown_path_is_404_problem(client):
    assert_problem(client.get("/no/such/path"), 404)


def test_wrong_method_is_405_problem_with_allow(client):
    response = client.delete("/login")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_trailing_slash_does_not_matter(client):
    assert client.get("/health").json == client.get("/health/").json == {"status": "ok"}


@pytest.fixture
def quiet_app(make_app, stack):
    """An app with TESTING off, as in production, plus a route that fails."""
    app = make_app(blacklist=stack[1], TESTING=False)

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internal detail: SELECT * FROM users")

    return app


def test_unexpected_error_is_a_bare_500_problem(quiet_app):
    response = quiet_app.test_client().get("/boom")
    assert_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_flask_restful_routes_keep_problem_json_with_testing_off(quiet_app):
    client = quiet_app.test_client()
    assert_problem(client.post("/register", data="x", content_type="text/plain"), 415)
    assert_problem(client.post("/register", json={"username": 1}), 422)
    assert_problem(client.get("/me", headers=bearer("x.y.z")), 401)
    assert_problem(client.get("/users", headers={}), 401)


def test_validation_problem_lists_errors_per_field(client):
    response = client.post("/register", json={"username": "x", "email": "bad"})
    assert_problem(response, 422)
    assert set(response.json["errors"]) == {"username", "email", "password"}
    assert all(isinstance(m, list) for m in response.json["errors"].values())


def test_body_too_large_is_413_problem(client):
    response = client.post("/register", data="x" * 100_000, content_type="application/json")
    assert_problem(response, 413)


@pytest.mark.parametrize("stack", [("sqlite", "database")])
def test_database_down_is_503(make_app, stack):
    port = services.free_port()
    app = make_app(
        SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{port}/none",
        TESTING=False,
    )
    client = app.test_client()
    assert_problem(client.post("/login", json={"username": "a", "password": "b"}), 503)
    assert "Retry-After" in client.post("/login", json={"username": "a", "password": "b"}).headers


@pytest.mark.parametrize("stack", [("postgresql", "redis")])
def test_redis_down_refuses_to_let_tokens_through_unchecked(make_app, mailbox, stack):
    app = make_app(blacklist="redis")
    from tests.support.api import ApiClient

    account = ApiClient(app.test_client(), app.test_cli_runner(), mailbox).user()
    broken = make_app(blacklist="redis", REDIS_URL=f"redis://127.0.0.1:{services.free_port()}/0")
    response = broken.test_client().get("/me", headers=account.headers)
    assert_problem(response, 503)


def test_api_responses_are_not_cached_or_sniffed(client):
    for response in (client.get("/health"), client.get("/nope")):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_request_id_is_echoed_or_made_up(client):
    assert (
        client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    generated = client.get("/health", headers={"X-Request-ID": "bad id;<script>"}).headers[
        "X-Request-ID"
    ]
    assert len(generated) == 32 and generated.isalnum()


@pytest.mark.parametrize("stack", [("sqlite", "database")])
def test_cors_allows_only_configured_origins(make_app, stack):
    client = make_app(CORS_ORIGINS=["https://app.example"]).test_client()
    allowed = client.get("/health", headers={"Origin": "https://app.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    other = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


SQL_CANARY = "sql-parameter-canary-5f3a9c"


@pytest.fixture
def failing_sql_app(make_app, stack):
    """An app with a route whose statement fails, its parameters carrying `SQL_CANARY`."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from my_app.extensions import db

    app = make_app(blacklist=stack[1], TESTING=False)

    @app.route("/bad-insert")
    def bad_insert():  # users.email and the rest are NOT NULL
        db.session.execute(text("INSERT INTO users (username) VALUES (:u)"), {"u": SQL_CANARY})

    @app.route("/bug-while-handling")
    def bug_while_handling():
        try:
            bad_insert()
        except DBAPIError:  # a bug while handling it: its traceback shows the first error
            raise KeyError("a bug in the handler")  # noqa: B904

    return app


@pytest.mark.parametrize("path", ["/bad-insert", "/bug-while-handling"])
def test_a_failed_statement_is_logged_without_its_parameters(failing_sql_app, path, caplog, capfd):
    response = failing_sql_app.test_client().get(path)
    assert_problem(response, 500)
    assert "INSERT INTO users" in caplog.text  # the statement, not its values
    assert "Traceback" in caplog.text
    assert SQL_CANARY not in caplog.text + "".join(capfd.readouterr())


@pytest.mark.parametrize("stack", [("postgresql", "redis")])
def test_a_statement_that_times_out_is_logged_without_its_parameters(
    make_app, stack, caplog, capfd
):
    from sqlalchemy import text

    from my_app.extensions import db

    app = make_app(blacklist="redis", TESTING=False, DATABASE_TIMEOUT_SECONDS=0.5)
    with app.app_context():
        from my_app.database import set_statement_bound

        set_statement_bound(0.3)

    @app.route("/slow")
    def slow():
        db.session.execute(text("SELECT pg_sleep(5), :u"), {"u": SQL_CANARY})

    assert_problem(app.test_client().get("/slow"), 503)
    assert "dependency unavailable" in caplog.text and "pg_sleep" in caplog.text
    assert SQL_CANARY not in caplog.text + "".join(capfd.readouterr())
