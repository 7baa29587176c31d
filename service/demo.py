"""Demo data: a few cities, startups, universities and investors, with a progress bar.

Run by `make run` on an empty database (`python -m service demo --if-empty`).
Each area declares its own steps in its manifest (see service.core.manifest); they run by
their order, each in its own transaction.
"""

from __future__ import annotations

import importlib
import sys
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from tqdm import tqdm

from service import areas, db  # noqa: F401 - importing areas registers them
from service.accounts.demo import DEMO_PASSWORD
from service.accounts.models import Membership, Organization, OrganizationKind, Role, User
from service.applications.models import JudgeAssignment
from service.config import Settings
from service.core import manifest, zones
from service.core.jobs import Job
from service.incubation.models import Mentor

ORGANIZATIONS = [
    ("City of Valparaíso", OrganizationKind.government, "CL", "Valparaíso"),
    ("Ayuntamiento de Sevilla", OrganizationKind.government, "ES", "Andalucía"),
    ("Prefeitura de Curitiba", OrganizationKind.government, "BR", "Paraná"),
    ("RutaViva Mobility", OrganizationKind.startup, "CL", "Valparaíso"),
    ("AguaClara Sensors", OrganizationKind.startup, "ES", "Andalucía"),
    ("Recicla+ Tech", OrganizationKind.startup, "BR", "Paraná"),
    ("Universidad Técnica del Pacífico", OrganizationKind.university, "CL", "Valparaíso"),
    ("Instituto de Energia Limpa", OrganizationKind.research_center, "BR", "São Paulo"),
    ("Andes Impact Ventures", OrganizationKind.investor, "CL", "Santiago"),
    ("Atlántico Seed Partners", OrganizationKind.investor, "ES", "Madrid"),
]


async def seed_organizations(settings: Settings) -> None:
    """Each organization gets an owner (`<slug>@demo.civic`); all are verified."""
    from service.accounts.passwords import hash_password

    password_hash = hash_password(DEMO_PASSWORD)
    now = datetime.now(UTC)
    for name, kind, country, region in ORGANIZATIONS:
        slug = (
            name.lower().split()[0]
            if kind is not OrganizationKind.government
            else (name.lower().split()[-1])
        )
        slug = "".join(
            ch for ch in unicodedata.normalize("NFKD", slug) if ch.isascii() and ch.isalnum()
        )
        org = await Organization.create(
            name=name,
            kind=kind,
            country=country,
            region=region,
            time_zone=zones.zone_for_country(country),
            verified_at=now,
        )
        user = await User.create(
            email=f"{slug}@demo.civic",
            name=f"{name} owner",
            password_hash=password_hash,
            email_verified_at=now,
        )
        await Membership.create(user=user, organization=org, role=Role.owner)


# Extra people, so that every role can be tried: (e-mail, name, organization, role).
PEOPLE = [
    ("manager@valparaiso.demo.civic", "Marta Manager", "City of Valparaíso", Role.manager),
    ("editor@valparaiso.demo.civic", "Eduardo Editor", "City of Valparaíso", Role.editor),
    ("finance@valparaiso.demo.civic", "Fernanda Finance", "City of Valparaíso", Role.finance),
    ("member@rutaviva.demo.civic", "Mateo Member", "RutaViva Mobility", Role.member),
    ("citizen@demo.civic", "Clara Citizen", None, None),
    ("operator@demo.civic", "Olga Operator", None, None),
]


async def seed_people(settings: Settings) -> None:
    from service.accounts.passwords import hash_password

    password_hash = hash_password(DEMO_PASSWORD)
    now = datetime.now(UTC)
    for email, name, org_name, role in PEOPLE:
        user = await User.create(
            email=email,
            name=name,
            password_hash=password_hash,
            email_verified_at=now,
            is_operator=email.startswith("operator@"),
        )
        if org_name and role:
            org = await Organization.get(name=org_name)
            await Membership.create(user=user, organization=org, role=role)


Step = Callable[[Settings], Awaitable[None]]


def steps() -> list[tuple[str, Step]]:
    """Every area's demo steps, in their order (see each area's manifest)."""
    found: list[tuple[str, Step]] = []
    for step in manifest.demo_steps():
        module, function = step.function.split(":")
        found.append((step.label, getattr(importlib.import_module(module), function)))
    return found


class SetAside:
    """Demo data is history, not news: the notices it queues are not mailed."""

    def __init__(self) -> None:
        self.count = 0

    async def send(self, job: Job) -> None:
        self.count += 1


async def seed(settings: Settings) -> None:
    set_aside = SetAside()
    to_run = steps()
    with tqdm(total=len(to_run), desc="demo data", unit="step", file=sys.stdout) as bar:
        for label, step in to_run:
            bar.set_postfix_str(label)
            async with db.transaction(set_aside):
                await step(settings)
            bar.update(1)
    if set_aside.count:
        print(f"demo data: {set_aside.count} e-mails of the demo's own history were not sent")


async def print_accounts() -> None:
    print(f"demo accounts (password for all: {DEMO_PASSWORD!r}):")
    for membership in (
        await Membership.all()
        .select_related("user", "organization")
        .order_by("organization_id", "id")
    ):
        org = membership.organization
        print(
            f"  {membership.user.email:36} {membership.role.value:8} {org.kind.value:16} {org.name}"
        )
    judges = set(await JudgeAssignment.all().values_list("user_id", flat=True))
    mentors = set(await Mentor.filter(user_id__not_isnull=True).values_list("user_id", flat=True))
    for user in await User.filter(memberships__id__isnull=True).order_by("id"):
        if user.is_operator:
            role = "operator (turn on two-factor sign-in to act)"
        elif user.id in judges:
            role = "judge"
        elif user.id in mentors:
            role = "mentor"
        else:
            role = "citizen"
        print(f"  {user.email:36} {role}")


async def main(settings: Settings, *, only_if_empty: bool) -> int:
    await db.init_db(settings)
    try:
        if only_if_empty and await Organization.exists():
            print("demo data: already present, left as it is")
            await print_accounts()
            return 0
        await seed(settings)
        await print_accounts()
    finally:
        await db.close_db()
    return 0
