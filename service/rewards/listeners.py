"""What rewards does when other areas announce an event (see service.core.events), and the
money of awards it provides to the applications area (see service.applications.escrow)."""

from __future__ import annotations

from service.applications import escrow
from service.challenges.models import Challenge
from service.core.context import Context
from service.core.events import listener
from service.rewards import service


@listener("challenge.cancelled")
async def refund_on_cancel(ctx: Context, challenge: Challenge) -> None:
    """A cancelled challenge's unallocated escrow goes back to who funded it."""
    await service.refund_unallocated(ctx, challenge)


escrow.provide(
    escrow.Escrow(
        available=service.unallocated,
        open_award=service.open_award,
        milestones=service.milestones_of,
    )
)
