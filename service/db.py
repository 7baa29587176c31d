"""Database wiring: the Tortoise config, migrations, and the one transaction helper.

`transaction()` is the only way request handlers and tasks open a transaction. Jobs that
services queue while it is open (`service.core.jobs.enqueue`) are handed to the queue only
after the commit succeeds, and are dropped if it rolls back, so a worker never sees an id
whose row does not exist yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.migrations.loader import MigrationLoader
from tortoise.migrations.recorder import MigrationRecorder
from tortoise.transactions import in_transaction

from service import db_routing
from service.config import Settings
from service.core import jobs, manifest, sqlite

APP_LABEL = "civic"


def tortoise_config(settings: Settings) -> dict[str, Any]:
    connection: str | dict[str, Any] = settings.database_url
    if settings.database_url.startswith("sqlite://"):
        # Write transactions take SQLite's lock up front (see service.core.sqlite).
        connection = sqlite.connection_config(settings.database_url)
    config: dict[str, Any] = {
        "connections": {"default": connection},
        "apps": {
            APP_LABEL: {
                "models": manifest.model_modules(),
                "default_connection": "default",
                "migrations": "service.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }
    if settings.database_read_url:
        # Public pages read from the replica; see service.db_routing for who reads where.
        config["connections"][db_routing.REPLICA] = settings.database_read_url
        config["routers"] = ["service.db_routing.ReadReplicaRouter"]
    return config


# One database per process: an app built while another is running (tests build several)
# shares the same connections, closed when the last user closes them.
_users = 0


async def init_db(settings: Settings) -> None:
    global _users
    if _users == 0:
        # Uvicorn runs the lifespan in its own task: requests reach this context only
        # through Tortoise's process-wide fallback.
        await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    _users += 1


async def close_db() -> None:
    global _users
    _users = max(0, _users - 1)
    if _users == 0:
        await Tortoise.close_connections()


async def migrate(settings: Settings) -> None:
    """Apply every migration on disk that the database has not seen yet."""
    await tortoise_migrate(config=tortoise_config(settings))


async def pending_migrations(settings: Settings) -> list[str]:
    """Names of migrations on disk that the database has not applied (needs `init_db`)."""
    connection = get_connection("default")
    recorder = MigrationRecorder(connection)
    apps = {APP_LABEL: tortoise_config(settings)["apps"][APP_LABEL]}
    loader = MigrationLoader(apps, recorder, load=False)
    loader.load_disk()
    on_disk = {key.name for key in loader.disk_migrations}
    table = await connection.execute_query_dict(_migration_table_query(connection))
    if not table:
        return sorted(on_disk)
    applied = {key.name for key in await recorder.applied_migrations()}
    return sorted(on_disk - applied)


def _migration_table_query(connection: BaseDBAsyncClient) -> str:
    if connection.capabilities.dialect == "sqlite":
        return "SELECT name FROM sqlite_master WHERE type='table' AND name='tortoise_migrations'"
    return "SELECT tablename FROM pg_tables WHERE tablename = 'tortoise_migrations'"


@asynccontextmanager
async def transaction(queue: jobs.JobSender | None) -> AsyncIterator[BaseDBAsyncClient]:
    """Open the one transaction of a request or a job.

    Nested calls join the outer transaction and its job buffer. Queued jobs are sent
    after the outermost commit; on an exception nothing is sent.
    """
    # Named: with a read replica configured there are two connections.
    if jobs.buffer_active():
        async with in_transaction(db_routing.PRIMARY) as connection:
            yield connection
        return
    with jobs.collect() as pending:
        async with in_transaction(db_routing.PRIMARY) as connection:
            yield connection
    if pending and queue is None:
        raise RuntimeError("jobs were queued in a transaction opened without a queue")
    if queue is not None:
        for job in pending:
            await queue.send(job)
