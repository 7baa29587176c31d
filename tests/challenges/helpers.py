"""People and organizations the challenge tests share."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from service.accounts.models import Organization, OrganizationKind, Role
from tests import factories


@dataclass
class City:
    org: Organization
    owner: factories.Person
    manager: factories.Person
    editor: factories.Person
    finance: factories.Person


async def make_city(client: httpx.AsyncClient, *, verified: bool = True) -> City:
    people = {
        role: await factories.person(client) for role in ("owner", "manager", "editor", "finance")
    }
    org = await factories.make_org(
        kind=OrganizationKind.government,
        verified=verified,
        members={people[r].user: Role(r) for r in people},
    )
    return City(org=org, **people)
