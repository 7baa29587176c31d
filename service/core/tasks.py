"""Platform housekeeping jobs."""

from __future__ import annotations

import time

from service.core.jobs import TaskDeps, cron


def heartbeat_key(prefix: str) -> str:
    return f"{prefix}:worker:heartbeat"


@cron("core.heartbeat", run_at_startup=True, second={0, 30})
async def heartbeat(deps: TaskDeps) -> None:
    """Records that a worker is alive, for /metrics.

    Running it twice only writes the same kind of timestamp again.
    """
    await deps.redis.set(heartbeat_key(deps.settings.redis_prefix), str(time.time()), ex=300)
