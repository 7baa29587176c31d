"""Demo data of the investors area: profiles, theses, rankings, picks, watches and intros.

The startups of the earlier steps get deal-flow profiles (their track record comes from the
demo challenges they applied to and won); a few more startups and a third investor with its
own thesis make the ranking worth reading. Rankings are computed by matching's recompute.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

from service.accounts.models import Membership, Organization, OrganizationKind, Role, User
from service.config import Settings
from service.core.money import to_minor
from service.investors.models import CityPick, IntroRequest, IntroStatus, Watch
from service.matching import service as matching
from service.matching.models import InvestorThesis, StartupProfile

# name -> (sectors, stage, ask in EUR (only startups ask), region, description, opt in, share
# scores)
PROFILES: dict[str, tuple[list[str], str, int | None, str, str, bool, bool]] = {
    "RutaViva Mobility": (
        ["mobility", "digital_government"],
        "seed",
        400_000,
        "Valparaíso",
        "Real-time school-bus routing that adapts to traffic; piloted with the city.",
        True,
        True,
    ),
    "AguaClara Sensors": (
        ["water", "environment"],
        "pre_seed",
        250_000,
        "Andalucía",
        "Low-cost sensors that find leaks in municipal water networks.",
        True,
        False,
    ),
    "Recicla+ Tech": (
        ["waste", "environment"],
        "seed",
        600_000,
        "Paraná",
        "Sorting robots and route planning for municipal recycling.",
        True,
        True,
    ),
    "Universidad Técnica del Pacífico": (
        ["mobility", "energy"],
        "idea",
        None,
        "Valparaíso",
        "Applied research on electric public transport and port logistics.",
        True,
        False,
    ),
    "Instituto de Energia Limpa": (
        ["energy"],
        "pre_seed",
        None,
        "São Paulo",
        "Solar microgrids for public buildings and schools.",
        False,
        False,
    ),
}

# More startups: (name, country, region, sectors, stage, ask, description)
MORE_STARTUPS = [
    (
        "Bici Norte",
        "CL",
        "Valparaíso",
        ["mobility"],
        "pre_seed",
        120_000,
        "Shared cargo bikes for last-mile deliveries in hilly cities.",
    ),
    (
        "Luz Pública",
        "ES",
        "Andalucía",
        ["energy", "public_safety"],
        "seed",
        800_000,
        "Smart street lighting that dims when streets are empty.",
    ),
    (
        "Saúde Perto",
        "BR",
        "Paraná",
        ["health", "social_inclusion"],
        "seed",
        500_000,
        "Appointment routing for public health clinics.",
    ),
    (
        "Aula Abierta",
        "CL",
        "Santiago",
        ["education"],
        "series_a",
        2_000_000,
        "Open courseware and tutoring for public schools.",
    ),
    (
        "Verde Urbano",
        "ES",
        "Madrid",
        ["environment", "housing"],
        "idea",
        80_000,
        "Green roofs for social housing with measured cooling effects.",
    ),
    (
        "Agro Datos",
        "BR",
        "Paraná",
        ["agriculture", "water"],
        "series_a",
        1_500_000,
        "Irrigation forecasts for smallholders from public weather data.",
    ),
]

# investor -> (sectors, stages, ticket EUR min, max, regions, regions strict, text)
THESES: dict[str, tuple[list[str], list[str], int, int, list[str], bool, str]] = {
    "Andes Impact Ventures": (
        ["mobility", "waste", "digital_government"],
        ["seed", "series_a"],
        200_000,
        2_000_000,
        ["Valparaíso", "Santiago", "Paraná"],
        False,
        "Latin American startups that make city services work: transport, recycling, "
        "digital public services.",
    ),
    "Atlántico Seed Partners": (
        ["water", "energy", "environment"],
        ["pre_seed", "seed"],
        100_000,
        800_000,
        ["Andalucía", "Madrid"],
        False,
        "Early climate and water technology proven with Spanish municipalities.",
    ),
    "Pampa Climate Fund": (
        ["energy", "environment", "agriculture"],
        ["seed", "series_a", "series_b"],
        500_000,
        5_000_000,
        [],
        False,
        "Climate adaptation at scale: energy, food and water for growing cities.",
    ),
}


async def _startup(
    name: str, country: str, region: str, *, kind: OrganizationKind = OrganizationKind.startup
) -> Organization:
    from service.accounts.passwords import hash_password

    org = await Organization.create(
        name=name,
        kind=kind,
        country=country,
        region=region,
        verified_at=datetime.now(UTC),
    )
    plain = unicodedata.normalize("NFKD", name.lower())
    slug = "".join(ch for ch in plain if ch.isascii() and ch.isalnum())
    if kind is OrganizationKind.investor:
        slug = slug.removesuffix("climatefund")
    user = await User.create(
        email=f"{slug}@demo.civic",
        name=f"{name} owner",
        password_hash=hash_password("civic-demo-2026"),
        email_verified_at=datetime.now(UTC),
    )
    await Membership.create(user=user, organization=org, role=Role.owner)
    return org


async def seed_investors(settings: Settings) -> None:
    # The matching step gives the first organizations their profiles and theses; these
    # stand in for any it did not write.
    for name, (sectors, stage, ask, region, text, opt_in, share) in PROFILES.items():
        org = await Organization.get(name=name)
        if await StartupProfile.exists(organization_id=org.id):
            continue
        await StartupProfile.create(
            organization=org,
            sectors=sectors,
            stage=stage,
            funding_ask_minor=to_minor(ask, "EUR") if ask is not None else None,
            region=region,
            text=text,
            dealflow_opt_in=opt_in,
            share_scores=share,
        )
    for name, country, region, sectors, stage, ask, text in MORE_STARTUPS:
        org = await _startup(name, country, region)
        await StartupProfile.create(
            organization=org,
            sectors=sectors,
            stage=stage,
            funding_ask_minor=to_minor(ask, "EUR"),
            region=region,
            text=text,
            dealflow_opt_in=True,
        )
    await _startup("Pampa Climate Fund", "AR", "Buenos Aires", kind=OrganizationKind.investor)
    for name, (sectors, stages, low, high, regions, strict, text) in THESES.items():
        org = await Organization.get(name=name)
        if await InvestorThesis.exists(organization_id=org.id):
            continue
        await InvestorThesis.create(
            organization=org,
            sectors=sectors,
            stages=stages,
            ticket_min_minor=to_minor(low, "EUR"),
            ticket_max_minor=to_minor(high, "EUR"),
            regions=regions,
            regions_strict=strict,
            text=text,
        )
    await matching.recompute_all(settings=settings)

    andes = await Organization.get(name="Andes Impact Ventures")
    atlantico = await Organization.get(name="Atlántico Seed Partners")
    ruta = await Organization.get(name="RutaViva Mobility")
    agua = await Organization.get(name="AguaClara Sensors")
    recicla = await Organization.get(name="Recicla+ Tech")
    valparaiso = await Organization.get(name="City of Valparaíso")
    curitiba = await Organization.get(name="Prefeitura de Curitiba")
    await CityPick.create(
        city=valparaiso,
        startup=ruta,
        note="Cut school-bus delays by a fifth in our north district pilot.",
    )
    await CityPick.create(
        city=curitiba, startup=recicla, note="Reliable partner on our recycling routes."
    )
    andes_owner = await User.get(email="andes@demo.civic")
    atlantico_owner = await User.get(email="atlantico@demo.civic")
    agua_owner = await User.get(email="aguaclara@demo.civic")
    await Watch.create(
        investor=andes,
        startup=ruta,
        note="Ask about the Santiago rollout.",
        created_by_id=andes_owner.id,
    )
    await Watch.create(investor=atlantico, startup=agua, note="", created_by_id=atlantico_owner.id)
    now = datetime.now(UTC)
    await IntroRequest.create(
        investor=andes,
        startup=recicla,
        requested_by=andes_owner,
        message="We back recycling in Latin American cities. Could we talk next week?",
        expires_at=now + timedelta(days=14),
    )
    await IntroRequest.create(
        investor=atlantico,
        startup=agua,
        requested_by=atlantico_owner,
        answered_by=agua_owner,
        message="Your leak sensors fit our water thesis. Coffee in Sevilla?",
        reply="Happy to. We are in Sevilla every Tuesday.",
        status=IntroStatus.accepted,
        expires_at=now + timedelta(days=10),
        answered_at=now,
    )
