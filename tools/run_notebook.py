"""Run api_usage.ipynb against a throwaway live server (`python -m tools.run_notebook`;
`make notebook` adds --save, keeping the outputs in the notebook)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tests.support.live_server import live_server

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "api_usage.ipynb"


def execute(path: Path = NOTEBOOK) -> nbformat.NotebookNode:
    """Execute the notebook against a fresh server; raises CellExecutionError on any failure."""
    notebook = nbformat.read(path, as_version=4)
    with live_server() as server:
        saved = dict(os.environ)
        os.environ.update({k: v for k, v in server.environ.items() if k.startswith("MY_APP_")})
        try:
            NotebookClient(
                notebook,
                timeout=120,
                kernel_name="python3",
                resources={"metadata": {"path": str(ROOT)}},
            ).execute()
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return notebook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--save", action="store_true", help="write the outputs into the notebook")
    args = parser.parse_args()
    notebook = execute()
    if args.save:
        nbformat.write(notebook, NOTEBOOK)
        print(f"saved {NOTEBOOK.name} with fresh outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
