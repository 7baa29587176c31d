"""Jobs of the deliberation area: the opinion map, computed after votes settle."""

from __future__ import annotations

import logging
from datetime import timedelta

from service import db
from service.core.jobs import TaskDeps, cron, task
from service.deliberation import service as deliberation

log = logging.getLogger(__name__)


@task(deliberation.MAP_JOB, max_tries=3, timeout_seconds=600)
async def compute_map(deps: TaskDeps, *, conversation_id: int) -> int:
    """Compute a conversation's opinion map from all its votes.

    Running it twice is harmless: a map is a function of the votes, the second run either
    finds the conversation up to date and returns, or replaces the map with the same or a
    newer one. The previous map is served until the new one is saved.
    """
    async with db.transaction(deps.queue):
        if not await deliberation.begin_map(conversation_id):
            return 0
    # No transaction is held while it computes: votes keep coming in meanwhile.
    result, seconds = await deliberation.compute_result(conversation_id)
    async with db.transaction(deps.queue):
        saved = await deliberation.save_map(conversation_id, result, seconds)
    log.info(
        "opinion map computed",
        extra={
            "conversation": conversation_id,
            "votes": saved.vote_count,
            "seconds": saved.seconds,
        },
    )
    return saved.vote_count


@cron("deliberation.stale_maps", minute=set(range(60)), second={40})
async def stale_maps(deps: TaskDeps) -> int:
    """Queue the maps whose debounced job was refused (its id was still held by a run that
    had just finished). Running it twice queues the same job ids, which arq keeps once."""
    async with db.transaction(deps.queue):
        return await deliberation.request_stale_maps(older_than=timedelta(minutes=1))
