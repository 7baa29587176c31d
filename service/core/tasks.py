"""Platform housekeeping jobs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from service.core.jobs import cron

if TYPE_CHECKING:
    from service.bootstrap import Deps


def heartbeat_key(prefix: str) -> str:
    return f"{prefix}:worker:heartbeat"


@cron("core.heartbeat", run_at_startup=True, second={0, 30})
async def heartbeat(deps: Deps) -> None:
    """Records that a worker is alive, for /metrics.

    Running it twice only writes the same kind of timestamp again.
    """
    await deps.redis.set(heartbeat_key(deps.settings.redis_prefix), str(time.time()), ex=300)
