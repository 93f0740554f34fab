"""`make audit`'s verdict on pip-audit's report (tools/audit.py): clear whichever way it goes."""

from tools.audit import failure_verdict, verdict


def _dep(name, vulns=(), skip=None):
    if skip:
        return {"name": name, "skip_reason": skip}
    return {"name": name, "version": "1.0", "vulns": list(vulns)}


def test_a_known_vulnerability_fails_and_names_the_package_and_the_fix():
    vuln = {"id": "PYSEC-2099-1", "fix_versions": ["1.1"], "description": "bad"}
    status, message = verdict({"dependencies": [_dep("flask"), _dep("evil", [vuln])]})
    assert status == 1
    assert "evil 1.0: PYSEC-2099-1 (fixed in 1.1)" in message


def test_nothing_checked_is_not_a_pass_but_says_it_could_not_run():
    report = {"dependencies": [_dep(n, skip="Dependency not found on PyPI") for n in "abc"]}
    status, message = verdict(report)
    assert status == 0 and "could not run" in message and "none of the 3" in message


def test_a_clean_report_counts_what_was_checked_and_what_was_not():
    report = {"dependencies": [_dep("flask"), _dep("redis"), _dep("local", skip="not on PyPI")]}
    status, message = verdict(report)
    assert status == 0
    assert "no known vulnerabilities in 2 packages; 1 could not be checked: local" in message


def test_an_unreachable_service_exits_0_with_the_reason():
    stderr = "requests.exceptions.ConnectionError: Max retries exceeded with url: /pypi/x/json\n"
    status, message = failure_verdict(1, stderr)
    assert status == 0 and message.startswith("make audit could not run")


def test_any_other_failure_of_pip_audit_fails():
    status, message = failure_verdict(2, "pip-audit: error: unrecognized arguments\n")
    assert status == 2 and "unrecognized arguments" in message
