"""The part of the challenge page that rewards adds: its money panel (see
service.challenges.sections)."""

from __future__ import annotations

from starlette.requests import Request

from service.challenges.models import Challenge
from service.challenges.sections import Section
from service.rewards.pages import money_panel


async def challenge_section(request: Request, challenge: Challenge) -> Section:
    """Every challenge page shows its money: totals, the public ledger and the funding form."""
    return Section("rewards/_money.html", "money", {"money": await money_panel(request, challenge)})
