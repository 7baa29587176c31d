"""Suite-wide fixtures: a fresh PostgreSQL database and a Redis namespace per run.

Every test talks to the app over HTTP (httpx + ASGITransport). Data is isolated by
emptying every table after each test; the database is dropped at the end of the run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import httpx
import pytest
from argon2 import profiles
from hypothesis import settings as hypothesis_settings
from starlette.applications import Starlette
from tortoise import Tortoise
from tortoise.connection import get_connection

from service import bootstrap, db
from service.accounts import passwords
from service.app import create_app
from service.config import Env, Settings
from service.core.redis import connect
from service.worker import create_worker
from tests import services, smtp

TEST_SECRET = "test-secret-" + "x" * 40

# `make test` runs the same examples every time (derandomized: the examples follow from each
# test's own code), so a run fails only when the code changed. `make explore` draws new ones
# (HYPOTHESIS_PROFILE=explore) and keeps what it found in Hypothesis' example database.
hypothesis_settings.register_profile("repeatable", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# Every sign-in checks a password: with the production parameters (about 0.1 s of CPU each) the
# suite's thousands of sign-ins cost minutes. Tests hash with argon2's cheapest parameters;
# the processes that tests start as subprocesses keep the production ones (hashes carry their
# parameters, so either side checks the other's).
passwords.use_parameters(profiles.CHEAPEST)


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[smtp.Mailbox]:
    controller, mailbox = smtp.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server: smtp.Mailbox) -> smtp.Mailbox:
    smtp_server.clear()
    return smtp_server


@pytest.fixture(scope="session")
async def settings(smtp_server: smtp.Mailbox) -> AsyncIterator[Settings]:
    admin_url = services.postgres_admin_url()
    name = f"civic_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    await admin.execute(f'CREATE DATABASE "{name}"')
    redis_url = services.redis_url()
    prefix = f"civictest{uuid.uuid4().hex[:8]}"
    test_settings = Settings(
        env=Env.test,
        database_url=services.with_database(admin_url, name),
        redis_url=redis_url,
        redis_prefix=prefix,
        secret_key=TEST_SECRET,
        base_url="http://testserver",
        log_level="WARNING",
        storage_dir=Path(tempfile.mkdtemp(prefix="civic-uploads-")),
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        # Jobs that other tests run in passing translate nothing; tests/translation runs
        # Apertium itself on short texts.
        translator="none",
    )
    await db.migrate(test_settings)
    await Tortoise.close_connections()
    try:
        yield test_settings
    finally:
        redis = await connect(redis_url, test_settings.queue_name)
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        keys += [key async for key in redis.scan_iter(match=f"arq:*:{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.close()
        shutil.rmtree(test_settings.storage_dir, ignore_errors=True)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    connection = get_connection("default")
    tables = [
        row["tablename"]
        for row in await connection.execute_query_dict(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'tortoise_migrations'"
        )
    ]
    if tables:
        # DELETE, not TRUNCATE: a test leaves a few rows in a few tables, and DELETE on an
        # empty table costs microseconds, while TRUNCATE locks and replaces the files of all of
        # them (0.15 to 1 s per test here). With foreign-key triggers off for this one script
        # (the `replica` role), the order of the tables does not matter. One simple query is
        # one implicit transaction, so SET LOCAL ends with it, even on an error.
        # The names come from the catalog above, never from input.
        deletes = "".join(f'DELETE FROM "{t}";' for t in tables)  # noqa: S608
        await connection.execute_script(f"SET LOCAL session_replication_role = replica;{deletes}")
    # Identities are not restarted: ids stay unique across tests, as job ids built from
    # them must be. Rate-limit counters would otherwise carry over to the next test.
    deps: bootstrap.Deps = request.getfixturevalue("app").state.deps
    prefix = deps.settings.redis_prefix
    keys = [key async for key in deps.redis.scan_iter(match=f"{prefix}:rl:*")]
    # Jobs a test queued but did not run are dropped with it.
    keys += [key async for key in deps.redis.scan_iter(match=f"arq:job:{prefix}:*")]
    keys.append(deps.settings.queue_name)
    if keys:
        await deps.redis.delete(*keys)


# A burst worker waits for every queued job, deferred ones included: a job queued for later
# (or queued while a test travelled in time) would keep it waiting for ever.
BURST_LIMIT_SECONDS = 120.0


async def run_worker_burst(app: Starlette) -> None:
    """Run a real arq worker until the queue is empty (its own Redis pool, as in production)."""
    deps: bootstrap.Deps = app.state.deps
    redis = await connect(deps.settings.redis_url, deps.settings.queue_name)
    worker = create_worker(replace(deps, redis=redis), burst=True)
    try:
        await asyncio.wait_for(worker.async_run(), BURST_LIMIT_SECONDS)
    except TimeoutError:
        waiting = await redis.zrange(deps.settings.queue_name, 0, -1, withscores=True)
        raise AssertionError(
            f"the worker did not empty the queue in {BURST_LIMIT_SECONDS:.0f} s; still queued "
            f"(job id, due at in ms since the epoch): {waiting}"
        ) from None
    finally:
        await worker.close()


@pytest.fixture
def worker_burst(app: Starlette):  # type: ignore[no-untyped-def]
    async def run() -> None:
        await run_worker_burst(app)

    return run
