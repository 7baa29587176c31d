"""What rewards does when other areas announce an event (see service.core.events)."""

from __future__ import annotations

from service.challenges.models import Challenge
from service.core.context import Context
from service.core.events import listener
from service.rewards import service


@listener("challenge.cancelled")
async def refund_on_cancel(ctx: Context, challenge: Challenge) -> None:
    """A cancelled challenge's unallocated escrow goes back to who funded it."""
    await service.refund_unallocated(ctx, challenge)
