"""Every deployment file is checked: compose against the compose spec, the Dockerfile by
hadolint, the CodeBuild/CodeDeploy specs against their schemas, the hook scripts by
shellcheck, the build context by what it holds."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from docker.utils.build import exclude_paths

from tests.support import services

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCHEMAS = Path(__file__).parent / "schemas"


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is installed with the dev extras"
    return found


def _load(path: str):
    return yaml.safe_load((ROOT / path).read_text())


@pytest.mark.parametrize("compose", ["docker-compose-dev.yaml", "docker-compose-prd.yaml"])
def test_compose_file_is_valid_under_the_compose_specification(compose):
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(ROOT / compose)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_compose_runs_the_stack_with_health_checks_and_restarts():
    services = _load("docker-compose-prd.yaml")["services"]
    assert {"app", "nginx", "postgres", "redis"} <= set(services)
    for name, service in services.items():
        assert "healthcheck" in service, name
        assert service["restart"] == "unless-stopped", name
    local = {"path": "prod.local.env", "required": False}  # real values, ignored by git
    assert services["app"]["env_file"] == services["postgres"]["env_file"] == ["prod.env", local]
    assert "*.local.env" in (ROOT / ".gitignore").read_text().split()
    for mounted in services["nginx"]["volumes"]:
        assert (ROOT / mounted.split(":")[0]).exists(), mounted


def test_development_compose_has_app_database_cache_and_mail_catcher():
    services = _load("docker-compose-dev.yaml")["services"]
    assert {"app", "postgres", "redis", "mailpit"} <= set(services)
    assert "--debug" in services["app"]["command"]


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [_tool("hadolint"), "--config", str(ROOT / ".hadolint.yaml"), str(ROOT / "Dockerfile")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck_and_uwsgi():
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("\nFROM python:3.11") + text.startswith("FROM python:3.11") >= 2
    assert "\nUSER 10001" in text
    assert "HEALTHCHECK" in text and "/health" in text
    assert "uwsgi --ini deploy/uwsgi.ini" in text


def _build_context(root: Path) -> set[str]:
    """The files `docker build` sends from `root`, by .dockerignore's rules as the Docker SDK
    implements them (the engine's own matcher, ported)."""
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return {path for path in exclude_paths(str(root), patterns) if (root / path).is_file()}


IMAGE_NEEDS = [
    "setup.py", "wsgi.py", "config.py", "blacklist.py", "my_app/__init__.py",
    "my_app/commands/__init__.py", "migrations/env.py", "migrations/alembic.ini",
    "deploy/uwsgi.ini",
]  # fmt: skip


def test_build_context_holds_what_the_image_needs_and_nothing_local():
    context = _build_context(ROOT)
    for needed in IMAGE_NEEDS:
        assert needed in context, needed
    assert any(p.startswith("migrations/versions/") and p.endswith(".py") for p in context)
    for path in context:
        assert not path.startswith((".venv/", ".git/", "instance/", "tests/")), path
        assert "__pycache__" not in path, path
        assert not path.endswith((".pem", ".key", ".sqlite", ".env")), path


@pytest.mark.parametrize(
    "secret",
    [".env", ".env.prod", "prod.env", "dev.env", "deploy/site.env", "deploy/tls.key",
     "server.pem", ".aws/credentials", ".venv/bin/python", "venv/bin/python",
     "instance/app.sqlite", ".git/config", "my_app/__pycache__/x.cpython-311.pyc"],
)  # fmt: skip
def test_build_context_leaves_out_secrets_and_local_state(tmp_path, secret):
    for path in [*IMAGE_NEEDS, secret]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    context = _build_context(tmp_path)
    assert secret not in context
    assert set(IMAGE_NEEDS) <= context


@pytest.mark.parametrize(
    ("spec", "schema"),
    [("buildspec.yml", "buildspec.schema.json"), ("appspec.yml", "appspec.schema.json")],
)
def test_aws_spec_is_valid_under_its_schema(spec, schema):
    jsonschema.validate(_load(spec), json.loads((SCHEMAS / schema).read_text()))


def test_appspec_hooks_exist_and_are_executable():
    hooks = _load("appspec.yml")["hooks"]
    assert list(hooks) == [
        "ApplicationStop", "BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService",
    ]  # fmt: skip
    for entries in hooks.values():
        for entry in entries:
            script = ROOT / entry["location"]
            assert script.exists() and script.stat().st_mode & 0o111, script


def test_buildspec_ships_every_file_the_deployment_needs():
    artifacts = _load("buildspec.yml")["artifacts"]["files"]
    for needed in ["appspec.yml", "wsgi.py", "my_app/**/*", "migrations/**/*", "deploy/**/*",
                   "scripts/**/*"]:  # fmt: skip
        assert needed in artifacts


def test_hook_scripts_pass_shellcheck():
    scripts = sorted(str(p) for p in (ROOT / "scripts").glob("*.sh"))
    result = subprocess.run([_tool("shellcheck"), *scripts], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        services.unavailable("systemd-analyze is not installed (it comes with systemd)")
    unit = (ROOT / "deploy/my_app.service").read_text()
    assert "ExecStart=/opt/my_app/.venv/bin/uwsgi --ini /opt/my_app/deploy/uwsgi.ini" in unit
    # Where CodeDeploy puts the app, this checkout stands in, so the executables exist.
    unit = unit.replace("/opt/my_app/.venv/bin/", f"{BIN}/").replace("/opt/my_app", str(ROOT))
    (tmp_path / "my_app.service").write_text(unit)
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(tmp_path / "my_app.service")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # no unknown keys or sections either


def test_buildspec_requires_the_services_and_writes_junit_and_coverage_reports():
    spec = _load("buildspec.yml")
    assert spec["env"]["variables"]["REQUIRE_SERVICES"] == "1"
    installed = " ".join(spec["phases"]["install"]["commands"])
    assert all(name in installed for name in ("nginx", "postgresql", "redis-server"))
    test_run = " ".join(spec["phases"]["build"]["commands"])
    assert "--junitxml=reports/junit.xml" in test_run
    assert "--cov-report=xml:reports/coverage.xml" in test_run
    formats = {report["file-format"] for report in spec["reports"].values()}
    assert formats == {"JUNITXML", "COBERTURAXML"}


@pytest.mark.parametrize(
    ("spec", "schema", "mutate"),
    [
        ("appspec.yml", "appspec.schema.json", lambda d: d.update(version=1.0)),
        ("appspec.yml", "appspec.schema.json", lambda d: d["hooks"].update(AfterInstal=[])),
        ("appspec.yml", "appspec.schema.json", lambda d: d.update(file_exists_behavior="KEEP")),
        ("appspec.yml", "appspec.schema.json", lambda d: d["files"][0].pop("destination")),
        ("buildspec.yml", "buildspec.schema.json", lambda d: d.update(version=0.1)),
        ("buildspec.yml", "buildspec.schema.json", lambda d: d["phases"].update(test={})),
        ("buildspec.yml", "buildspec.schema.json",
         lambda d: d["reports"]["pytest"].update({"file-format": "XUNIT"})),
    ],
)  # fmt: skip
def test_aws_schemas_reject_what_the_references_do_not_allow(spec, schema, mutate):
    document = _load(spec)
    mutate(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, json.loads((SCHEMAS / schema).read_text()))
