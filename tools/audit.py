"""`make audit`: pip-audit over the installed environment, with a verdict that says what it means.

Exit 1 when a package has a known vulnerability. When the vulnerability service cannot be
reached, or answers for none of the packages (a mirror without PyPI's JSON API answers 404,
which pip-audit reports as "No known vulnerabilities found"), nothing was checked: it says
so and exits 0, so that an offline machine is not a failed build.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

UNREACHABLE = re.compile(
    r"ConnectionError|Max retries exceeded|Failed to establish|NameResolution|"
    r"Temporary failure in name resolution|timed out|ConnectTimeout|SSLError|ProxyError"
)


def verdict(report: dict) -> tuple[int, str]:
    """The exit status and the message for pip-audit's JSON report."""
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    if vulnerable:
        lines = [
            f"  {d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v['fix_versions'])})"
            for d in vulnerable
            for v in d["vulns"]
        ]
        return 1, "make audit: known vulnerabilities:\n" + "\n".join(lines)
    skipped = [d for d in dependencies if "skip_reason" in d]
    checked = len(dependencies) - len(skipped)
    if not checked:
        return 0, (
            f"make audit could not run: the vulnerability service answered for none of the "
            f"{len(dependencies)} installed packages, so nothing was checked "
            "(is PyPI's JSON API reachable from here?)"
        )
    message = f"make audit: no known vulnerabilities in {checked} packages"
    if skipped:
        message += f"; {len(skipped)} could not be checked: " + ", ".join(
            d["name"] for d in skipped
        )
    return 0, message


def failure_verdict(returncode: int, stderr: str) -> tuple[int, str]:
    """When pip-audit wrote no report: unreachable is 0 with a reason, anything else fails."""
    last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {returncode}"
    if UNREACHABLE.search(stderr):
        return 0, f"make audit could not run: the vulnerability service is unreachable ({last})"
    return returncode or 1, f"make audit failed: {last}"


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "report.json"
        result = subprocess.run(
            [str(Path(sys.executable).parent / "pip-audit"), "--skip-editable",
             "--progress-spinner", "off", "--format", "json", "--output", str(output)],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if output.exists() and output.read_text().strip():
            status, message = verdict(json.loads(output.read_text()))
        else:
            status, message = failure_verdict(result.returncode, result.stderr)
    print(message)
    return status


if __name__ == "__main__":
    sys.exit(main())
