"""Jobs of the investors area: expiring intro requests and telling watchers the news."""

from __future__ import annotations

from service import db
from service.core.jobs import TaskDeps, cron
from service.investors import service as investors


@cron("investors.expire_intros", minute={7, 37}, run_at_startup=True)
async def expire_intros(deps: TaskDeps) -> int:
    """Close the intro requests open for longer than allowed, and tell both sides.

    Running it twice is harmless: each request is locked and re-checked, and an expired one
    is not open any more. It looks at the dates in the data, so it catches up after downtime.
    """
    async with db.transaction(deps.queue):
        return await investors.expire_due()


@cron("investors.notify_watchers", minute=set(range(0, 60, 10)), run_at_startup=True)
async def notify_watchers(deps: TaskDeps) -> int:
    """Tell investors when a startup they watch won a challenge or delivered a milestone.

    Running it twice is harmless: each event is recorded once per watch (a unique row), and
    only a newly recorded one is told.
    """
    async with db.transaction(deps.queue):
        return await investors.notify_watchers()
