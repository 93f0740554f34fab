"""The periodic jobs as shipped: systemd units that systemd accepts, installed and enabled by the
CodeDeploy hooks; the Docker image and both compose files run them too."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support import services

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEPLOY = ROOT / "deploy"
EVERY_MINUTE = ("release-no-shows", "send-reminders", "escalate-requests")
JOB_UNITS = [
    "my_app-expire-requests.service", "my_app-expire-requests.timer",
    "my_app-prune-blacklist.service", "my_app-prune-blacklist.timer",
    "my_app-deliver-events.service",
    *(f"my_app-{job}.{kind}" for job in EVERY_MINUTE for kind in ("service", "timer")),
]  # fmt: skip


def test_job_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        services.unavailable("systemd-analyze is not installed (it comes with systemd)")
    for name in [*JOB_UNITS, "my_app.service"]:
        unit = (DEPLOY / name).read_text()
        # Where CodeDeploy puts the app, this checkout stands in, so the executables exist.
        unit = unit.replace("/opt/my_app/.venv/bin/", f"{BIN}/").replace("/opt/my_app", str(ROOT))
        (tmp_path / name).write_text(unit)
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / name) for name in JOB_UNITS)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # no unknown keys or sections either


@pytest.mark.parametrize(
    ("command", "timer", "schedule"),
    [("expire-requests", "my_app-expire-requests.timer", "OnUnitActiveSec=5min"),
     ("prune-blacklist", "my_app-prune-blacklist.timer", "OnCalendar=daily"),
     *((job, f"my_app-{job}.timer", "OnUnitActiveSec=1min") for job in EVERY_MINUTE)],
)  # fmt: skip
def test_each_periodic_command_has_a_timer_on_its_schedule(command, timer, schedule):
    service = (DEPLOY / timer.replace(".timer", ".service")).read_text()
    assert f"ExecStart=/opt/my_app/.venv/bin/flask --app wsgi {command}\n" in service
    assert "Type=oneshot" in service
    text = (DEPLOY / timer).read_text()
    assert schedule in text and "WantedBy=timers.target" in text


def test_the_deliverer_runs_continuously_and_comes_back():
    service = (DEPLOY / "my_app-deliver-events.service").read_text()
    assert "ExecStart=/opt/my_app/.venv/bin/flask --app wsgi deliver-events\n" in service
    assert "Restart=always" in service


def test_codedeploy_hooks_install_enable_and_stop_the_jobs():
    after_install = (ROOT / "scripts/after_install.sh").read_text()
    assert "install -m 644 deploy/my_app-*.service deploy/my_app-*.timer /etc/systemd/system/" in (
        after_install
    )
    start = (ROOT / "scripts/application_start.sh").read_text()
    assert "enable --now my_app-expire-requests.timer my_app-prune-blacklist.timer" in start
    enabled = start.partition("enable --now")[2].split("\nsystemctl")[0]  # one command
    for job in EVERY_MINUTE:
        assert f"my_app-{job}.timer" in enabled
    assert "restart my_app-deliver-events.service" in start
    stop = (ROOT / "scripts/application_stop.sh").read_text()
    for unit in ("my_app-expire-requests.timer", "my_app-prune-blacklist.timer",
                 "my_app-deliver-events.service",
                 *(f"my_app-{job}.timer" for job in EVERY_MINUTE)):  # fmt: skip
        assert unit in stop


def test_job_loop_script_passes_shellcheck():
    shellcheck = shutil.which("shellcheck", path=str(BIN)) or shutil.which("shellcheck")
    assert shellcheck, "shellcheck is installed with the dev extras"
    result = subprocess.run([shellcheck, str(DEPLOY / "jobs/every.sh")], capture_output=True,
                            text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout


def test_docker_image_and_compose_files_run_the_jobs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "RUN_JOBS=uwsgi" in dockerfile  # uwsgi.ini then includes deploy/jobs.ini
    production = yaml.safe_load((ROOT / "docker-compose-prd.yaml").read_text())["services"]
    assert production["app"]["environment"]["RUN_JOBS"] == "uwsgi"
    development = yaml.safe_load((ROOT / "docker-compose-dev.yaml").read_text())["services"]
    assert "exec uwsgi --ini deploy/jobs.ini" in development["scheduler"]["command"][-1]
    jobs = (DEPLOY / "jobs.ini").read_text()
    for command in ("expire-requests", "prune-blacklist", "deliver-events"):
        assert f"--app wsgi {command}," in jobs
    for command in EVERY_MINUTE:
        assert f'every.sh 60 "`dirname %b`/flask" --app wsgi {command},' in jobs
