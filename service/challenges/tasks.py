"""The scheduler that moves challenges along their dates."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from service import db
from service.challenges import service as challenges
from service.core.jobs import TaskDeps, cron

log = logging.getLogger(__name__)


@cron("challenges.advance_by_dates", run_at_startup=True, second={5, 35})
async def advance_by_dates(deps: TaskDeps) -> int:
    """Open, close and start judging on challenges whose dates have come.

    It looks at the data, not at when it last ran, so it catches up after downtime (a
    challenge that should have opened and closed meanwhile takes both steps). Running it
    twice is harmless: rows are locked (others' locks skipped), each status is re-read, and a
    step already taken is not allowed again by the transition table (and is unique in the
    history table).
    """
    async with db.transaction(deps.queue):
        moved = await challenges.advance_all(now=datetime.now(UTC))
    if moved:
        log.info("challenges moved along their dates", extra={"moves": moved})
    return moved
