"""Throwaway topologies on spare ports: PostgreSQL primaries and streaming replicas,
PgBouncer in transaction mode, Redis with a replica and Sentinels, a Redis Cluster.

Each is a context manager that starts what it needs in a temporary directory and
removes it after. PostgreSQL and PgBouncer refuse to run as root, so they run as the
`postgres` user when the tests run as root. A missing binary skips (or, under
REQUIRE_SERVICES=1, fails) the test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis

from tests.support import services

PG_BIN = Path(os.environ.get("TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
RUN_AS = "postgres"


def need(*binaries: str) -> None:
    """Skip (or fail) unless every binary is installed."""
    missing = [b for b in binaries if not (shutil.which(b) or (PG_BIN / b).exists())]
    if missing:
        services.unavailable(f"not installed: {', '.join(missing)}")


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", RUN_AS, "--", *args]


def _run(args: list[str], **kwargs) -> None:
    subprocess.run(_as_postgres(args), check=True, capture_output=True, timeout=60, **kwargs)


@contextmanager
def _directory(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(path, RUN_AS, RUN_AS)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def wait_until(condition, timeout: float = 20, interval: float = 0.1, what: str = "it"):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception:  # not up yet
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(interval)


class Postgres:
    """A PostgreSQL server of our own, in `directory`, on `port`."""

    def __init__(self, directory: Path, port: int):
        self.directory = directory
        self.port = port
        self.dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.directory / "server.log"
        _run([str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-l", str(log),
              "-o", options, "-w", "-t", "30", "start"])  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"),
                          "-m", "immediate", "-w", "stop"]),
            capture_output=True, timeout=60,
        )  # fmt: skip

    def execute(self, sql: str, database: str = "postgres"):
        dsn = f"postgresql://postgres@127.0.0.1:{self.port}/{database}"
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as connection:
            cursor = connection.execute(sql)
            return cursor.fetchall() if cursor.description else None

    def promote(self) -> None:
        self.execute("SELECT pg_promote(true, 30)")

    def make_read_only(self) -> None:
        """What a fail-over leaves behind: a server that refuses every write."""
        self.execute("ALTER SYSTEM SET default_transaction_read_only = on")
        self.execute("SELECT pg_reload_conf()")


@contextmanager
def postgres_primary() -> Iterator[Postgres]:
    need("initdb", "pg_ctl")
    with _directory("topology-pg-") as directory:
        _run([str(PG_BIN / "initdb"), "-D", str(directory / "data"), "-U", "postgres",
              "--auth=trust", "-E", "UTF8", "--locale=C"])  # fmt: skip
        server = Postgres(directory, services.free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def postgres_replica(primary: Postgres) -> Iterator[Postgres]:
    """A hot standby streaming from `primary` (`pg_basebackup -R`)."""
    need("pg_basebackup")
    with _directory("topology-standby-") as directory:
        _run([str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
              "-U", "postgres", "-D", str(directory / "data"), "-R", "-X", "stream",
              "-c", "fast"])  # fmt: skip
        server = Postgres(directory, services.free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def pgbouncer(host: str, port: int) -> Iterator[int]:
    """PgBouncer in transaction pooling mode, stock settings otherwise, in front of
    host:port; its port."""
    need("pgbouncer")
    with _directory("topology-pgbouncer-") as directory:
        listen = services.free_port()
        (directory / "users.txt").write_text('"postgres" ""\n')
        (directory / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host={host} port={port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {listen}\n"
            f"unix_socket_dir = {directory}\n"
            "auth_type = trust\n"
            f"auth_file = {directory / 'users.txt'}\n"
            "pool_mode = transaction\n"
            f"logfile = {directory / 'pgbouncer.log'}\n"
            f"pidfile = {directory / 'pgbouncer.pid'}\n"
        )
        process = subprocess.Popen(
            _as_postgres(["pgbouncer", str(directory / "pgbouncer.ini")]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            dsn = f"postgresql://postgres@127.0.0.1:{listen}/postgres"
            wait_until(lambda: psycopg.connect(dsn, connect_timeout=2).close() or True,
                       what="PgBouncer answering")  # fmt: skip
            yield listen
        finally:
            process.terminate()
            process.wait(timeout=10)


class RedisServers:
    """redis-server processes of a test, stopped together."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.processes: list[subprocess.Popen] = []

    def start(self, port: int, *args: str, config: str | None = None) -> int:
        command = ["redis-server"]
        if config is not None:
            path = self.directory / f"{port}.conf"
            path.write_text(config)
            command.append(str(path))
        command += ["--port", str(port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", str(self.directory), *args]  # fmt: skip
        self.processes.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        wait_until(lambda: redis.Redis(port=port, socket_timeout=1).ping(), what="Redis up")
        return port

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait(timeout=10)


@contextmanager
def redis_sentinel(service: str = "topology") -> Iterator[dict]:
    """A Redis primary, its replica and three Sentinels watching them; their ports."""
    need("redis-server")
    with _directory("topology-redis-") as directory:
        servers = RedisServers(directory)
        try:
            primary = servers.start(services.free_port())
            replica = servers.start(services.free_port(), "--replicaof", "127.0.0.1", str(primary))
            sentinels = []
            for _ in range(3):
                port = services.free_port()
                config = (
                    f"sentinel monitor {service} 127.0.0.1 {primary} 2\n"
                    f"sentinel down-after-milliseconds {service} 1000\n"
                    f"sentinel failover-timeout {service} 5000\n"
                )
                sentinels.append(servers.start(port, "--sentinel", config=config))
            wait_until(
                lambda: redis.Redis(port=replica).info("replication")["master_link_status"] == "up",
                what="the Redis replica in sync",
            )
            nodes = ",".join(f"127.0.0.1:{port}" for port in sentinels)
            yield {
                "url": f"redis+sentinel://{nodes}/{service}",
                "primary": primary,
                "replica": replica,
                "sentinels": sentinels,
                "service": service,
            }
        finally:
            servers.stop()


@contextmanager
def redis_cluster(masters: int = 3) -> Iterator[str]:
    """A Redis Cluster of `masters` masters and no replicas; its `redis+cluster://` URL."""
    need("redis-server", "redis-cli")
    with _directory("topology-cluster-") as directory:
        servers = RedisServers(directory)
        try:
            cluster_args = ("--cluster-enabled", "yes")
            ports = []
            for _ in range(masters):
                port = _cluster_port()
                servers.start(port, *cluster_args, "--cluster-config-file", f"nodes-{port}.conf")
                ports.append(port)
            nodes = [f"127.0.0.1:{port}" for port in ports]
            subprocess.run(
                ["redis-cli", "--cluster", "create", *nodes, "--cluster-replicas", "0",
                 "--cluster-yes"],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
            for port in ports:
                wait_until(lambda port=port: _cluster_ok(port), what="the cluster ready")
            yield "redis+cluster://" + ",".join(nodes)
        finally:
            servers.stop()


def _cluster_ok(port: int) -> bool:
    info = redis.Redis(port=port, decode_responses=True).execute_command("CLUSTER INFO")
    if isinstance(info, dict):
        return info.get("cluster_state") == "ok"
    return "cluster_state:ok" in info


def _cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is a free port too."""
    while True:
        port = services.free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
