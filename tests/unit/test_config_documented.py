"""Every environment variable config.py reads is named in README's table, dev.env and prod.env.

The names are found by parsing config.py, so a variable added there is checked
without touching this file.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = {"env", "environ"}  # the names config.py gives the mapping it reads
NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def _is_environment(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id in ENVIRONMENT
    return isinstance(node, ast.Attribute) and node.attr == "environ"  # os.environ


def _names(nodes) -> set[str]:
    return {
        node.value
        for node in nodes
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and NAME.fullmatch(node.value)
    }


def variables_read(source: str) -> set[str]:
    """`env.get("X")`, `env["X"]`, `os.getenv("X")` and helpers called as `_int(env, "X", 1)`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and _is_environment(node.value):
            found |= _names([node.slice])
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and (
            _is_environment(func.value) or func.attr == "getenv"
        ):
            found |= _names(node.args[:1])
        elif any(_is_environment(arg) for arg in node.args):
            found |= _names(node.args)
    return found


def readme_table_names() -> set[str]:
    section = (ROOT / "README.md").read_text().split("\n## Configuration\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("|")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row)}


def env_file_names(filename: str) -> set[str]:
    """Assigned or commented-out (`# NAME=value`) variables of an env file."""
    text = (ROOT / filename).read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


CONFIG_VARIABLES = sorted(variables_read((ROOT / "config.py").read_text()))


def test_the_parser_finds_every_way_config_reads_a_variable():
    source = """
env.get("A_GET") or default
env["B_ITEM"]
os.environ.get("C_OS")
os.getenv("D_GETENV")
_int(env, "E_HELPER", 10)
_flag(env.get("F_NESTED"), default=True)
other.get("NOT_ENV")
"""
    assert variables_read(source) == {"A_GET", "B_ITEM", "C_OS", "D_GETENV", "E_HELPER", "F_NESTED"}


def test_config_reads_the_variables_the_contract_names():
    expected = {"APP_ENV", "DATABASE_URL", "SECRET_KEY", "MAIL_TIMEOUT_SECONDS"}
    assert expected <= set(CONFIG_VARIABLES)


@pytest.mark.parametrize("variable", CONFIG_VARIABLES)
def test_readme_configuration_table_names_the_variable(variable):
    assert variable in readme_table_names()


@pytest.mark.parametrize("filename", ["dev.env", "prod.env"])
def test_env_files_name_every_variable(filename):
    missing = sorted(set(CONFIG_VARIABLES) - env_file_names(filename))
    assert missing == [], f"{filename} does not name {missing}"
