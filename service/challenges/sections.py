"""Parts of the challenge page that other areas add: where it came from, its timeline, its
projects. Each area names in its manifest a module holding `async def challenge_section(request,
challenge)` that returns a `Section` (a template and its values) or None when it has nothing
to show; the challenges area never imports them.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request

from service.challenges.models import Challenge
from service.core import manifest

# The "money" section (rewards') sits under the summary, "top" ones after it, "bottom" ones at
# the end of the page.
Slot = Literal["money", "top", "bottom"]


@dataclass(frozen=True)
class Section:
    template: str
    slot: Slot
    values: dict[str, Any] = field(default_factory=dict)


Provider = Callable[[Request, Challenge], Awaitable[Section | None]]


def providers() -> list[Provider]:
    return [importlib.import_module(name).challenge_section for name in manifest.section_modules()]


async def sections_of(request: Request, challenge: Challenge) -> dict[Slot, list[Section]]:
    found: dict[Slot, list[Section]] = {"money": [], "top": [], "bottom": []}
    for provider in providers():
        section = await provider(request, challenge)
        if section is not None:
            found[section.slot].append(section)
    return found
