"""Residents, proposals and the region's city, for the participation tests."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from service.participation.tasks import sync_timelines
from tests import factories
from tests.challenges.helpers import City, make_city

REGION = "Madrid"  # the region of the organizations made by tests.factories


def proposal_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Broken street lights on Calle Mayor",
        "description": "Half of the street lights on Calle Mayor have been off since March.",
        "region": REGION,
        "affected": "Everyone walking home after dark.",
        "area": "public_safety",
        "sdgs": [11],
    }
    body.update(overrides)
    return body


async def propose(
    client: httpx.AsyncClient, author: factories.Person, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/proposals",
        json=proposal_body(confirm_distinct=True, **overrides),
        headers=author.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def support(client: httpx.AsyncClient, person: factories.Person, proposal_id: int) -> int:
    response = await client.post(
        f"/api/v1/proposals/{proposal_id}/supports", headers=person.headers
    )
    assert response.status_code == 200, response.text
    return int(response.json()["supporters"])


async def city(client: httpx.AsyncClient) -> City:
    return await make_city(client)


async def sync(app: Starlette) -> int:
    """Run the timeline job as the worker does."""
    return await sync_timelines(app.state.deps)
