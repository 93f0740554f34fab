"""flask generate-keys / rotate-password against Secrets Manager (moto)."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from config import ProductionConfig
from my_app.commands import aws as aws_commands
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
    config = ProductionConfig(
        {"AWS_SECRET_ID": "my_app/prod", "AWS_REGION": REGION, "MAIL_BACKEND": "ses"}
    )
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

    monkeypatch.setattr(db.session, "commit", _database_went_away)
    result = runner.invoke(args=["rotate-password", "--username", "bob", "--secret-id", "pw/bob"])
    monkeypatch.undo()
    assert result.exit_code != 0
    assert "old password still works" in result.output
    assert "holds it again" in result.output
    assert _secret(aws, "pw/bob")["password"] == before
    assert api.login("bob", before).status_code == 200


def test_rotate_password_fails_between_secret_and_database_with_no_way_back_the_old_one_works(
    api, runner, aws, monkeypatch
):
    """The worst case: the database update fails and the secret cannot be put back either
    (as if the process died in between). The old password is the secret's AWSPREVIOUS."""
    carol = api.user("carol")
    aws.create_secret(
        Name="pw/carol", SecretString=json.dumps({"username": "carol", "password": carol.password})
    )
    client = boto3.client("secretsmanager", region_name=REGION)
    writes = []

    def refuse_the_second_write(**kwargs):
        writes.append(kwargs)
        if len(writes) > 1:
            raise ClientError({"Error": {"Code": "InternalServiceError"}}, "PutSecretValue")

    client.meta.events.register(
        "before-call.secrets-manager.PutSecretValue", refuse_the_second_write
    )
    monkeypatch.setattr(aws_commands, "_client", lambda: client)
    monkeypatch.setattr(db.session, "commit", _database_went_away)
    result = runner.invoke(
        args=["rotate-password", "--username", "carol", "--secret-id", "pw/carol"]
    )
    monkeypatch.undo()

    assert result.exit_code != 0
    assert "AWSPREVIOUS" in result.output
    current = _secret(aws, "pw/carol")["password"]
    previous = json.loads(
        aws.get_secret_value(SecretId="pw/carol", VersionStage="AWSPREVIOUS")["SecretString"]
    )["password"]
    assert current != carol.password
    assert api.login("carol", current).status_code == 401
    assert previous == carol.password
    assert api.login("carol", previous).status_code == 200


def test_rotate_password_keeps_the_secrets_other_keys(api, runner, aws):
    api.user("dave")
    aws.create_secret(Name="pw/dave", SecretString=json.dumps({"note": "break-glass account"}))
    result = runner.invoke(args=["rotate-password", "--username", "dave", "--secret-id", "pw/dave"])
    assert result.exit_code == 0, result.output
    stored = _secret(aws, "pw/dave")
    assert stored["note"] == "break-glass account"
    assert api.login("dave", stored["password"]).status_code == 200


def test_rotate_password_refuses_a_secret_that_keeps_another_users_password(api, runner, aws):
    erin = api.user("erin")
    api.user("frank")
    body = json.dumps({"username": "frank", "password": "frank's password"})
    aws.create_secret(Name="pw/frank", SecretString=body)
    result = runner.invoke(
        args=["rotate-password", "--username", "erin", "--secret-id", "pw/frank"]
    )
    assert result.exit_code != 0
    assert "frank" in result.output
    assert aws.get_secret_value(SecretId="pw/frank")["SecretString"] == body
    assert api.login("erin", erin.password).status_code == 200


def _database_went_away():
    raise RuntimeError("database went away")
