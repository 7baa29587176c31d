"""Demo applications, judging and awards: on each demo challenge closed by now, three
applications (one with a university partner), two judges' reviews and, past judging, the award
to the best one with its milestones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.accounts.demo import DEMO_PASSWORD
from service.accounts.models import Organization, User
from service.applications import service as applications
from service.applications.models import (
    Application,
    ApplicationPartner,
    ApplicationStatus,
    PartnerStatus,
    Review,
)
from service.challenges.demo import CHALLENGES, city_context
from service.challenges.models import Challenge, ChallengeStatus, Criterion
from service.config import Settings
from service.core.context import Context

S = ChallengeStatus


async def seed_applications(settings: Settings) -> None:
    """Judge the demo challenges meant to be judged or further, award those past judging and
    close the awarding of those in delivery. A challenge meant to be completed stays in
    delivery here: it completes by itself when the rewards step pays its last milestone."""
    for row in CHALLENGES:
        city, title, final = row[0], row[1], row[-1]
        if final not in (S.judging, S.awarded, S.in_delivery, S.completed):
            continue
        org = await Organization.get(name=city)
        ctx = await city_context(org, settings)
        challenge = await Challenge.get(organization_id=org.id, title=title)
        await seed_judging(ctx, challenge, award=final is not S.judging)
        challenge = await Challenge.get(id=challenge.id)
        if final in (S.in_delivery, S.completed):
            await applications.close_awarding(ctx, challenge)


APPLICANTS = ["RutaViva Mobility", "AguaClara Sensors", "Recicla+ Tech"]
PARTNER = "Universidad Técnica del Pacífico"
JUDGE_EMAIL = "judge@demo.civic"


async def seed_judging(ctx: Context, challenge: Challenge, *, award: bool) -> None:
    """Applications (one with a university partner), two judges' reviews, and an award."""
    from service.accounts.passwords import hash_password

    judge = await User.get_or_none(email=JUDGE_EMAIL)
    if judge is None:
        judge = await User.create(
            email=JUDGE_EMAIL,
            name="Julia Judge",
            password_hash=hash_password(DEMO_PASSWORD),
            email_verified_at=datetime.now(UTC),
        )
    manager = ctx.actor.user
    assert manager is not None
    judges = [
        await applications.assign_judge(ctx, challenge, user=judge),
        await applications.assign_judge(ctx, challenge, user=manager),
    ]
    criteria = await Criterion.filter(challenge_id=challenge.id).order_by("position")
    submitted = []
    for n, name in enumerate(APPLICANTS):
        org = await Organization.get(name=name)
        application = await Application.create(
            challenge=challenge,
            organization=org,
            title=f"{name}: a pilot for the city",
            summary=f"{name} proposes a six-month pilot with measurable targets, run with the "
            "city's teams and reported in public every month.",
            proposal="Phase 1: measure. Phase 2: pilot in two districts. Phase 3: report.",
            team="A team of four with two field technicians.",
            budget_minor=challenge.reward_amount_minor // (n + 2),
            status=ApplicationStatus.submitted,
            # Submitted in the last days before the deadline, as applicants do.
            submitted_at=challenge.closes_at - timedelta(days=2 + n, hours=5),
            lead_share_pct=70 if n == 0 else 100,
        )
        # Drafted a couple of weeks before it was submitted (the row says "now" otherwise).
        drafted = challenge.closes_at - timedelta(days=16 + n)
        await Application.filter(id=application.id).update(created_at=drafted, updated_at=drafted)
        if n == 0:
            partner = await Organization.get(name=PARTNER)
            await ApplicationPartner.create(
                application=application,
                organization=partner,
                role="research partner",
                share_pct=30,
                status=PartnerStatus.accepted,
                answered_at=challenge.closes_at - timedelta(days=9),
            )
        submitted.append(application)
        for j, assignment in enumerate(judges):
            scores = {
                str(c.id): max(0, min(10, 8 - n * 2 + j + i % 2)) for i, c in enumerate(criteria)
            }
            review = await Review.create(
                judge=assignment,
                application=application,
                scores=scores,
                comment="Clear plan and a credible team."
                if n == 0
                else "Promising, but the budget needs more detail.",
            )
            # Scored in the judging weeks after the close.
            scored = min(challenge.closes_at + timedelta(days=5 + j + n), datetime.now(UTC))
            await Review.filter(id=review.id).update(created_at=scored, updated_at=scored)
    if not award:
        return
    winner = submitted[0]
    amount = challenge.reward_amount_minor
    # 30 %, 40 % and the rest: whole amounts for the demo's round rewards, and a sum that is
    # always the award's.
    first, second = amount * 30 // 100, amount * 40 // 100
    due = datetime.now(UTC)
    await applications.award(
        ctx,
        challenge,
        winner,
        amount_minor=amount,
        rationale="The highest score on impact, with a university partner to measure results.",
        milestones=[
            {
                "title": "Baseline measurements",
                "amount_minor": first,
                "due_at": due + timedelta(days=30),
            },
            {
                "title": "Pilot in two districts",
                "amount_minor": second,
                "due_at": due + timedelta(days=120),
            },
            {
                "title": "Final public report",
                "amount_minor": amount - first - second,
                "due_at": due + timedelta(days=180),
            },
        ],
    )
