"""Jobs of the participation area."""

from __future__ import annotations

import logging

from service import db
from service.core.jobs import TaskDeps, cron
from service.participation import timeline

log = logging.getLogger(__name__)


@cron("participation.sync_timelines", run_at_startup=True, second={20, 50})
async def sync_timelines(deps: TaskDeps) -> int:
    """Write the public timelines' entries for what happened in the other areas.

    It reads each source from its saved mark (a little before it, for rows that committed
    late), so it catches up after downtime. Running it twice, or two at once, writes each
    entry once: every entry is keyed by its event, and the key is unique in the table.
    """
    async with db.transaction(deps.queue):
        written = await timeline.sync(base_url=deps.settings.base_url)
    if written:
        log.info("timeline entries written", extra={"entries": written})
    return written
