"""The layers of docs/architecture.md hold; no Python or console module imports in a circle."""

import ast
import graphlib
import re
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


CONSOLE_JS = ROOT / "my_app" / "console" / "static" / "js"
# `import … from "x"`, `import "x"`, `export … from "x"` at the start of a statement; `import("x")`.
ES_IMPORT = re.compile(
    r"""^\s*(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']"""
    r"""|^\s*import\s*["']([^"']+)["']"""
    r"""|\bimport\(\s*["']([^"']+)["']\s*\)""",
    re.MULTILINE,
)


def console_imports() -> dict[str, set[str]]:
    """Each console module (a path under js/) and the console modules it imports."""
    graph = {}
    for module in sorted(CONSOLE_JS.rglob("*.js")):
        imported = set()
        for match in ES_IMPORT.finditer(module.read_text()):
            target = (module.parent / next(filter(None, match.groups()))).resolve()
            assert target.is_file(), f"{module.relative_to(CONSOLE_JS)} imports {target}"
            imported.add(target.relative_to(CONSOLE_JS).as_posix())
        graph[module.relative_to(CONSOLE_JS).as_posix()] = imported
    return graph


def test_every_console_module_is_reached_from_main_js():
    graph = console_imports()
    reached, todo = set(), ["main.js"]
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo.extend(graph[module])
    assert reached == set(graph)
    assert "router.js" in graph["pages/requests.js"]


def test_no_module_of_the_console_imports_itself_in_a_circle():
    try:
        list(graphlib.TopologicalSorter(console_imports()).static_order())
    except graphlib.CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None


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
    "apispec", "pythonjsonlogger", "flask_cors",
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


def test_only_digests_imports_hashlib():
    """The app's SHA-256 is CPython's (my_app/digests.py): one digest through OpenSSL would
    leave about 0.7 MB of OpenSSL's code resident in each worker that computed it."""
    importers = []
    for path in sorted((ROOT / "my_app").rglob("*.py")):
        tree = ast.parse(path.read_text())
        names = [
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        ]
        if "hashlib" in names:
            importers.append(str(path.relative_to(ROOT)))
    assert importers == ["my_app/digests.py"]
