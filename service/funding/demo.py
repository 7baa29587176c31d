"""Demo funding round, after the demo challenges: Sevilla shares 400,000 € across five of its
challenge drafts; 1,240 residents voted and the round is counted, so its page shows the
outcome beside greedy and each funded draft says why.

Each draft costs what the city would offer as its prize (100,000 € or more, as every demo
challenge). Equal shares buy the zero-emission delivery and the flood alerts, which the 353
residents who approve them pay for with their shares, and, once the completion has raised the
shares, the bus stops' shade too (380,000 € in all); greedy, by approvals alone, would buy the
shade, the delivery and the schools' heat sensors and leave the flood alerts out.

The drafts are made through the challenges service; the ballots are written as the count
leaves them (sealed: no account), with the receipt codes DEMO-0001 to DEMO-1240, so that
"how was my share spent" can be tried with any of them.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from service.accounts.actor import Actor
from service.accounts.models import Membership, Organization, Role, User
from service.challenges import service as challenges
from service.challenges.schemas import ChallengeIn
from service.config import Settings
from service.core.context import Context
from service.funding import service as funding
from service.funding.models import Ballot, FundingRound
from service.funding.schemas import RoundIn

CITY = "Ayuntamiento de Sevilla"
VOTERS = 1240
# (title, summary, problem, area, reward in euros)
DRAFTS = [
    (
        "Sombra en las paradas de autobús",
        "Paradas de autobús frescas en los veranos de más de 40 grados.",
        "En verano, esperar el autobús al sol es peligroso para mayores y niños.",
        "mobility",
        120_000,
    ),
    (
        "Sensores de calor en los colegios",
        "Medir el calor en las aulas para actuar donde más se sufre.",
        "Muchas aulas superan los 30 grados en junio y nadie sabe cuáles exactamente.",
        "education",
        100_000,
    ),
    (
        "Reparto sin emisiones en el casco antiguo",
        "La última milla del reparto, sin humo ni ruido en las calles estrechas.",
        "Las furgonetas de reparto bloquean y contaminan las calles del centro histórico.",
        "mobility",
        150_000,
    ),
    (
        "Huertos urbanos con riego inteligente",
        "Huertos vecinales que gastan la mitad de agua.",
        "Los huertos urbanos riegan a mano y pierden agua en plena sequía.",
        "environment",
        100_000,
    ),
    (
        "Alertas de inundación en los barrios del río",
        "Avisar a tiempo a los vecinos cuando el río va a desbordarse.",
        "Las riadas llegan sin aviso a los barrios más bajos junto al río.",
        "environment",
        110_000,
    ),
]
# Groups of residents and the candidates (by position) they approve.
GROUPS = [(520, [0, 2]), (330, [0, 1, 2]), (220, [3, 4]), (170, [4, 1])]


def code_of(k: int) -> str:
    return f"DEMO-{k:04d}"


async def seed_funding_round(settings: Settings) -> None:
    org = await Organization.get(name=CITY)
    membership = await Membership.filter(organization=org, role=Role.owner).order_by("id").first()
    assert membership is not None
    user = await User.get(id=membership.user_id)
    ctx = Context(actor=Actor(user=user, roles={org.id: Role.owner}), settings=settings)
    now = datetime.now(UTC)
    drafts = []
    for title, summary, problem, area, reward in DRAFTS:
        data = ChallengeIn.model_validate(
            {
                "organization_id": org.id,
                "title": title,
                "summary": summary,
                "problem_statement": problem,
                "language": "es",
                "area": area,
                "sdgs": [11],
                "region": org.region,
                "eligible_kinds": ["startup", "university", "research_center"],
                "reward": {"amount_minor": reward * 100, "currency": "EUR"},
                "criteria": [{"name": "Impacto", "weight": 60}, {"name": "Coste", "weight": 40}],
                "opens_at": now + timedelta(days=30),
                "closes_at": now + timedelta(days=90),
            }
        )
        drafts.append(await challenges.create(ctx, org, data))
    rnd = await funding.create_round(
        ctx,
        org,
        RoundIn(
            organization_id=org.id,
            title="Presupuesto de innovación 2027",
            description=(
                "Los vecinos de Andalucía reparten 400.000 € entre cinco retos. "
                f"(Datos de demostración: los recibos van de {code_of(1)} a {code_of(VOTERS)}.)"
            ),
            region=org.region,
            budget_minor=400_000_00,
            currency="EUR",
            max_approvals=3,
            opens_at=now - timedelta(days=21),
            closes_at=now + timedelta(minutes=5),
            challenge_ids=[d.id for d in drafts],
        ),
    )
    await funding.publish(ctx, rnd)
    candidates = await funding.candidates_of(rnd)
    rng = random.Random(2027)
    ballots: list[Ballot] = []
    k = 0
    for size, picks in GROUPS:
        for _ in range(size):
            k += 1
            # A few voters of each group leave one of its picks out.
            chosen = [p for p in picks if len(picks) == 1 or rng.random() > 0.08] or picks[:1]
            ballots.append(
                Ballot(
                    round_id=rnd.id,
                    choices=sorted(candidates[p].id for p in chosen),
                    receipt=funding.receipt_of(rnd.id, code_of(k)),
                )
            )
    await Ballot.bulk_create(ballots, batch_size=1000)
    closed = now - timedelta(days=2)
    await FundingRound.filter(id=rnd.id).update(closes_at=closed)
    await funding.count(rnd.id, now=now)
