"""How much of a challenge's money is still free to award."""

from __future__ import annotations

from tortoise.functions import Sum

from service.challenges.models import Award, Challenge


async def allocated(challenge: Challenge) -> int:
    row = (
        await Award.filter(challenge_id=challenge.id)
        .annotate(total=Sum("amount_minor"))
        .first()
        .values("total")
    )
    return int(row["total"] or 0) if row else 0


async def unallocated(challenge: Challenge) -> int:
    """The reward amount less what is already awarded.

    When escrow funding lands, the ceiling becomes the escrowed balance instead.
    """
    return challenge.reward_amount_minor - await allocated(challenge)
