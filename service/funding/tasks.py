"""Jobs of the funding rounds area: the count of each round when its voting closes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from service import db
from service.core.jobs import TaskDeps, cron, enqueue, task
from service.funding import service as funding

log = logging.getLogger(__name__)


@task("funding.count_round", max_tries=3, timeout_seconds=600)
async def count_round(deps: TaskDeps, *, round_id: int) -> bool:
    """Count one closed round: the outcome, the reservations and the sealed ballots.

    Harmless when run twice: the round's row is locked and the count only runs while the
    round is still `published`; the first run leaves it `counted` in the same transaction, so
    a second run (or one racing it) finds nothing to do.
    """
    async with db.transaction(deps.queue):
        counted = await funding.count(round_id, now=datetime.now(UTC))
    if counted:
        log.info("funding round counted", extra={"round": round_id})
    return counted


@cron("funding.close_rounds", run_at_startup=True, second={5, 35})
async def close_rounds(deps: TaskDeps) -> int:
    """Queue the count of every round whose voting has closed and that is not counted.

    It reads the data, not the clock of its last run, so rounds closed during downtime are
    counted later. Running it twice queues a job id per round once (arq refuses a duplicate
    while the first is queued) and the count itself is safe to repeat.
    """
    async with db.transaction(deps.queue):
        due = await funding.due_rounds(datetime.now(UTC))
        for round_id in due:
            enqueue("funding.count_round", job_id=f"funding-count-{round_id}", round_id=round_id)
    return len(due)
