"""GET /health (liveness) and GET /ping (readiness)."""

import pytest
from flask_migrate import downgrade

from config import MIGRATIONS_DIR
from my_app.services.health import migration_heads
from tests.support import services


def test_health_is_ok(client):
    assert client.get("/health").json == {"status": "ok"}


def test_ping_reports_database_and_migrations_at_head(client, app):
    response = client.get("/ping")
    assert response.status_code == 200
    head = ",".join(sorted(migration_heads(app.config["MIGRATIONS_DIR"])))
    assert response.json == {
        "status": "ok",
        "database": "ok",
        "migrations": "current",
        "revision": head,
    }


def test_ping_is_503_when_the_schema_is_behind(app, client):
    with app.app_context():
        downgrade(directory=str(MIGRATIONS_DIR), revision="0001")
    response = client.get("/ping")
    heads = migration_heads(app.config["MIGRATIONS_DIR"])
    if heads == {"0001"}:
        pytest.skip("only one migration exists; nothing to be behind")
    assert response.status_code == 503
    assert response.json["migrations"] == "behind"
    assert response.json["database"] == "ok"


def test_ping_is_503_when_migrations_were_never_applied(make_app, stack, tmp_path):
    app = make_app(blacklist=stack[1], SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/empty.db")
    response = app.test_client().get("/ping")
    assert response.status_code == 503
    assert response.json["migrations"] == "not applied"
    assert response.json["status"] != "ok"


@pytest.mark.parametrize("stack", [("sqlite", "database")])
def test_ping_is_503_when_the_database_is_unreachable(make_app, stack):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{services.free_port()}/none"
    app = make_app(SQLALCHEMY_DATABASE_URI=url, TESTING=False)
    response = app.test_client().get("/ping")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"
    assert set(response.json) == {"status", "database", "migrations", "revision"}
    assert app.test_client().get("/health").status_code == 200


def _alembic_heads(directory) -> frozenset[str]:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", str(directory))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def test_migration_heads_are_alembics():
    assert migration_heads(str(MIGRATIONS_DIR)) == _alembic_heads(MIGRATIONS_DIR)


@pytest.mark.parametrize(
    ("links", "heads"),
    [
        ({"a": None, "b": "a", "c": "a"}, {"b", "c"}),  # two branches
        ({"a": None, "b": "a", "c": "a", "d": ("b", "c")}, {"d"}),  # merged again
        ({"a": None}, {"a"}),
    ],
)
def test_migration_heads_follow_branches_and_merges_as_alembic_does(tmp_path, links, heads):
    (tmp_path / "versions").mkdir()
    (tmp_path / "script.py.mako").write_text((MIGRATIONS_DIR / "script.py.mako").read_text())
    for revision, down in links.items():
        (tmp_path / "versions" / f"{revision}_step.py").write_text(
            f'"""step {revision}"""\n\nrevision = {revision!r}\ndown_revision = {down!r}\n'
            "branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    pass\n"
        )
    assert migration_heads(str(tmp_path)) == heads == _alembic_heads(tmp_path)
