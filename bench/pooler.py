"""PgBouncer in transaction pooling mode in front of the bench's PostgreSQL, for
`make bench --pgbouncer`.

PgBouncer refuses to run as root: as root it runs as the `postgres` user, from a temporary
directory of its own, on a spare port. It is installed with apt-get when missing and we can.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from tests.support.services import free_port

RUN_AS = "postgres"


def ensure_pgbouncer() -> str | None:
    """The pgbouncer binary, or None (why not is printed)."""
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if not found and os.geteuid() == 0 and shutil.which("apt-get"):
        print("pgbouncer is missing; installing it with apt-get", flush=True)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", "pgbouncer"], check=False, **quiet)
        found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if not found:
        print("--pgbouncer needs PgBouncer: sudo apt-get install pgbouncer")
    return found


class PgBouncer:
    def __init__(self, binary: str, directory: Path, port: int, process: subprocess.Popen):
        self.binary, self.directory, self.port, self.process = binary, directory, port, process

    def url_for(self, url: str) -> str:
        """`url` (a database on the PostgreSQL behind the pooler) through the pooler."""
        parts = urlsplit(url)
        return url.replace(f"@{parts.hostname}:{parts.port or 5432}/", f"@127.0.0.1:{self.port}/")

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return out.stdout.splitlines()[0] if out.stdout else "PgBouncer"

    def log_lines(self, *needles: str) -> list[str]:
        """The log's messages that contain any of `needles`, each once, in order (without
        the time, pid and client that PgBouncer puts before them)."""
        log = self.directory / "pgbouncer.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        seen: dict[str, None] = {}
        for line in text.splitlines():
            if any(needle in line for needle in needles):
                seen.setdefault(re.sub(r"^.*?@[\d.]+:\d+ ", "", line), None)
        return list(seen)


@contextlib.contextmanager
def pgbouncer(binary: str, url: str) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode in front of the server of `url`, stock settings
    otherwise, with room for every worker's pool."""
    parts = urlsplit(url)
    directory = Path(tempfile.mkdtemp(prefix="bench-pgbouncer-"))
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(directory, RUN_AS, RUN_AS)
    port = free_port()
    (directory / "users.txt").write_text(f'"{parts.username or RUN_AS}" ""\n')
    (directory / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={parts.hostname} port={parts.port or 5432}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        f"unix_socket_dir = {directory}\n"
        "auth_type = trust\n"
        f"auth_file = {directory / 'users.txt'}\n"
        "pool_mode = transaction\n"
        "max_client_conn = 500\n"
        "default_pool_size = 20\n"
        f"logfile = {directory / 'pgbouncer.log'}\n"
        f"pidfile = {directory / 'pgbouncer.pid'}\n"
    )
    command = [binary, str(directory / "pgbouncer.ini")]
    if as_root:
        command = ["runuser", "-u", RUN_AS, "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bouncer = PgBouncer(binary, directory, port, process)
    try:
        _wait_answering(bouncer, parts.username or RUN_AS)
        yield bouncer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


def _wait_answering(bouncer: PgBouncer, user: str, timeout: float = 15) -> None:
    dsn = f"postgresql://{user}@127.0.0.1:{bouncer.port}/postgres"
    deadline = time.monotonic() + timeout
    while True:
        if bouncer.process.poll() is not None:
            raise RuntimeError(f"PgBouncer exited with {bouncer.process.returncode}")
        try:
            psycopg.connect(dsn, connect_timeout=2).close()
            return
        except psycopg.Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
