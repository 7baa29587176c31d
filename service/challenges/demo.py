"""Demo challenges: a dozen realistic ones from several cities, in every state (the judged
ones reach theirs in the applications area's step, service.applications.demo; the cancelled
one is cancelled by the rewards area's step once funded, service.rewards.demo:seed_escrow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.accounts.actor import Actor
from service.accounts.models import Membership, Organization, Role
from service.challenges import service as challenges
from service.challenges.models import Challenge, ChallengeStatus
from service.challenges.schemas import ChallengeIn
from service.config import Settings
from service.core.context import Context

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


async def city_context(org: Organization, settings: Settings) -> Context:
    """The city's owner acting, as the demo does on the city's challenges."""
    owner = await Membership.filter(organization=org, role=Role.owner).first()
    assert owner is not None
    user = await owner.user
    return Context(actor=Actor(user=user, roles={org.id: Role.owner}), settings=settings)


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
        ctx = await city_context(org, settings)
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
        # The rewards' step (service.rewards.demo:seed_escrow) funds them, and cancels the one
        # meant to be cancelled once funded (its refund follows). The challenges closed by now
        # are judged and awarded by the applications' step (service.applications.demo), which
        # moves them on to their final state.


# Challenges the demo delivers in full (the rewards step pays every milestone).
TO_COMPLETE = {row[1] for row in CHALLENGES if row[-1] is S.completed}
