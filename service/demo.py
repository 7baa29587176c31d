"""Demo data: a few cities, startups, universities and investors, with a progress bar.

Run by `make run` on an empty database (`python -m service demo --if-empty`).
Areas add their own steps to `STEPS`.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from tqdm import tqdm

from service import db
from service.accounts.models import Membership, Organization, OrganizationKind, Role, User
from service.config import Settings

DEMO_PASSWORD = "civic-demo-2026"  # noqa: S105 - printed on purpose for the demo accounts

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
            name=name, kind=kind, country=country, region=region, verified_at=now
        )
        user = await User.create(
            email=f"{slug}@demo.civic",
            name=f"{name} owner",
            password_hash=password_hash,
            email_verified_at=now,
        )
        await Membership.create(user=user, organization=org, role=Role.owner)


Step = Callable[[Settings], Awaitable[None]]
STEPS: list[tuple[str, Step]] = [("organizations", seed_organizations)]


async def seed(settings: Settings) -> None:
    with tqdm(total=len(STEPS), desc="demo data", unit="step", file=sys.stdout) as bar:
        for label, step in STEPS:
            bar.set_postfix_str(label)
            async with db.transaction(None):
                await step(settings)
            bar.update(1)


async def main(settings: Settings, *, only_if_empty: bool) -> int:
    await db.init_db(settings)
    try:
        if only_if_empty and await Organization.exists():
            print("demo data: already present, left as it is")
            return 0
        await seed(settings)
        print(f"demo data: every demo account's password is {DEMO_PASSWORD!r}")
        for name, *_ in ORGANIZATIONS:
            org = await Organization.get(name=name)
            owner = await User.get(memberships__organization=org)
            print(f"  {org.kind.value:16} {owner.email:28} {name}")
    finally:
        await db.close_db()
    return 0
