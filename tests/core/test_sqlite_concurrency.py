"""The embedded default (SQLite, a web process and a worker process) keeps every write.

`python -m service run` is started on a fresh SQLite file, as `make run` does. A hundred
registrations arrive at once through the web process while the worker writes too (each
registration queues a confirmation e-mail, which the worker writes to the outbox). Every one
must succeed: a write that meets the other process's lock waits its turn instead of answering
500 ("database is locked").
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.config import ROOT
from tests import processes, services

WRITES = 100
SENT_MAIL = "SELECT COUNT(*) FROM outbox_emails WHERE status = 'sent'"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def embedded_app(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    database = tmp_path / "civic.sqlite3"
    port = _free_port()
    env = {
        **os.environ,
        "ENV": "development",
        "DATABASE_URL": f"sqlite://{database}",
        "REDIS_URL": services.redis_url(),
        "REDIS_PREFIX": f"civicsqlite{uuid.uuid4().hex[:8]}",
        "STORAGE_DIR": str(tmp_path / "uploads"),
        "BASE_URL": f"http://127.0.0.1:{port}",
        "SMTP_HOST": "",
        "LOG_LEVEL": "WARNING",
        # One address sends every request here; the per-address limit is not the point.
        "RATE_REGISTER_PER_IP": "100000",
    }
    with processes.service_run(
        ["--host", "127.0.0.1"],
        env=env,
        cwd=ROOT,
        log_path=tmp_path / "run.log",
        port=port,
        ready_within=60,
    ) as base:
        yield base, database


def _count(database: Path, sql: str) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute(sql).fetchone()[0])


class TestConcurrentWritesOnSqlite:
    """ASVS V16.5 (errors handled safely): no 500 and no lost write under concurrency."""

    async def test_hundred_registrations_while_the_worker_writes(
        self, embedded_app: tuple[str, Path]
    ) -> None:
        base, database = embedded_app
        limits = httpx.Limits(max_connections=WRITES)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

            async def register(n: int) -> httpx.Response:
                return await client.post(
                    "/api/v1/auth/register",
                    json={
                        "email": f"resident{n}@example.org",
                        "password": f"a quiet street number {n} with trees",
                        "name": f"Resident {n}",
                    },
                )

            answers = await asyncio.gather(*(register(n) for n in range(WRITES)))
        statuses = sorted({answer.status_code for answer in answers})
        failed = [answer.text[:200] for answer in answers if answer.status_code >= 300]
        assert not failed, f"statuses {statuses}: {failed[:3]}"
        assert _count(database, "SELECT COUNT(*) FROM users") == WRITES
        # The worker wrote meanwhile: every confirmation e-mail reaches the outbox.
        deadline = time.monotonic() + 60
        while _count(database, SENT_MAIL) < WRITES:
            assert time.monotonic() < deadline, "the worker did not write every e-mail"
            await asyncio.sleep(0.5)
