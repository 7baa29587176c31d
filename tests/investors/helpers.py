"""A small deal flow: a verified investor with a thesis, startups with profiles, stored
matches, and a track record (won challenges, delivered milestones, judge reviews)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from service import db
from service.accounts.models import Organization, OrganizationKind, Role
from service.applications.models import (
    Application,
    ApplicationStatus,
    Award,
    JudgeAssignment,
    Review,
)
from service.challenges.models import ChallengeStatus, Criterion
from service.matching.models import InvestorThesis, Match, StartupProfile
from service.rewards.models import Milestone, MilestoneStatus
from tests import factories
from tests.challenges.factories import make_draft_challenge


@dataclass
class Startup:
    org: Organization
    owner: factories.Person


@dataclass
class Deal:
    investor: Organization
    partner: factories.Person  # owner of the investor organization
    startups: list[Startup] = field(default_factory=list)
    city: Organization | None = None
    curator: factories.Person | None = None


async def make_startup(
    client: httpx.AsyncClient,
    *,
    name: str,
    opt_in: bool = True,
    share_scores: bool = False,
    sectors: tuple[str, ...] = ("mobility",),
    stage: str = "seed",
    ask: int = 30_000_000,
    region: str = "Madrid",
    with_token: bool = True,
) -> Startup:
    # Tokens count against the sign-in rate limit: many startups are made without one.
    owner = (
        await factories.person(client)
        if with_token
        else factories.Person(user=await factories.make_user())
    )
    org = await factories.make_org(
        kind=OrganizationKind.startup, name=name, members={owner.user: Role.owner}
    )
    async with db.transaction(None):
        await StartupProfile.create(
            organization=org,
            sectors=list(sectors),
            stage=stage,
            funding_ask_minor=ask,
            region=region,
            text=f"{name} builds things for cities.",
            dealflow_opt_in=opt_in,
            share_scores=share_scores,
        )
    return Startup(org=org, owner=owner)


async def make_investor(
    client: httpx.AsyncClient, *, verified: bool = True, name: str = "Seed Fund"
) -> tuple[Organization, factories.Person]:
    partner = await factories.person(client)
    org = await factories.make_org(
        kind=OrganizationKind.investor,
        name=name,
        verified=verified,
        members={partner.user: Role.owner},
    )
    async with db.transaction(None):
        await InvestorThesis.create(
            organization=org,
            sectors=["mobility"],
            stages=["seed"],
            ticket_min_minor=10_000_000,
            ticket_max_minor=100_000_000,
            regions=["Madrid"],
            text="Mobility for cities",
        )
    return org, partner


async def rank(investor: Organization, startups: list[Organization]) -> None:
    """Store a ranking as matching would: best first, with reasons as codes and values."""
    async with db.transaction(None):
        for position, startup in enumerate(startups, start=1):
            await Match.create(
                investor=investor,
                startup=startup,
                rank=position,
                score=round(1 - position / 1000, 4),
                components={"sector": 1.0, "stage": 1.0},
                reasons=[{"code": "sector", "values": {"sectors": ["mobility"]}}],
                computed_at=datetime.now(UTC),
            )


async def win(
    city: Organization, startup: Organization, *, delivered: int = 1, comment: str = ""
) -> int:
    """The startup won a completed challenge of the city; `delivered` milestones approved.
    A judge reviewed it with `comment` (score 8 and 6)."""
    async with db.transaction(None):
        challenge = await make_draft_challenge(
            city,
            title=f"Challenge won by {startup.name}",
            status=ChallengeStatus.in_delivery,
            published_at=datetime.now(UTC) - timedelta(days=60),
        )
        application = await Application.create(
            challenge=challenge,
            organization=startup,
            title="Our plan",
            summary="A plan.",
            status=ApplicationStatus.awarded,
        )
        judge_user = await factories.make_user()
        judge = await JudgeAssignment.create(challenge=challenge, user=judge_user)
        criteria = await Criterion.filter(challenge=challenge).order_by("position")
        await Review.create(
            judge=judge,
            application=application,
            scores={str(criteria[0].id): 8, str(criteria[1].id): 6},
            comment=comment or "Strong pilot results",
        )
        award = await Award.create(
            challenge=challenge,
            application=application,
            amount_minor=1_000_000,
            currency="EUR",
            rationale="Best plan",
            created_by_id=judge_user.id,
        )
        for n in range(delivered):
            await Milestone.create(
                award=award,
                title=f"Pilot step {n + 1}",
                amount_minor=100_000,
                currency="EUR",
                due_at=datetime.now(UTC) + timedelta(days=30),
                position=n,
                status=MilestoneStatus.approved,
                approved_at=datetime.now(UTC),
            )
    return challenge.id


async def deal(client: httpx.AsyncClient, *, startups: int = 3, verified: bool = True) -> Deal:
    investor, partner = await make_investor(client, verified=verified)
    world = Deal(investor=investor, partner=partner)
    for n in range(startups):
        world.startups.append(await make_startup(client, name=f"Startup {n + 1}"))
    await rank(investor, [s.org for s in world.startups])
    return world
