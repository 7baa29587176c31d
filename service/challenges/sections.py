"""Parts of the challenge page that other areas add: where it came from, its timeline, its
projects. Each area names a module here holding `async def challenge_section(request, challenge)`
that returns a `Section` (a template and its values) or None when it has nothing to show.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request

from service.challenges.models import Challenge

# "top" sections sit under the summary, "bottom" ones at the end of the page.
Slot = Literal["top", "bottom"]


@dataclass(frozen=True)
class Section:
    template: str
    slot: Slot
    values: dict[str, Any] = field(default_factory=dict)


Provider = Callable[[Request, Challenge], Awaitable[Section | None]]
# Modules with a `challenge_section` provider, in the order their sections appear.
PROVIDER_MODULES: list[str] = [
    "service.opendata.provenance",
    "service.participation.pages",
    "service.deliberation.pages",
    "service.incubation.sections",
    "service.funding.pages",
    "service.panels.pages",
]


def providers() -> list[Provider]:
    return [importlib.import_module(name).challenge_section for name in PROVIDER_MODULES]


async def sections_of(request: Request, challenge: Challenge) -> dict[Slot, list[Section]]:
    found: dict[Slot, list[Section]] = {"top": [], "bottom": []}
    for provider in providers():
        section = await provider(request, challenge)
        if section is not None:
            found[section.slot].append(section)
    return found
