"""A real PostgreSQL primary and its streaming replica, for the read-replica test.

Both are made with the machine's own PostgreSQL binaries in one temporary directory, on free
ports of 127.0.0.1, and removed afterwards: the primary with `initdb` (set up for streaming),
the replica with `pg_basebackup -R` from it, started as a hot standby. A primary of the
test's own keeps the machine's server as it is (no pg_hba.conf or wal settings to change)
and makes the base backup small: the machine's server may hold gigabytes of other
databases. The binaries are looked up in /usr/lib/postgresql/<major>/bin (newest first) or
PG_BINDIR. PostgreSQL refuses to run as root, so as root both run as the `postgres` user.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg

from tests.rewards.payout_world import free_port


class ReplicaUnavailable(RuntimeError):
    """The machine cannot run PostgreSQL here; the message says what is missing."""


def bindir() -> Path:
    candidates = [os.environ.get("PG_BINDIR", "")]
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted(
            (p for p in root.iterdir() if p.name.isdigit()), key=lambda p: -int(p.name)
        )
        candidates += [str(p / "bin") for p in versions]
    for candidate in candidates:
        if candidate and all(
            (Path(candidate) / tool).exists() for tool in ("initdb", "pg_basebackup", "postgres")
        ):
            return Path(candidate)
    raise ReplicaUnavailable(
        "PostgreSQL server binaries (initdb, pg_basebackup, postgres) not found in "
        "/usr/lib/postgresql/<version>/bin or PG_BINDIR: install the postgresql package"
    )


class Server:
    """One PostgreSQL server process on `data`, listening on 127.0.0.1:`port`."""

    def __init__(self, cluster: Cluster, name: str) -> None:
        self.cluster = cluster
        self.data = cluster.directory / name
        self.log_path = cluster.directory / f"{name}.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def configure(self, *lines: str) -> None:
        # Debian keeps the configuration outside the data directory: each server has its own.
        settings = [
            f"port = {self.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.cluster.directory}'",
            "fsync = off",
            "full_page_writes = off",
            "shared_buffers = 32MB",
            "max_connections = 60",
            "log_min_messages = warning",
            *lines,
        ]
        files = {
            "postgresql.conf": "\n".join(settings) + "\n",
            "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n"
            "host replication all 127.0.0.1/32 trust\n",
            "pg_ident.conf": "",
        }
        for name, text in files.items():
            path = self.data / name
            path.write_text(text)
            self.cluster.own(path)

    def start(self, timeout: float = 30.0) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.cluster.argv(str(self.cluster.bin / "postgres"), "-D", str(self.data)),
                stdin=subprocess.DEVNULL,
                stdout=log.fileno(),
                stderr=log.fileno(),
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise ReplicaUnavailable(f"{self.data.name} did not start:\n{self.log_tail()}")
            ready = subprocess.run(
                [str(self.cluster.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise ReplicaUnavailable(f"{self.data.name} not ready in time:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            # runuser passes the signal on; SIGINT is PostgreSQL's fast shutdown.
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class Cluster:
    """A primary (`initdb`) and a hot standby streaming from it (`pg_basebackup -R`)."""

    def __init__(self) -> None:
        self.bin = bindir()
        self.directory = Path(tempfile.mkdtemp(prefix="civic-replica-"))
        self.as_user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ReplicaUnavailable("running as root, and no `postgres` user") from exc
            self.as_user = "postgres"
        self.own(self.directory)
        os.chmod(self.directory, 0o700)
        self.primary = Server(self, "primary")
        self.replica = Server(self, "replica")

    def own(self, path: Path) -> None:
        if self.as_user:
            shutil.chown(path, user=self.as_user, group=self.as_user)

    def argv(self, *argv: str) -> list[str]:
        return list(argv) if self.as_user is None else ["runuser", "-u", self.as_user, "--", *argv]

    def _run(self, *argv: str) -> None:
        done = subprocess.run(
            self.argv(*argv), capture_output=True, timeout=60, check=False, cwd=self.directory
        )
        if done.returncode != 0:
            raise ReplicaUnavailable(f"{argv[0]} failed: {done.stderr.decode()[-2000:]}")

    def start_primary(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.primary.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.primary.configure("wal_level = replica", "max_wal_senders = 4")
        self.primary.start()

    def copy_schema(self, source_url: str, database: str) -> None:
        """Create `database` on the primary with the schema (and migration records) of the
        database at `source_url`: much faster than running every migration again."""
        self._run(
            str(self.bin / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary.port),
            "-U",
            "postgres",
            database,
        )
        dump = subprocess.run(
            [
                str(self.bin / "pg_dump"),
                "--no-owner",
                "--no-privileges",
                "--schema-only",
                "-d",
                _pg(source_url),
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if dump.returncode != 0:
            raise ReplicaUnavailable(f"pg_dump failed: {dump.stderr.decode()[-2000:]}")
        records = subprocess.run(
            [
                str(self.bin / "pg_dump"),
                "--data-only",
                "--table=tortoise_migrations",
                "-d",
                _pg(source_url),
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        load = subprocess.run(
            [
                str(self.bin / "psql"),
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                _pg(self.primary.url(database)),
            ],
            input=dump.stdout + records.stdout,
            capture_output=True,
            timeout=60,
            check=False,
        )
        if load.returncode != 0:
            raise ReplicaUnavailable(f"loading the schema failed: {load.stderr.decode()[-2000:]}")

    def start_replica(self) -> None:
        self._run(
            str(self.bin / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary.port),
            "-U",
            "postgres",
            "-D",
            str(self.replica.data),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        )
        self.replica.configure("hot_standby = on")
        self.replica.start()

    def stop(self) -> None:
        for server in (self.replica, self.primary):
            try:
                server.stop()
            except (OSError, subprocess.SubprocessError):
                pass
        shutil.rmtree(self.directory, ignore_errors=True)


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(_pg(url))


async def wait_for_replay(primary: asyncpg.Connection, replica: asyncpg.Connection) -> None:
    """Until the replica has replayed everything the primary had written when called."""
    # The insert position: WAL still in the primary's buffers counts too.
    target = await primary.fetchval("SELECT pg_current_wal_insert_lsn()::text")
    deadline = time.monotonic() + 20
    while True:
        replayed = await replica.fetchval(
            "SELECT pg_last_wal_replay_lsn() >= ($1::text)::pg_lsn", target
        )
        if replayed:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the replica did not replay up to {target} in 20 s")
        await asyncio.sleep(0.05)
