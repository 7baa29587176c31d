"""What the challenges area asks of the residents' proposals, without importing the area that
keeps them (participation builds on challenges, not the reverse): while a city drafts a
challenge, the region's open proposals with a similar title, offered before a duplicate is
drafted.

The participation area registers the answer in a module its manifest lists among its
listeners (service.participation.listeners); it is loaded with the areas' event listeners, on
first use. Without such an area no proposal is offered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from service.core import events


@dataclass(frozen=True)
class OpenProposal:
    id: int
    title: str
    support_count: int


# The region's open proposals most like the title (region, title), whatever their language.
OpenAlike = Callable[[str, str], Awaitable[list[OpenProposal]]]

_registered: list[OpenAlike] = []


def register(open_alike: OpenAlike) -> None:
    """Registering again (every process loads the listeners once; tests may reload) replaces."""
    _registered[:] = [open_alike]


async def open_alike(region: str, title: str) -> list[OpenProposal]:
    if not _registered:
        events.load_listeners()
    return [] if not _registered else await _registered[0](region, title)
