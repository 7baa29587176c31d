"""Jobs of the matching area: recomputing rankings, watching track records, demo days."""

from __future__ import annotations

import logging

from service import db
from service.core.jobs import TaskDeps, cron, task
from service.matching import service as matching

log = logging.getLogger(__name__)


@task("matching.recompute_investor", timeout_seconds=600)
async def recompute_investor(deps: TaskDeps, *, organization_id: int) -> int:
    """Rank every startup for one investor and store the result.

    Running it twice is harmless: it reads the current thesis and profiles and replaces the
    investor's stored ranking as a whole, in one transaction.
    """
    async with db.transaction(deps.queue):
        return await matching.recompute_investor(organization_id, settings=deps.settings)


@task("matching.recompute_startup", timeout_seconds=600)
async def recompute_startup(deps: TaskDeps, *, organization_id: int) -> int:
    """Bring the investors' rankings up to date with one startup's change.

    Running it twice is harmless: each affected investor's ranking is recomputed from the
    current data and replaced as a whole; a second run finds the same result.
    """
    async with db.transaction(deps.queue):
        return await matching.recompute_startup(organization_id, settings=deps.settings)


@task("matching.recompute_all", timeout_seconds=3600)
async def recompute_all(deps: TaskDeps) -> int:
    """Refit the text model and rank every startup for every investor.

    Running it twice is harmless: everything is recomputed from the current data and each
    investor's stored ranking is replaced as a whole.
    """
    async with db.transaction(deps.queue):
        return await matching.recompute_all(settings=deps.settings)


@cron("matching.nightly", hour={3}, minute={15})
async def nightly(deps: TaskDeps) -> int:
    """The nightly full recompute (it looks only at the current data, so missing a night is
    made up by the next)."""
    stored = await recompute_all(deps)
    log.info("matching recomputed", extra={"matches": stored})
    return stored


@cron("matching.watch_track_records", minute=set(range(0, 60, 10)))
async def watch_track_records(deps: TaskDeps) -> int:
    """Queue the recompute of each startup whose track record changed in the other areas
    (applications, awards, milestones, payouts, reviews) since it was last read.

    It compares the stored snapshot with the live data, so it catches up after downtime;
    running it twice is harmless (the second run finds nothing changed, and the recompute
    jobs are deduplicated by their ids).
    """
    async with db.transaction(deps.queue):
        changed = await matching.refresh_tracks()
        for organization_id in changed:
            matching.queue_startup(organization_id)
    return len(changed)


@task("matching.schedule_demo_day", timeout_seconds=600)
async def schedule_demo_day(deps: TaskDeps, *, demo_day_id: int) -> int:
    """Compute a demo day's meetings.

    Running it twice is harmless: the demo day is locked and its schedule replaced by the
    same computation on the current data.
    """
    async with db.transaction(deps.queue):
        return await matching.schedule_demo_day(demo_day_id, settings=deps.settings)
