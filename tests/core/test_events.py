"""One-way calls between areas (service.core.events)."""

from __future__ import annotations

import pytest

from service.core import events, manifest


async def test_an_unknown_event_is_refused_on_announcing_and_on_listening() -> None:
    with pytest.raises(LookupError, match="unknown event"):
        await events.announce("challenge.canceled")
    with pytest.raises(LookupError, match="unknown event"):
        events.listener("challenge.canceled")


async def test_every_event_has_a_listener_from_an_area_manifest() -> None:
    events.load_listeners()
    assert manifest.listener_modules()
    for event in events.EVENTS:
        listeners = events._listeners.get(event, [])
        assert listeners, f"no area listens to {event}"
        assert {fn.__module__ for fn in listeners} <= set(manifest.listener_modules())
