"""A city's programme and cohort, an awarded winner offered a place, mentors: for the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from service import db
from service.accounts.actor import Actor
from service.accounts.models import OrganizationKind, Role
from service.config import Settings
from service.core.context import Context
from service.incubation import service as incubation
from tests import factories
from tests.challenges.helpers import City
from tests.rewards.helpers import Awarded, awarded


def cohort_body(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "name": "Spring cohort",
        "starts_at": (now - timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=120)).isoformat(),
        "capacity": 5,
        "cadence": "weekly",
        "space_name": "Innovation Hub",
        "space_address": "Calle Mayor 1, Madrid",
    }
    body.update(changes)
    return body


async def programme(client: httpx.AsyncClient, city: City, **changes: Any) -> int:
    body = {"organization_id": city.org.id, "name": "City Incubator", **changes}
    response = await client.post("/api/v1/programmes", json=body, headers=city.manager.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def cohort(client: httpx.AsyncClient, city: City, programme_id: int, **changes: Any) -> int:
    response = await client.post(
        f"/api/v1/programmes/{programme_id}/cohorts",
        json=cohort_body(**changes),
        headers=city.manager.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def run_offers(settings: Settings) -> int:
    async with db.transaction(None):
        return await incubation.offer_places_for_new_awards(
            Context(actor=Actor(), settings=settings), now=datetime.now(UTC)
        )


@dataclass
class World:
    a: Awarded
    programme_id: int
    cohort_id: int
    place_id: int

    @property
    def city(self) -> City:
        return self.a.city


async def offered(client: httpx.AsyncClient, settings: Settings, **cohort_changes: Any) -> World:
    """An awarded winner, its city's programme and cohort, and the offer made by the cron."""
    a = await awarded(client)
    programme_id = await programme(client, a.city)
    cohort_id = await cohort(client, a.city, programme_id, **cohort_changes)
    assert await run_offers(settings) == 1
    places = await client.get(f"/api/v1/cohorts/{cohort_id}/places", headers=a.city.manager.headers)
    (place,) = places.json()["items"]
    return World(a=a, programme_id=programme_id, cohort_id=cohort_id, place_id=place["id"])


async def admitted(client: httpx.AsyncClient, settings: Settings, **changes: Any) -> World:
    world = await offered(client, settings, **changes)
    response = await client.post(
        f"/api/v1/places/{world.place_id}/accept", headers=world.a.winner.headers
    )
    assert response.status_code == 200, response.text
    return world


async def startup(client: httpx.AsyncClient) -> tuple[factories.Person, int]:
    person = await factories.person(client)
    org = await factories.make_org(kind=OrganizationKind.startup, members={person.user: Role.owner})
    return person, org.id


async def applied_and_admitted(
    client: httpx.AsyncClient, world: World, sectors: list[str]
) -> tuple[factories.Person, int, int]:
    person, org_id = await startup(client)
    response = await client.post(
        f"/api/v1/cohorts/{world.cohort_id}/applications",
        json={
            "organization_id": org_id,
            "pitch": "Sensors that find leaks in old water pipes.",
            "sectors": sectors,
        },
        headers=person.headers,
    )
    assert response.status_code == 201, response.text
    place_id = int(response.json()["id"])
    admitted = await client.post(
        f"/api/v1/places/{place_id}/admit", headers=world.city.manager.headers
    )
    assert admitted.status_code == 200, admitted.text
    return person, org_id, place_id


async def mentor(
    client: httpx.AsyncClient, world: World, expertise: list[str], capacity: int = 2
) -> tuple[factories.Person, int]:
    person = await factories.person(client)
    invited = await client.post(
        f"/api/v1/cohorts/{world.cohort_id}/mentors",
        json={"email": person.user.email, "expertise": expertise, "capacity": capacity},
        headers=world.city.manager.headers,
    )
    assert invited.status_code == 201, invited.text
    mentor_id = int(invited.json()["id"])
    accepted = await client.post(f"/api/v1/mentors/{mentor_id}/accept", headers=person.headers)
    assert accepted.status_code == 200, accepted.text
    return person, mentor_id
