"""Demo proposals: residents of three regions propose and support; one became a challenge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.accounts.actor import Actor
from service.accounts.models import Organization, Role, User
from service.challenges.models import Challenge
from service.config import Settings
from service.core.context import Context
from service.participation import service, timeline
from service.participation.models import Proposal, ProposalStatus, Stance
from service.participation.schemas import ProposalIn, ResponseIn

RESIDENTS = [
    ("ana@residents.demo.civic", "Ana Rojas"),
    ("bruno@residents.demo.civic", "Bruno Silva"),
    ("carmen@residents.demo.civic", "Carmen Ruiz"),
    ("diego@residents.demo.civic", "Diego Souza"),
    ("elena@residents.demo.civic", "Elena Martín"),
    ("felipe@residents.demo.civic", "Felipe Castro"),
]
# (region, title, description, who is affected, area, sdgs, supporters, adopted into)
PROPOSALS = [
    (
        "Valparaíso",
        "School buses are always late on the hills",
        "The school buses that climb to Cerro Alegre and Cerro Florida arrive 20 to 40 minutes "
        "late most mornings. Children miss the first class and parents miss work.",
        "Families of about 1,800 pupils in the hill neighbourhoods.",
        "mobility",
        [4, 11],
        6,
        "Cut school-bus delays in the hills",
    ),
    (
        "Valparaíso",
        "Stairways without lighting at night",
        "Many public stairways between the hills and the port have no working lights. People "
        "avoid them after dark and take long detours, or walk in the dark.",
        "Night-shift workers and students coming home late.",
        "public_safety",
        [11, 5],
        4,
        None,
    ),
    (
        "Andalucía",
        "Shade in school playgrounds during heat waves",
        "Playgrounds in Seville reach 45 °C in June. Breaks are cancelled or children play in "
        "the sun. We need shade that works without air conditioning.",
        "Primary school children and their teachers.",
        "education",
        [3, 4, 13],
        5,
        None,
    ),
    (
        "Andalucía",
        "Leaks in old water pipes go unnoticed for weeks",
        "In the old town, water runs under the streets for weeks before anyone repairs the pipe. "
        "Neighbours report it but nobody knows where the leak is.",
        "Everyone who pays the water bill, and the river.",
        "water",
        [6],
        2,
        None,
    ),
    (
        "Paraná",
        "Recycling collection skips our street",
        "The separate collection truck in Curitiba's south zone skips streets without notice, "
        "so sorted waste ends up in the general bin.",
        "Households of the south zone who sort their waste.",
        "waste",
        [11, 12],
        3,
        None,
    ),
]


async def seed_proposals(settings: Settings) -> None:
    from service.accounts.passwords import hash_password

    password_hash = hash_password("civic-demo-2026")
    earlier = datetime.now(UTC) - timedelta(days=3)
    residents = [
        await User.create(
            email=email,
            name=name,
            password_hash=password_hash,
            email_verified_at=earlier,
            created_at=earlier,
        )
        for email, name in RESIDENTS
    ]
    for n, (region, title, text, affected, area, sdgs, backers, adopted) in enumerate(PROPOSALS):
        author = residents[n % len(residents)]
        ctx = Context(actor=Actor(user=author), settings=settings)
        proposal = await service.create(
            ctx,
            ProposalIn(
                title=title,
                description=text,
                region=region,
                affected=affected,
                area=area,  # type: ignore[arg-type]
                sdgs=sdgs,
                confirm_distinct=True,
            ),
        )
        for backer in residents[:backers]:
            await service.support(Context(actor=Actor(user=backer), settings=settings), proposal)
        commenter = residents[(n + 1) % len(residents)]
        await service.comment(
            Context(actor=Actor(user=commenter), settings=settings),
            proposal,
            text="Yes, I see this every week in my street.",
            stance=Stance.for_,
            parent_id=None,
        )
        city = await Organization.filter(region=region, kind="government").first()
        if city is None:
            continue
        manager = await User.filter(
            memberships__organization_id=city.id, memberships__role=Role.owner
        ).first()
        if manager is None:
            continue
        city_ctx = Context(
            actor=Actor(user=manager, roles={city.id: Role.owner}), settings=settings
        )
        if adopted:
            challenge = await Challenge.get_or_none(title=adopted)
            if challenge is not None:
                # The demo challenge already exists: link the proposal it was born from, dated
                # as it would have happened, the proposal weeks before the challenge.
                adopted_at = (challenge.published_at or challenge.created_at) - timedelta(days=7)
                await Challenge.filter(id=challenge.id).update(proposal_id=proposal.id)
                await Proposal.filter(id=proposal.id).update(
                    status=ProposalStatus.adopted,
                    challenge_id=challenge.id,
                    adopted_by_id=manager.id,
                    adopted_at=adopted_at,
                    responded_at=adopted_at,
                    responded_by_id=manager.id,
                    created_at=adopted_at - timedelta(days=30),
                )
        elif backers >= 5:
            await service.respond(
                city_ctx,
                proposal,
                ResponseIn(
                    status="under_study",
                    text="The education department is studying shade structures for 12 schools.",
                ),
            )
    valparaiso = await Organization.get(name="City of Valparaíso")
    owner = await User.filter(
        memberships__organization_id=valparaiso.id, memberships__role=Role.owner
    ).first()
    if owner is not None:
        owner_ctx = Context(
            actor=Actor(user=owner, roles={valparaiso.id: Role.owner}), settings=settings
        )
        await service.set_threshold(owner_ctx, valparaiso, supports=4)
    await timeline.sync(base_url=settings.base_url)


# (resident's e-mail, comment) on the most supported proposal, each in its writer's language:
# residents of Sevilla and Curitiba comment on a proposal written in English.
COMMENTS_IN_THEIR_LANGUAGE = [
    (
        "elena@residents.demo.civic",
        "En Sevilla pasa lo mismo en los barrios altos: los niños llegan tarde a clase.",
    ),
    (
        "diego@residents.demo.civic",
        "Em Curitiba os ônibus escolares também chegam atrasados quando chove.",
    ),
]


async def seed_comments_in_their_language(settings: Settings) -> None:
    """Runs after the other areas' steps, just before the translations' (which translate these
    comments with every other text of the demo)."""
    proposal = await Proposal.filter(hidden_at=None).order_by("-support_count", "id").first()
    if proposal is None:
        return
    for email, text in COMMENTS_IN_THEIR_LANGUAGE:
        user = await User.get_or_none(email=email)
        if user is None:
            continue
        ctx = Context(actor=Actor(user=user), settings=settings)
        await service.comment(ctx, proposal, text=text, stance=Stance.for_, parent_id=None)
