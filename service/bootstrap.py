"""The one place that wires dependencies, for the web app and for the worker alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from arq import ArqRedis

# Importing the site's list of areas registers them: every process that builds its
# dependencies (web app, worker, commands, tests) sees the same models, routes and tasks.
from service import areas, db  # noqa: F401
from service.config import ROOT, Settings
from service.core.jobs import JobQueue
from service.core.redis import EmbeddedRedis, connect
from service.integrations.mail import mailer_for
from service.integrations.storage import Storage, storage_for
from service.rewards.gateway import ManualGateway, PaymentGateway, gateway_for


@dataclass
class Deps:
    """What services and tasks may use, built once per process."""

    settings: Settings
    redis: ArqRedis
    queue: JobQueue
    gateway: PaymentGateway = field(default_factory=ManualGateway)
    mailer: Any = None
    storage: Storage | None = None
    embedded_redis: EmbeddedRedis | None = field(default=None, repr=False)


async def build(
    settings: Settings, *, gateway: Any = None, mailer: Any = None, init_db: bool = True
) -> Deps:
    embedded = None
    redis_url = settings.redis_url
    if not redis_url:
        embedded = EmbeddedRedis(ROOT / "var" / "redis")
        redis_url = embedded.url
    redis = await connect(redis_url, settings.queue_name)
    if init_db:
        await db.init_db(settings)
    return Deps(
        settings=settings,
        redis=redis,
        queue=JobQueue(redis, settings.queue_name),
        gateway=gateway or gateway_for(settings),
        mailer=mailer or mailer_for(settings),
        storage=await storage_for(settings),
        embedded_redis=embedded,
    )


async def close(deps: Deps, *, close_db: bool = True) -> None:
    await deps.redis.aclose()
    await deps.gateway.aclose()
    if deps.storage is not None:
        await deps.storage.aclose()
    if close_db:
        await db.close_db()
    if deps.embedded_redis is not None:
        deps.embedded_redis.shutdown()
