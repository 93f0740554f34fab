"""flask generate-keys / rotate-password against Secrets Manager (moto)."""

import json

import boto3
import pytest
from moto import mock_aws

from config import ProductionConfig
from my_app.extensions import db

pytestmark = [pytest.mark.parametrize("stack", [("sqlite", "database")])]
REGION = "us-east-1"


@pytest.fixture
def aws():
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


def _secret(aws, name):
    return json.loads(aws.get_secret_value(SecretId=name)["SecretString"])


def test_generate_keys_stores_two_strong_distinct_keys_that_production_accepts(runner, aws):
    result = runner.invoke(args=["generate-keys", "--secret-id", "my_app/prod"])
    assert result.exit_code == 0, result.output
    values = _secret(aws, "my_app/prod")
    assert values["SECRET_KEY"] != values["JWT_SECRET_KEY"]
    assert all(len(values[k]) >= 32 for k in ("SECRET_KEY", "JWT_SECRET_KEY"))
    assert values["SECRET_KEY"] not in result.output
    config = ProductionConfig({"AWS_SECRET_ID": "my_app/prod", "AWS_REGION": REGION})
    assert values["SECRET_KEY"] == config.SECRET_KEY


def test_generate_keys_keeps_other_values_and_refuses_to_overwrite_without_rotate(runner, aws):
    aws.create_secret(Name="s", SecretString=json.dumps({"DATABASE_URL": "postgres://x/y"}))
    assert runner.invoke(args=["generate-keys", "--secret-id", "s"]).exit_code == 0
    first = _secret(aws, "s")
    assert first["DATABASE_URL"] == "postgres://x/y"
    refused = runner.invoke(args=["generate-keys", "--secret-id", "s"])
    assert refused.exit_code != 0
    assert "--rotate" in refused.output
    assert _secret(aws, "s") == first
    assert runner.invoke(args=["generate-keys", "--secret-id", "s", "--rotate"]).exit_code == 0
    assert _secret(aws, "s")["SECRET_KEY"] != first["SECRET_KEY"]


def test_rotate_password_stores_a_new_password_that_logs_in_and_ends_sessions(api, runner, aws):
    alice = api.user("alice")
    result = runner.invoke(
        args=["rotate-password", "--username", "alice", "--secret-id", "pw/alice"]
    )
    assert result.exit_code == 0, result.output
    stored = _secret(aws, "pw/alice")
    assert stored["username"] == "alice"
    assert stored["password"] not in result.output
    assert api.login("alice", alice.password).status_code == 401
    assert api.login("alice", stored["password"]).status_code == 200
    assert api.client.get("/me", headers=alice.headers).status_code == 401


def test_rotate_password_for_unknown_user_fails_clearly(runner, aws):
    result = runner.invoke(args=["rotate-password", "--username", "nobody", "--secret-id", "x"])
    assert result.exit_code != 0
    assert "nobody" in result.output


def test_a_database_failure_leaves_the_password_in_the_secret_working(
    api, runner, aws, monkeypatch
):
    api.user("bob")
    assert (
        runner.invoke(
            args=["rotate-password", "--username", "bob", "--secret-id", "pw/bob"]
        ).exit_code
        == 0
    )
    before = _secret(aws, "pw/bob")["password"]

    def failing_commit():
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", failing_commit)
    result = runner.invoke(args=["rotate-password", "--username", "bob", "--secret-id", "pw/bob"])
    monkeypatch.undo()
    assert result.exit_code != 0
    assert "old password still works" in result.output
    assert _secret(aws, "pw/bob")["password"] == before
    assert api.login("bob", before).status_code == 200
