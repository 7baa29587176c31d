"""The arq worker, assembled from every area's tasks and cron jobs.

Run it with `python -m service worker` (or `arq service.worker.WorkerSettings`).
"""

from __future__ import annotations

from typing import Any

from arq.worker import Worker

from service import bootstrap
from service.config import Settings
from service.core import jobs
from service.core.redis import redis_settings


def load_tasks() -> None:
    jobs.load_tasks()


def create_worker(deps: bootstrap.Deps, *, burst: bool = False, **options: Any) -> Worker:
    """A worker bound to already-built dependencies (tests run it in burst mode)."""
    load_tasks()
    settings = deps.settings
    return Worker(
        functions=jobs.arq_functions(),
        cron_jobs=jobs.arq_cron_jobs(),
        redis_pool=deps.redis,
        queue_name=settings.queue_name,
        ctx={"deps": deps},
        burst=burst,
        # arq's 0.5 s default poll delay caps throughput and latency; Redis copes with 10/s.
        poll_delay=settings.worker_poll_delay,
        max_jobs=settings.worker_max_jobs,
        # Results are kept briefly: a job id stays blocked while its result is kept.
        keep_result=60,
        job_serializer=jobs.serialize,
        job_deserializer=jobs.deserialize,
        handle_signals=not burst,
        **options,
    )


async def _startup(ctx: dict[str, Any]) -> None:
    ctx["deps"] = await bootstrap.build(Settings())


async def _shutdown(ctx: dict[str, Any]) -> None:
    if "deps" in ctx:
        await bootstrap.close(ctx["deps"])


class WorkerSettings:
    """For `arq service.worker.WorkerSettings`; reads REDIS_URL (must be set)."""

    load_tasks()
    functions = jobs.arq_functions()
    cron_jobs = jobs.arq_cron_jobs()
    on_startup = _startup
    on_shutdown = _shutdown
    redis_settings = redis_settings(Settings().redis_url or "redis://127.0.0.1:6379")
    queue_name = Settings().queue_name
    poll_delay = Settings().worker_poll_delay
    max_jobs = Settings().worker_max_jobs
    job_serializer = jobs.serialize
    job_deserializer = jobs.deserialize
