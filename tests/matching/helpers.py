"""Matching test data: investors with theses, startups with profiles and a track record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from service import db
from service.accounts.models import Organization, OrganizationKind
from service.applications.models import Application, ApplicationStatus, Award
from service.challenges.models import ChallengeStatus
from service.matching.models import InvestorThesis, Match, StartupProfile
from service.rewards.models import Milestone, MilestoneStatus, Payout, PayoutStatus, Rail
from tests import factories
from tests.challenges.factories import make_draft_challenge


async def investor(
    *, verified: bool = True, name: str = "", **thesis: Any
) -> tuple[Organization, InvestorThesis]:
    org = await factories.make_org(kind=OrganizationKind.investor, verified=verified, name=name)
    async with db.transaction(None):
        row = await InvestorThesis.create(organization=org, **thesis)
    return org, row


async def startup(
    *,
    verified: bool = True,
    kind: OrganizationKind = OrganizationKind.startup,
    name: str = "",
    **profile: Any,
) -> tuple[Organization, StartupProfile]:
    org = await factories.make_org(kind=kind, verified=verified, name=name)
    profile.setdefault("dealflow_opt_in", True)
    async with db.transaction(None):
        row = await StartupProfile.create(organization=org, **profile)
    return org, row


async def win_challenge(winner: Organization, *, on_time: bool = True, paid: bool = True) -> Award:
    """A city's challenge that `winner` applied to and won, with one delivered milestone."""
    city = await factories.make_org(kind=OrganizationKind.government)
    now = datetime.now(UTC)
    async with db.transaction(None):
        challenge = await make_draft_challenge(
            city, status=ChallengeStatus.in_delivery, published_at=now
        )
        application = await Application.create(
            challenge=challenge,
            organization=winner,
            title="Route planner",
            summary="Plan bus routes.",
            status=ApplicationStatus.awarded,
            submitted_at=now,
        )
        award = await Award.create(
            challenge=challenge,
            application=application,
            amount_minor=500_000,
            currency="EUR",
            rationale="Best plan",
            created_by_id=0,
        )
        due = now - timedelta(days=5)
        milestone = await Milestone.create(
            award=award,
            title="Pilot",
            amount_minor=500_000,
            currency="EUR",
            due_at=due,
            status=MilestoneStatus.paid if paid else MilestoneStatus.approved,
            submitted_at=due - timedelta(days=1) if on_time else due + timedelta(days=2),
            approved_at=now,
        )
        if paid:
            await Payout.create(
                milestone=milestone,
                organization=winner,
                amount_minor=500_000,
                currency="EUR",
                rail=Rail.bank_transfer,
                status=PayoutStatus.paid,
                idempotency_key=f"test-{uuid.uuid4().hex}",
                paid_at=now,
            )
    return award


async def stored() -> dict[tuple[int, int], tuple[int, float, dict[str, float], list[Any]]]:
    """Every stored match: (investor, startup) -> (rank, score, components, reasons)."""
    return {
        (m.investor_id, m.startup_id): (
            m.rank,
            round(m.score, 12),
            {k: round(v, 12) for k, v in m.components.items()},
            m.reasons,
        )
        for m in await Match.all()
    }


async def stored_rows() -> dict[tuple[int, int], tuple[int, Any]]:
    """Every stored match's row id and time of computing (to see which rows were rewritten)."""
    return {(m.investor_id, m.startup_id): (m.id, m.computed_at) for m in await Match.all()}
