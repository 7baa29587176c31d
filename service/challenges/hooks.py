"""What the challenges area asks of the applications made to a challenge, without importing the
area that keeps them (applications builds on challenges, not the reverse): whether the
challenge has judges (the scheduler starts judging only then) and who won it (its page and its
API list the winners).

The applications area registers the answers in a module its manifest lists among its
listeners (service.applications.listeners); they are loaded with the areas' event listeners,
on first use. Without such an area a challenge has no judges and no winners.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from service.challenges.models import Challenge
from service.core import events


@dataclass(frozen=True)
class Winner:
    award_id: int
    application_id: int
    organization_id: int
    organization_name: str
    amount_minor: int
    currency: str
    rationale: str


HasJudges = Callable[[Challenge], Awaitable[bool]]
Winners = Callable[[Challenge], Awaitable[list[Winner]]]


@dataclass(frozen=True)
class Hooks:
    has_judges: HasJudges
    winners: Winners


_registered: list[Hooks] = []


def register(hooks: Hooks) -> None:
    """Registering again (every process loads the listeners once; tests may reload) replaces."""
    _registered[:] = [hooks]


def _hooks() -> Hooks | None:
    if not _registered:
        events.load_listeners()
    return _registered[0] if _registered else None


async def has_judges(challenge: Challenge) -> bool:
    hooks = _hooks()
    return hooks is not None and await hooks.has_judges(challenge)


async def winners(challenge: Challenge) -> list[Winner]:
    hooks = _hooks()
    return [] if hooks is None else await hooks.winners(challenge)
