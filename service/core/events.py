"""One-way calls between areas: an area announces what happened, and the areas that must act
on it do so in the same transaction, without the announcing area importing them.

The challenges area announces "challenge.cancelled"; rewards, which builds on challenges,
refunds what was not allocated. Challenges never learns that rewards exists, so the import
graph keeps its direction (see the layers in pyproject.toml).

A listener is `async def fn(**kwargs)`, registered with `@listener("event")` in a module its
area names in its manifest (`Area.listeners`); they are loaded before the first event is
announced. An event no listener is registered for is an error: a typo must not silently
skip a refund. Listeners run in the announcing transaction, in the order their areas are
listed; one that raises rolls the whole change back.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

from service.core import manifest

Listener = Callable[..., Awaitable[Any]]

# The events areas may announce, each with what it carries.
EVENTS: dict[str, str] = {
    "challenge.cancelled": "ctx, challenge: a challenge was cancelled (in its transaction)",
    "organization.verified": "organization: an operator verified it (in that transaction)",
    "rates.changed": "settings: exchange rates were added or changed (in that transaction); "
    "a listener answers how many stored amounts it converted again",
}

_listeners: dict[str, list[Listener]] = {}
_loaded = False


def listener(event: str) -> Callable[[Listener], Listener]:
    if event not in EVENTS:
        raise LookupError(f"unknown event {event!r}")

    def register(fn: Listener) -> Listener:
        found = _listeners.setdefault(event, [])
        if fn not in found:
            found.append(fn)
        return fn

    return register


def load_listeners() -> None:
    global _loaded
    for module in manifest.listener_modules():
        importlib.import_module(module)
    _loaded = True


async def announce(event: str, **kwargs: Any) -> list[Any]:
    """Run the event's listeners in order; returns what each answered (most answer None)."""
    if event not in EVENTS:
        raise LookupError(f"unknown event {event!r}")
    if not _loaded:
        load_listeners()
    found = _listeners.get(event)
    if not found:
        raise LookupError(f"no area listens to {event!r}")
    return [await fn(**kwargs) for fn in found]
