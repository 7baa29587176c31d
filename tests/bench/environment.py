"""What the real app needs to start: a migrated SQLite file and an embedded Redis, in a temp dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from service.config import ROOT
from service.core.redis import EmbeddedRedis
from tests.bench.servers import BenchError

MIGRATE_TIMEOUT = 300.0


class AppEnvironment:
    """Owns the embedded Redis; `close()` stops it. The temp dir itself belongs to the caller."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.database_url = f"sqlite://{directory / 'bench.sqlite3'}"
        self._redis: EmbeddedRedis | None = None

    def start(self, *, sqlite: bool = True) -> None:
        """The embedded Redis, and the migrated SQLite file unless no server uses it."""
        self._redis = EmbeddedRedis(self.directory / "redis")
        if sqlite:
            self._migrate()

    @property
    def redis_url(self) -> str:
        if self._redis is None:
            raise BenchError("the embedded Redis is not started")
        return self._redis.url

    def env(self) -> dict[str, str]:
        """The process environment of every server (the bare one ignores these settings)."""
        env = dict(os.environ)
        env.update(
            ENV="development",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url if self._redis is not None else "",
            REDIS_PREFIX="bench",
        )
        return env

    def _migrate(self) -> None:
        argv = [sys.executable, "-m", "service", "migrate"]
        try:
            completed = subprocess.run(
                argv,
                env=self.env(),
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=MIGRATE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            output = _text(exc.stdout) + _text(exc.stderr)
            raise BenchError(
                f"`python -m service migrate` still running after {MIGRATE_TIMEOUT:.0f} s "
                f"(stopped):\n{output}"
            ) from exc
        if completed.returncode != 0:
            raise BenchError(
                f"`python -m service migrate` failed ({completed.returncode}):\n"
                f"{completed.stdout}{completed.stderr}"
            )

    def close(self) -> None:
        if self._redis is None:
            return
        socket_dir = Path(self.redis_url.removeprefix("unix://")).parent
        self._redis.shutdown()
        self._redis = None
        _remove_redis_leftovers(socket_dir)


def _text(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


# What redis-server leaves beside its socket when it runs from a temp dir of its own.
_REDIS_LEFTOVERS = {"redis.config", "redis.log", "redis.socket", "redis.pid"}


def _remove_redis_leftovers(directory: Path) -> None:
    """Removes the embedded server's own temp dir, when it holds nothing but its files."""
    try:
        names = {entry.name for entry in directory.iterdir()}
    except OSError:
        return
    if names <= _REDIS_LEFTOVERS:
        shutil.rmtree(directory, ignore_errors=True)
