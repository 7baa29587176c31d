from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import pytest
from starlette.applications import Starlette

from service import db
from service.accounts.models import Organization, OrganizationKind
from service.core.jobs import enqueue, task

if TYPE_CHECKING:
    from service.bootstrap import Deps


@task("tests.mark_done")
async def mark_done(deps: Deps, *, key: str) -> None:
    """Sets a Redis key; setting it twice leaves the same value."""
    await deps.redis.set(f"{deps.settings.redis_prefix}:test:{key}", "done")


class Boom(Exception):
    pass


async def _marked(app: Starlette, key: str) -> bool:
    deps = app.state.deps
    return await deps.redis.get(f"{deps.settings.redis_prefix}:test:{key}") is not None


class TestTransactionQueuesJobs:
    async def test_job_queued_in_committed_transaction_runs_on_a_worker(
        self, app: Starlette, worker_burst: Callable[[], Awaitable[None]]
    ) -> None:
        async with db.transaction(app.state.deps.queue):
            await Organization.create(
                name="Committed", kind=OrganizationKind.startup, country="ES", region="Madrid"
            )
            enqueue("tests.mark_done", key="committed")
            # Nothing reaches the queue before the commit.
            assert await app.state.deps.queue.depth() == 0
        assert await app.state.deps.queue.depth() == 1
        await worker_burst()
        assert await _marked(app, "committed")
        assert await app.state.deps.queue.depth() == 0

    async def test_job_queued_in_rolled_back_transaction_never_runs(
        self, app: Starlette, worker_burst: Callable[[], Awaitable[None]]
    ) -> None:
        with pytest.raises(Boom):
            async with db.transaction(app.state.deps.queue):
                await Organization.create(
                    name="Rolled back",
                    kind=OrganizationKind.startup,
                    country="ES",
                    region="Madrid",
                )
                enqueue("tests.mark_done", key="rolled-back")
                raise Boom
        assert await app.state.deps.queue.depth() == 0
        await worker_burst()
        assert not await _marked(app, "rolled-back")
        assert not await Organization.filter(name="Rolled back").exists()

    async def test_enqueue_outside_a_transaction_is_refused(self, app: Starlette) -> None:
        with pytest.raises(RuntimeError, match="transaction"):
            enqueue("tests.mark_done", key="nowhere")

    async def test_unknown_task_is_refused(self, app: Starlette) -> None:
        with pytest.raises(LookupError):
            async with db.transaction(app.state.deps.queue):
                enqueue("tests.no_such_task")
