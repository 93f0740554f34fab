"""flask --app wsgi create-admin / prune-blacklist, as an operator runs them."""

import pytest

ARGS = ["create-admin", "--username", "root", "--email", "root@example.com"]


def test_create_admin_makes_a_confirmed_active_admin(runner, api):
    result = runner.invoke(args=[*ARGS, "--password", "a long password"])
    assert result.exit_code == 0, result.output
    assert "root" in result.output
    tokens = api.login("root", "a long password").json
    me = api.client.get("/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json
    assert (me["role"], me["status"], me["confirmed"]) == ("admin", "active", True)


def test_create_admin_reads_the_password_from_the_environment(runner, api):
    result = runner.invoke(args=ARGS, env={"ADMIN_PASSWORD": "from the environment"})
    assert result.exit_code == 0, result.output
    assert api.login("root", "from the environment").status_code == 200


def test_create_admin_prompts_for_the_password(runner, api):
    result = runner.invoke(args=ARGS, input="typed password\ntyped password\n")
    assert result.exit_code == 0, result.output
    assert api.login("root", "typed password").status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", "short"], "password"),
        (["--password", "a long password", "--email", "not-an-email"], "email"),
    ],
)
def test_create_admin_refuses_invalid_input(runner, args, message):
    result = runner.invoke(args=[*ARGS, *args])
    assert result.exit_code != 0
    assert message in result.output


def test_create_admin_refuses_duplicates_clearly(runner):
    assert runner.invoke(args=[*ARGS, "--password", "a long password"]).exit_code == 0
    again = runner.invoke(args=[*ARGS, "--password", "a long password"])
    assert again.exit_code != 0
    assert "taken" in again.output
