"""People and organizations the challenge tests share."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from service import db
from service.accounts.models import Membership, Organization, OrganizationKind, Role
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


async def treasurer(client: httpx.AsyncClient, city: City) -> factories.Person:
    """A new finance member of the city, signed in with two-factor: recording a bank transfer
    into the escrow needs it (the city's `finance` member of `make_city` signs in without)."""
    person = await factories.person(client, totp=True)
    async with db.transaction(None):
        await Membership.create(user=person.user, organization=city.org, role=Role.finance)
    return person
