"""Demo challenges: a dozen realistic ones from several cities, in every state."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from service.accounts.actor import Actor
from service.accounts.demo import DEMO_PASSWORD
from service.accounts.models import Membership, Organization, Role, User
from service.challenges import applications
from service.challenges import service as challenges
from service.challenges.models import (
    Application,
    ApplicationPartner,
    ApplicationStatus,
    Challenge,
    ChallengeStatus,
    Criterion,
    PartnerStatus,
    Review,
)
from service.challenges.schemas import ChallengeIn
from service.config import Settings
from service.core.context import Context
from service.rewards import service as rewards
from service.rewards.gateway import ManualGateway
from service.rewards.models import Rail

S = ChallengeStatus
CRITERIA = [
    {"name": "Impact on residents", "weight": 40},
    {"name": "Feasibility and cost", "weight": 30},
    {"name": "Team and track record", "weight": 20},
    {"name": "Openness of the solution", "weight": 10},
]

# (city, title, summary, problem, area, sdgs, reward (major units), currency, language,
#  opens in days, open for days, final state). Rewards are of the size cities offer in their own
# currency: tens of millions of pesos (CLP 45,000,000 is about EUR 45,000), hundreds of
# thousands of euros and reais.
CHALLENGES = [
    (
        "City of Valparaíso",
        "Cut school-bus delays in the hills",
        "Help school buses reach hillside neighbourhoods on time every morning.",
        "Buses to the hill neighbourhoods are late on two mornings out of five. Narrow streets, "
        "parked cars and steep climbs slow them down.\n\nWe want a way to plan routes and stops "
        "that copes with traffic and weather, and that drivers can use from day one.",
        "mobility",
        [11, 4],
        60_000_000,
        "CLP",
        "en",
        -20,
        40,
        S.open,
    ),
    (
        "City of Valparaíso",
        "Early warning for hillside fires",
        "Spot small fires on the hills before they spread to homes.",
        "Every summer, grass fires on the hills threaten houses. Reports arrive late and are hard "
        "to locate.\n\nWe look for low-cost sensing or reporting that tells the fire brigade where "
        "a fire starts within minutes.",
        "public_safety",
        [11, 13, 15],
        45_000_000,
        "CLP",
        "en",
        -5,
        45,
        S.open,
    ),
    (
        "Ayuntamiento de Sevilla",
        "Sombra para las paradas de autobús",
        "Queremos paradas de autobús frescas en los días de más calor.",
        "En verano, esperar el autobús al sol es duro para las personas mayores y los niños. "
        "Muchas paradas no tienen sombra.\n\nBuscamos soluciones baratas y bonitas que den sombra "
        "y frescor sin gastar mucha energía.",
        "environment",
        [3, 11, 13],
        250_000,
        "EUR",
        "es",
        -10,
        30,
        S.open,
    ),
    (
        "Ayuntamiento de Sevilla",
        "Fugas de agua en la red antigua",
        "Encontrar fugas en las tuberías viejas antes de que revienten.",
        "La red de agua del casco antiguo pierde mucha agua. Las fugas se descubren tarde, cuando "
        "ya hay daños.\n\nQueremos detectar fugas pronto y saber dónde cavar.",
        "water",
        [6, 9],
        400_000,
        "EUR",
        "es",
        10,
        30,
        S.published,
    ),
    (
        "Prefeitura de Curitiba",
        "Separar o lixo reciclável nos condomínios",
        "Ajudar os moradores a separar melhor o lixo reciclável em casa.",
        "Muito material reciclável acaba no aterro porque chega misturado. Os moradores querem "
        "ajudar, mas não sabem como.\n\nProcuramos formas simples de orientar e recompensar quem "
        "separa bem.",
        "waste",
        [11, 12],
        450_000,
        "BRL",
        "pt",
        -15,
        60,
        S.open,
    ),
    (
        "Prefeitura de Curitiba",
        "Energia solar nas escolas municipais",
        "Reduzir a conta de luz das escolas com energia solar e bom uso.",
        "As escolas gastam muito com eletricidade. Os telhados são grandes e recebem muito sol.\n\n"
        "Queremos projetos que instalem, meçam e ensinem os alunos a economizar.",
        "energy",
        [4, 7, 13],
        900_000,
        "BRL",
        "pt",
        -60,
        30,
        S.closed,
    ),
    (
        "City of Valparaíso",
        "Find a parking space without circling",
        "Show drivers free parking spaces near the port in real time.",
        "Drivers circle the port area looking for a space, which adds traffic and pollution.\n\n"
        "We want a reliable way to show free spaces, built on open data.",
        "mobility",
        [9, 11],
        80_000_000,
        "CLP",
        "en",
        -90,
        30,
        S.judging,
    ),
    (
        "Ayuntamiento de Sevilla",
        "Citas médicas sin colas",
        "Que nadie tenga que hacer cola de madrugada para pedir cita.",
        "En algunos centros de salud la gente hace cola antes de abrir para conseguir cita.\n\n"
        "Buscamos un sistema de citas que funcione también para quien no usa internet.",
        "health",
        [3, 10],
        300_000,
        "EUR",
        "es",
        -150,
        30,
        S.awarded,
    ),
    (
        "Prefeitura de Curitiba",
        "Hortas comunitárias nos terrenos vazios",
        "Transformar terrenos vazios em hortas cuidadas pelos vizinhos.",
        "Há muitos terrenos vazios e mal cuidados. Vizinhos querem plantar, mas faltam regras e "
        "apoio.\n\nQueremos um modelo que organize, acompanhe e mantenha as hortas.",
        "agriculture",
        [2, 11, 15],
        250_000,
        "BRL",
        "pt",
        -200,
        30,
        S.in_delivery,
    ),
    (
        "City of Valparaíso",
        "Digital permits for street markets",
        "Let market stallholders get their permits online in one visit.",
        "Stallholders queue at three offices to renew their permits each year.\n\nWe want one "
        "simple online process that also works on a basic phone.",
        "digital_government",
        [8, 16],
        35_000_000,
        "CLP",
        "en",
        -400,
        30,
        S.completed,
    ),
    (
        "Ayuntamiento de Sevilla",
        "Turismo fuera del centro",
        "Llevar visitantes a los barrios menos conocidos de la ciudad.",
        "El turismo se concentra en pocas calles. Los barrios tienen mucho que ofrecer pero nadie "
        "los visita.\n\nBuscamos ideas que repartan visitantes y beneficien al comercio local.",
        "tourism",
        [8, 11],
        150_000,
        "EUR",
        "es",
        -30,
        40,
        S.cancelled,
    ),
    (
        "Prefeitura de Curitiba",
        "Acessibilidade nas calçadas",
        "Mapear e priorizar os consertos das calçadas mais perigosas.",
        "Calçadas quebradas causam quedas, sobretudo de idosos e pessoas com deficiência.\n\n"
        "Queremos mapear os problemas com a ajuda dos moradores e decidir o que consertar "
        "primeiro.",
        "social_inclusion",
        [10, 11],
        350_000,
        "BRL",
        "pt",
        5,
        40,
        S.draft,
    ),
]


async def seed_challenges(settings: Settings) -> None:
    from service.core.money import minor_units

    now = datetime.now(UTC)
    for (
        city,
        title,
        summary,
        problem,
        area,
        sdgs,
        reward,
        currency,
        language,
        opens_in,
        open_days,
        final,
    ) in CHALLENGES:
        org = await Organization.get(name=city)
        editor = await Membership.filter(organization=org, role=Role.owner).first()
        assert editor is not None
        user = await editor.user
        ctx = Context(actor=Actor(user=user, roles={org.id: Role.owner}), settings=settings)
        opens_at = now + timedelta(days=opens_in)
        closes_at = opens_at + timedelta(days=open_days)
        data = ChallengeIn.model_validate(
            {
                "organization_id": org.id,
                "title": title,
                "summary": summary,
                "problem_statement": problem,
                "language": language,
                "area": area,
                "sdgs": sdgs,
                "region": org.region,
                "eligible_kinds": ["startup", "university", "research_center"],
                "reward": {
                    "amount_minor": reward * 10 ** minor_units(currency),
                    "currency": currency,
                },
                "criteria": CRITERIA,
                "opens_at": opens_at,
                "closes_at": closes_at,
                "judging_ends_at": closes_at + timedelta(days=30),
            }
        )
        challenge = await challenges.create(ctx, org, data)
        if final is S.draft:
            continue
        # Publication is dated before opening, as it would have happened.
        published = min(opens_at - timedelta(days=7), now)
        await challenges.publish(ctx, challenge, now=published)
        challenge = await Challenge.get(id=challenge.id)
        await challenges.advance(challenge, now=now)
        if is_funded(title):
            # The city's finance team records the bank transfer into escrow (signed in with
            # two-factor, as recording a bank transfer requires).
            await rewards.fund(
                replace(ctx, actor=replace(ctx.actor, mfa=True)),
                challenge,
                ManualGateway(),
                amount_minor=challenge.reward_amount_minor,
                method=Rail.bank_transfer,
                reference=f"ESCROW-{challenge.id:05d}",
            )
        if final is S.cancelled:
            await challenges.cancel(
                ctx, challenge, reason="The budget line was moved to an emergency."
            )
            continue
        if final in (S.judging, S.awarded, S.in_delivery, S.completed):
            await seed_judging(ctx, challenge, award=final is not S.judging)
        challenge = await Challenge.get(id=challenge.id)
        if final in (S.in_delivery, S.completed):
            await applications.close_awarding(ctx, challenge)
            challenge = await Challenge.get(id=challenge.id)
        # A challenge meant to be completed stays in delivery here: it completes by itself
        # when the rewards step pays its last milestone.


UNFUNDED = {"Fugas de agua en la red antigua"}
# Challenges the demo delivers in full (the rewards step pays every milestone).
TO_COMPLETE = {row[1] for row in CHALLENGES if row[-1] is S.completed}


def is_funded(title: str) -> bool:
    """Every published challenge is funded, but one, to show what "not funded yet" looks like."""
    return title not in UNFUNDED


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
