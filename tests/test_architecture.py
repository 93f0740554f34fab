"""The layers of docs/architecture.md hold, and nothing imports in a circle."""

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_layers_import_only_downwards():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_of_my_app_imports_itself_in_a_circle():
    graph = grimp.build_graph("my_app")
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            chain = graph.find_shortest_chain(importer=imported, imported=importer)
            if chain:
                cycles.append((importer, *chain))
    assert cycles == []


def test_config_and_the_revocation_store_stand_below_the_app():
    for module in ("config.py", "blacklist.py", "redis_client.py"):
        tree = ast.parse((ROOT / module).read_text())
        names = [
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        ]
        assert not [name for name in names if name and name.split(".")[0] == "my_app"], module


# What a worker never needs to answer a request: migration and AWS tooling (imported where
# a command or a configured backend uses them), the calendar library (by the feed), and
# anything from testing or notebooks. Each costs every worker memory (bench/run.py).
NOT_SERVED = {
    "alembic", "flask_migrate", "mako", "pygments",
    "boto3", "botocore", "s3transfer",
    "icalendar",
    "pytest", "hypothesis", "schemathesis", "selenium", "moto", "IPython", "nbformat", "zxcvbn",
}  # fmt: skip


def test_the_served_app_imports_no_tooling():
    probe = "import sys, deploy.serve; print(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "APP_ENV": "development"},
    )
    assert result.returncode == 0, result.stderr
    loaded = {name.split(".")[0] for name in result.stdout.split()}
    assert "my_app" in loaded
    assert loaded & NOT_SERVED == set()
