"""Jobs of the incubation area: places offered to new winners, and check-in reminders and
flags."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from service import db
from service.accounts.actor import Actor
from service.core.context import Context
from service.core.jobs import TaskDeps, cron
from service.incubation import service as incubation

log = logging.getLogger(__name__)


def _system(deps: TaskDeps) -> Context:
    return Context(actor=Actor(), settings=deps.settings)


@cron("incubation.offer_places", run_at_startup=True, second={20})
async def offer_places(deps: TaskDeps) -> int:
    """Offer each newly awarded winner a place in its city's next cohort with room.

    It reads the data, not the clock: an award is new while no place names it, so awards
    made during downtime (or before the city opened a cohort) are picked up later. Running it
    twice is harmless: an award that already has a place is skipped, and a startup holds at
    most one place per cohort (a unique pair in the database).
    """
    async with db.transaction(deps.queue):
        count = await incubation.offer_places_for_new_awards(_system(deps), now=datetime.now(UTC))
    if count:
        log.info("cohort places offered to winners", extra={"offers": count})
    return count


@cron("incubation.check_in_alerts", run_at_startup=True, minute={7, 37}, second={0})
async def check_in_alerts(deps: TaskDeps) -> tuple[int, int]:
    """Remind the startups late with a check-in; flag to staff those red or late twice in a
    row.

    Harmless when run twice: each reminder and flag is a row unique per place, step and kind,
    inserted before anyone is told, so a second run (or two workers at once) finds it and
    sends nothing.
    """
    async with db.transaction(deps.queue):
        reminders, flags = await incubation.check_in_alerts(_system(deps), now=datetime.now(UTC))
    if reminders or flags:
        log.info("check-in alerts", extra={"reminders": reminders, "flags": flags})
    return reminders, flags
