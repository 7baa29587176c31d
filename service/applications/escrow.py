"""The money of an award, which the rewards area keeps: what a challenge may still award (its
escrow not yet allocated), the award's allocation and milestones, and the milestones an award
lists.

Rewards builds on applications (it pays an award's lead and partners, so it reads their rows);
applications therefore never imports rewards, which hands it these functions from a module its
manifest lists among its listeners (service.rewards.listeners), loaded with the areas' event
listeners on first use. Awarding without an area keeping the money is an error: an award must
not be made without its escrow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.applications.models import Award
from service.challenges.models import Challenge
from service.core import events


@dataclass(frozen=True)
class Milestone:
    id: int
    title: str
    amount_minor: int
    currency: str
    due_at: datetime
    status: str


@dataclass(frozen=True)
class Escrow:
    # The escrowed money not yet awarded: the ceiling of new awards.
    available: Callable[[Challenge], Awaitable[int]]
    # Allocate the award's amount from the escrow and open its milestones (dicts of title,
    # amount_minor and due_at, in order), under the challenge's lock.
    open_award: Callable[[Award, Challenge, list[dict[str, Any]]], Awaitable[None]]
    # The award's milestones, in order.
    milestones: Callable[[Award], Awaitable[list[Milestone]]]


_provided: list[Escrow] = []


def provide(escrow: Escrow) -> None:
    """Providing again (every process loads the listeners once; tests may reload) replaces."""
    _provided[:] = [escrow]


def escrow() -> Escrow:
    if not _provided:
        events.load_listeners()
    if not _provided:
        raise RuntimeError("no area keeps the awards' money (rewards provides it)")
    return _provided[0]
