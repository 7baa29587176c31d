"""The job queue, kept behind one module.

Areas declare work with `@task("area.name")` and `@cron("area.name", ...)`; a task function
receives the process's dependencies, typed by `TaskDeps` (defined here, built by the
bootstrap above every area), and keyword arguments (ids, not objects), never arq's raw
context. Services queue work with `enqueue(...)` inside `service.db.transaction()`; it is
sent only after the commit. Payloads are JSON, so a job is readable in Redis and portable.

arq may run a job more than once (a worker killed mid-job, a retry after a timeout): every
task must say in its docstring why running it twice is harmless.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from arq import ArqRedis
from arq.cron import CronJob
from arq.cron import cron as arq_cron
from arq.typing import WorkerCoroutine
from arq.worker import Function
from arq.worker import func as arq_func

from service.config import Settings
from service.core import manifest

TaskFn = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Job:
    name: str
    kwargs: dict[str, Any]
    # A deterministic id makes arq refuse a duplicate while the first is queued or kept.
    job_id: str | None = None
    defer_seconds: float | None = None


@dataclass
class TaskSpec:
    name: str
    fn: TaskFn
    max_tries: int
    timeout_seconds: int


@dataclass
class CronSpec:
    name: str
    fn: TaskFn
    schedule: dict[str, Any] = field(default_factory=dict)
    run_at_startup: bool = False


TASKS: dict[str, TaskSpec] = {}
CRONS: dict[str, CronSpec] = {}

_pending: ContextVar[list[Job] | None] = ContextVar("pending_jobs", default=None)


def task(
    name: str, *, max_tries: int = 5, timeout_seconds: int = 300
) -> Callable[[TaskFn], TaskFn]:
    """Register `fn(deps, **kwargs)` as the task `name`."""

    def register(fn: TaskFn) -> TaskFn:
        if name in TASKS and TASKS[name].fn is not fn:
            raise ValueError(f"task {name!r} is registered twice")
        TASKS[name] = TaskSpec(name, fn, max_tries, timeout_seconds)
        return fn

    return register


def cron(name: str, *, run_at_startup: bool = False, **schedule: Any) -> Callable[[TaskFn], TaskFn]:
    """Register `fn(deps)` to run on a schedule (arq's cron fields: minute, hour, ...).

    A cron job must catch up by itself after downtime: it looks at the state of the data,
    not at how long ago it last ran.
    """

    def register(fn: TaskFn) -> TaskFn:
        CRONS[name] = CronSpec(name, fn, dict(schedule), run_at_startup)
        return fn

    return register


def enqueue(
    name: str, *, job_id: str | None = None, defer_seconds: float | None = None, **kwargs: Any
) -> None:
    """Queue a task to be sent when the current transaction commits."""
    pending = _pending.get()
    if pending is None:
        raise RuntimeError("enqueue() needs an open service.db.transaction()")
    if name not in TASKS:
        load_tasks()
    if name not in TASKS:
        raise LookupError(f"unknown task {name!r}")
    pending.append(Job(name, kwargs, job_id, defer_seconds))


def load_tasks() -> None:
    import importlib

    for module in manifest.task_modules():
        importlib.import_module(module)


def buffer_active() -> bool:
    return _pending.get() is not None


@contextmanager
def collect() -> Iterator[list[Job]]:
    pending: list[Job] = []
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)


def serialize(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), default=str).encode()


def deserialize(data: bytes) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(data)
    return result


class JobSender(Protocol):
    async def send(self, job: Job) -> None: ...


class JobQueue:
    """Sends jobs to arq on one Redis connection pool."""

    def __init__(self, redis: ArqRedis, queue_name: str) -> None:
        self.redis = redis
        self.queue_name = queue_name

    async def send(self, job: Job) -> None:
        # Ids carry the queue's name, so jobs of instances sharing a Redis stay apart.
        job_id = f"{self.queue_name}:{job.job_id or uuid.uuid4().hex}"
        await self.redis.enqueue_job(
            job.name,
            _job_id=job_id,
            _queue_name=self.queue_name,
            _defer_by=job.defer_seconds,
            **job.kwargs,
        )

    async def depth(self) -> int:
        """Jobs waiting in the queue (queued or deferred, not yet picked up)."""
        return int(await self.redis.zcard(self.queue_name))


class TaskDeps(Protocol):
    """What every task may use, built once per worker process by `service.bootstrap`.

    Declared here, at the bottom, so that the areas' tasks depend on core and not on the
    bootstrap that wires them; an area that needs more (rewards: its payment gateway) extends
    this protocol in its own package, and the bootstrap's object satisfies them all.
    """

    settings: Settings
    redis: ArqRedis
    queue: JobQueue
    mailer: Any


def _bind(spec_fn: TaskFn, name: str) -> WorkerCoroutine:
    async def run(ctx: dict[str, Any], **kwargs: Any) -> Any:
        deps: TaskDeps = ctx["deps"]
        return await spec_fn(deps, **kwargs)

    run.__qualname__ = run.__name__ = name.replace(".", "_")
    return cast(WorkerCoroutine, run)


def arq_functions() -> list[Function]:
    return [
        arq_func(
            _bind(spec.fn, spec.name),
            name=spec.name,
            max_tries=spec.max_tries,
            timeout=spec.timeout_seconds,
        )
        for spec in TASKS.values()
    ]


def arq_cron_jobs() -> list[CronJob]:
    return [
        arq_cron(
            _bind(spec.fn, spec.name),
            name=spec.name,
            run_at_startup=spec.run_at_startup,
            unique=True,
            **spec.schedule,
        )
        for spec in CRONS.values()
    ]
