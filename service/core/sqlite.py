"""The SQLite engine of the embedded default, made safe for a web and a worker process.

Tortoise opens SQLite transactions with a plain `BEGIN` (deferred): the transaction starts as
a reader and asks for the write lock at its first write. In WAL mode, when another process
committed in between, SQLite refuses that upgrade at once with "database is locked"
(SQLITE_BUSY_SNAPSHOT: the busy timeout is not consulted, since waiting cannot help a stale
snapshot). Every transaction here begins with `BEGIN IMMEDIATE` instead: it takes the write
lock up front, waiting up to the busy timeout for the other process, and a `BEGIN` that still
meets the lock is retried (nothing has run yet, so retrying it is always safe).

Transactions in one process are already serialised by Tortoise's connection lock; SQLite
allows one writer at a time anyway, so taking the lock at the start costs no concurrency.
Selected with `sqlite://` URLs by `service.db.tortoise_config`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError

from service.core import search

# How long one statement waits for the other process's lock (SQLite's busy handler).
BUSY_TIMEOUT_MS = 10_000
# Then `BEGIN IMMEDIATE` is tried again this many times, with a growing pause.
BEGIN_ATTEMPTS = 5


def _is_lock_error(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        await self._connection.commit()
        for attempt in range(BEGIN_ATTEMPTS):
            try:
                await self._connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_lock_error(exc) or attempt == BEGIN_ATTEMPTS - 1:
                    raise TransactionManagementError(exc) from exc
                await asyncio.sleep(0.05 * 2**attempt)


class ImmediateSqliteClient(SqliteClient):
    def __init__(self, file_path: str, **kwargs: Any) -> None:
        kwargs.setdefault("busy_timeout", BUSY_TIMEOUT_MS)
        # WAL lets readers go on while one process writes; NORMAL is durable in WAL mode
        # except for the last transactions on a power cut, not on a process crash.
        kwargs.setdefault("journal_mode", "WAL")
        kwargs.setdefault("synchronous", "NORMAL")
        super().__init__(file_path, **kwargs)

    async def create_connection(self, with_db: bool) -> None:
        await super().create_connection(with_db)
        if self._connection is not None:
            # The accent- and case-blind comparison of search (PostgreSQL's is in SQL).
            await search.install_sqlite(self._connection)

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient


def connection_config(url: str) -> dict[str, Any]:
    """Tortoise's connection entry for a `sqlite://path?pragma=value` URL, on this engine."""
    config: dict[str, Any] = expand_db_url(url)
    config["engine"] = __name__
    return config
