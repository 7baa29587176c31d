"""Jobs of the citizens' panels area: the lottery and the re-draw of a seat a member left.

The solver runs in a thread, so the worker keeps serving other jobs; its progress is written to
the panel row about once a second, for the staff's page.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from service import db
from service.core.jobs import TaskDeps, task
from service.panels import draw
from service.panels import service as panels
from service.panels.models import Panel, PanelStatus, VolunteerStatus

log = logging.getLogger(__name__)


async def _solve(
    deps: TaskDeps,
    panel_id: int,
    quotas: draw.Quotas,
    pool: dict[int, dict[str, str]],
    size: int,
) -> draw.Distribution:
    state: dict[str, Any] = {"phase": "start", "step": 0, "total": None}

    def progress(phase: str, step: int, total: int | None) -> None:
        state.update(phase=phase, step=step, total=total)

    work = asyncio.ensure_future(
        asyncio.to_thread(draw.find_distribution, quotas, pool, size, progress=progress)
    )
    last = time.monotonic()
    while not work.done():
        await asyncio.wait({work}, timeout=1.0)
        if time.monotonic() - last >= 1.0:
            last = time.monotonic()
            async with db.transaction(deps.queue):
                await Panel.filter(id=panel_id, status=PanelStatus.drawing).update(
                    progress=dict(state)
                )
    return work.result()


@task("panels.draw", max_tries=3, timeout_seconds=3600)
async def draw_panel(deps: TaskDeps, *, panel_id: int) -> str:
    """Run the lottery of a panel whose seed was fixed when the draw was asked for.

    Harmless twice: the pool is fixed (the panel is in `drawing`, where nobody joins or
    leaves); seating locks the panel row and does nothing once it is `drawn`, so only the
    first run to finish is seated and published (a second may have found another optimal
    portfolio with the same maximin value).
    """
    panel = await Panel.get(id=panel_id)
    if panel.status is not PanelStatus.drawing:
        return "skipped"
    pool = {
        v.id: dict(v.features)
        for v in await panels.pool_of(panel, statuses=(VolunteerStatus.pool,))
    }
    try:
        distribution = await _solve(deps, panel.id, panel.quotas(), pool, panel.size)
    except draw.QuotaShort as short:
        async with db.transaction(deps.queue):
            await panels.fail_draw(panel.id, short)
        return "refused"
    drawn = draw.draw(distribution, int(panel.seed))
    async with db.transaction(deps.queue):
        done = await panels.finish_draw(panel.id, distribution, drawn)
    log.info("panel drawn", extra={"panel": panel.id, "maximin": distribution.maximin})
    return "drawn" if done else "skipped"


@task("panels.replace", max_tries=3, timeout_seconds=3600)
async def replace_member(deps: TaskDeps, *, panel_id: int, seat: int, seed: str) -> str:
    """Re-draw a seat a member left, by the same maximin lottery over the rest of the pool
    under the quotas still open.

    Harmless twice: the replacement is recorded with its seed, and a second run that finds it
    seats nobody.
    """
    panel = await Panel.get(id=panel_id)
    if any(r["seed"] == seed for r in panel.draw.get("replacements", [])):
        return "skipped"
    quotas, pool, seats = await panels.replacement_problem(panel)
    if seats <= 0:
        return "full"
    try:
        distribution = await asyncio.to_thread(draw.find_distribution, quotas, pool, seats)
    except draw.QuotaShort as short:
        async with db.transaction(deps.queue):
            await panels.fail_replacement(panel.id, seat, seed, short)
        return "refused"
    drawn = draw.draw(distribution, int(seed))
    async with db.transaction(deps.queue):
        done = await panels.finish_replacement(panel.id, seat, seed, distribution, drawn)
    return "replaced" if done else "skipped"
