"""scripts/permissions.sh, as CodeDeploy's AfterInstall runs it: the app user can read the
code and its .venv but change neither, writes instance/ only, and reads the environment
file, which no other account (www-data included) can."""

import grp
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import services

ROOT = Path(__file__).resolve().parents[2]
APP_USER, APP_GROUP = "nobody", "nogroup"  # stand-ins for my_app and its own group
OTHER_USER = "daemon"  # stands for www-data: any account outside the app's group


@pytest.fixture
def host() -> Iterator[Path]:
    """A deployed tree as CodeDeploy leaves it (files of the app user, as the old hook made
    them) and an environment file readable by a wider group, before the script runs."""
    if os.geteuid() != 0:
        services.unavailable("changing owners needs root (CodeDeploy's hooks run as root)")
    for name in (APP_USER, OTHER_USER):
        try:
            pwd.getpwnam(name)
        except KeyError:
            services.unavailable(f"no {name!r} account to play a role with")
    base = Path(tempfile.mkdtemp(prefix="my_app_deploy_"))
    base.chmod(0o755)
    app_dir, etc = base / "opt/my_app", base / "etc/my_app"
    for directory in (app_dir / "my_app", app_dir / ".venv/bin", etc):
        directory.mkdir(parents=True)
    (app_dir / "my_app/__init__.py").write_text("CODE = 1\n")
    (app_dir / ".venv/bin/python").write_text("#!/bin/sh\n")
    (app_dir / ".venv/bin/python").chmod(0o755)
    (etc / "my_app.env").write_text("SECRET_KEY=not-for-anyone-else\n")
    (etc / "my_app.env").chmod(0o664)
    uid = pwd.getpwnam(APP_USER).pw_uid
    for path in [app_dir, *app_dir.rglob("*")]:
        os.chown(path, uid, -1)
    yield base
    shutil.rmtree(base)


def _as(user: str, *command: str) -> subprocess.CompletedProcess:
    """`command` run as `user` with that account's own groups, as systemd would start it."""
    account = pwd.getpwnam(user)
    groups = os.getgrouplist(user, account.pw_gid)
    if user == APP_USER:
        groups.append(grp.getgrnam(APP_GROUP).gr_gid)
    return subprocess.run(command, user=account.pw_uid, group=account.pw_gid, extra_groups=groups,
                          capture_output=True, text=True, timeout=10)  # fmt: skip


def test_the_app_user_reads_the_code_but_changes_nothing_outside_instance(host):
    app_dir, env_file = host / "opt/my_app", host / "etc/my_app/my_app.env"
    script = ROOT / "scripts/permissions.sh"
    result = subprocess.run([str(script), str(app_dir), APP_USER, APP_GROUP, str(env_file)],
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    assert result.returncode == 0, result.stderr

    for path in [app_dir, *app_dir.rglob("*")]:
        if path.parts[-1] == "instance":
            continue
        info = path.stat()
        assert info.st_uid == 0 and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH), path
    assert _as(APP_USER, "cat", str(app_dir / "my_app/__init__.py")).stdout == "CODE = 1\n"
    assert _as(APP_USER, "test", "-x", str(app_dir / ".venv/bin/python")).returncode == 0
    for target in ("my_app/__init__.py", ".venv/bin/python", "my_app/new.py", ".venv/bin/pip"):
        assert _as(APP_USER, "sh", "-c", f"echo x >> {app_dir / target}").returncode != 0, target
    assert _as(APP_USER, "touch", str(app_dir / "instance/app.sqlite")).returncode == 0

    info = env_file.stat()
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o640)
    assert "SECRET_KEY" in _as(APP_USER, "cat", str(env_file)).stdout
    assert _as(APP_USER, "sh", "-c", f"echo X=1 >> {env_file}").returncode != 0
    assert _as(OTHER_USER, "cat", str(env_file)).returncode != 0


def test_the_hooks_lock_the_tree_down_with_that_script():
    after_install = (ROOT / "scripts/after_install.sh").read_text()
    assert "scripts/permissions.sh" in after_install
    assert "chown -R my_app" not in after_install
    before_install = (ROOT / "scripts/before_install.sh").read_text()
    assert "chgrp www-data /etc/my_app" not in before_install
