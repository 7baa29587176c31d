"""The figures of the public dashboards, for the whole platform or one city.

Each figure comes from one small query function over what is already public: published
challenges and the ledger's sums by month for them, awards, adopted citizen proposals (not
hidden by moderation), startups admitted to a cohort and the steps of their pilot path. A
whole dashboard costs the same fixed number of queries whatever the number of challenges,
and no figure reads the ledger's rows: the money comes from the sums kept as the ledger
posts (service/rewards/aggregates.py), so it costs the same at any ledger size.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from service.accounts.models import Organization, OrganizationKind
from service.applications.models import Award
from service.challenges.models import Challenge, ChallengeStatus
from service.incubation.models import Place, PlaceStatus, ProjectStep
from service.opendata import repository
from service.participation.models import Proposal, ProposalStatus
from service.rewards import aggregates
from service.rewards.models import TransactionKind

T = TransactionKind
# Order of the states on the dashboard: the journey's order.
STATUS_ORDER = [s.value for s in ChallengeStatus if s is not ChallengeStatus.draft]
# Days from an award to its first payment, in buckets: (label key, first day, last day).
DELAY_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("8-30", 8, 30),
    ("31-90", 31, 90),
    ("91-180", 91, 180),
    ("181+", 181, None),
)
# Cities listed on the platform's dashboard, those with the most challenges first.
CITY_LIMIT = 50


@dataclass(frozen=True)
class Scope:
    """The whole platform (city None) or one city's published challenges."""

    city: Organization | None = None

    def challenges(self) -> QuerySet[Challenge]:
        query = repository.public_challenges()
        if self.city is not None:
            query = query.filter(organization_id=self.city.id)
        return query

    def ids(self) -> Subquery:
        return Subquery(self.challenges().values("id"))


async def city_or_none(organization_id: int) -> Organization | None:
    return await Organization.get_or_none(id=organization_id, kind=OrganizationKind.government)


# --- challenges ----------------------------------------------------------------------------


async def challenges_by_status(scope: Scope) -> dict[str, int]:
    rows = await scope.challenges().annotate(n=Count("id")).group_by("status").values("status", "n")
    found = {str(r["status"]): int(r["n"]) for r in rows}
    return {s: found[s] for s in STATUS_ORDER if found.get(s)}


async def challenges_by_area(scope: Scope) -> dict[str, int]:
    rows = await scope.challenges().annotate(n=Count("id")).group_by("area").values("area", "n")
    pairs = sorted(((str(r["area"]), int(r["n"])) for r in rows), key=lambda p: (-p[1], p[0]))
    return dict(pairs)


# --- money over time -----------------------------------------------------------------------


@dataclass
class MoneyMonth:
    month: str
    committed: int = 0
    escrowed: int = 0
    paid: int = 0


@dataclass
class Money:
    """One currency's money by month, each month the running total at its end."""

    currency: str
    months: list[MoneyMonth] = field(default_factory=list)

    @property
    def last(self) -> MoneyMonth:
        return self.months[-1] if self.months else MoneyMonth("")


def month_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    found = []
    while f"{year:04d}-{month:02d}" <= last:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def _month_before(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"


async def committed_flows(scope: Scope) -> list[tuple[str, datetime, int]]:
    """(currency, when, amount): each challenge's reward, from its publication."""
    rows = await scope.challenges().values_list("currency", "published_at", "reward_amount_minor")
    return [(str(c), at, int(a)) for c, at, a in rows]


async def ledger_flows(scope: Scope) -> list[tuple[str, str, str, int]]:
    """(kind, currency, month, amount) of the ledger's fundings, refunds, payouts and
    reversals: read from the ledger's sums by month, so the same cost at any ledger size."""
    return await aggregates.sums_by_month(
        scope.challenges(), [T.fund, T.refund, T.payout, T.reversal]
    )


async def money_over_time(scope: Scope, *, now: datetime) -> list[Money]:
    """Committed, escrowed (funded less refunded) and paid (paid less reversed), per month,
    from the first month anything happened to this month: two queries."""
    # currency -> month -> [committed, escrowed, paid] moved in that month
    moved: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for currency, at, amount in await committed_flows(scope):
        moved[currency][month_of(at)][0] += amount
    sign = {T.fund.value: (1, 1), T.refund.value: (1, -1), T.payout.value: (2, 1)}
    sign[T.reversal.value] = (2, -1)
    for kind, currency, month, amount in await ledger_flows(scope):
        column, factor = sign[kind]
        moved[currency][month][column] += factor * amount
    found = []
    for currency in sorted(moved):
        by_month = moved[currency]
        money, running = Money(currency), [0, 0, 0]
        # The month before the first movement starts every line at zero.
        start = _month_before(min(by_month))
        for month in months_between(start, max(max(by_month), month_of(now))):
            running = [r + m for r, m in zip(running, by_month.get(month, [0, 0, 0]), strict=True)]
            money.months.append(MoneyMonth(month, *running))
        found.append(money)
    return found


# --- from award to first payment -----------------------------------------------------------


@dataclass(frozen=True)
class Delay:
    award_id: int
    challenge_id: int
    awarded_at: datetime
    first_paid_at: datetime | None

    @property
    def days(self) -> float | None:
        if self.first_paid_at is None:
            return None
        return (self.first_paid_at - self.awarded_at).total_seconds() / 86400


async def award_delays(scope: Scope) -> list[Delay]:
    """Each award and when the ledger first posted a payment of it: two queries, the second
    over the awards' first payments (kept as the ledger posts), not over the ledger."""
    awards = (
        await Award.filter(challenge_id__in=scope.ids())
        .order_by("id")
        .values_list("id", "challenge_id", "created_at")
    )
    first = await aggregates.first_payments(scope.challenges())
    return [Delay(a, c, at, first.get(a)) for a, c, at in awards]


@dataclass(frozen=True)
class DelaySummary:
    awards: int
    paid_awards: int
    median_days: float | None
    max_days: float | None
    buckets: list[tuple[str, int]]


def summarize_delays(delays: list[Delay]) -> DelaySummary:
    days = sorted(d.days for d in delays if d.days is not None)
    buckets = [
        (label, sum(1 for d in days if low <= int(d) and (high is None or int(d) <= high)))
        for label, low, high in DELAY_BUCKETS
    ]
    return DelaySummary(
        awards=len(delays),
        paid_awards=len(days),
        median_days=round(statistics.median(days), 1) if days else None,
        max_days=round(days[-1], 1) if days else None,
        buckets=buckets,
    )


# --- incubation and pilots ----------------------------------------------------------------

# Steps of a project's path that mean a pilot was reached (it may have stopped since).
PILOT_STATUSES = ["pilot_agreed", "pilot_running", "pilot_completed", "contract_awarded"]


async def incubated_startups(scope: Scope) -> int:
    """Organizations admitted to a cohort (public on the cohort's page): of the cohorts of the
    city's programmes, for a city."""
    query = Place.filter(status=PlaceStatus.admitted)
    if scope.city is not None:
        query = query.filter(cohort__programme__organization_id=scope.city.id)
    return len(set(await query.values_list("organization_id", flat=True)))


async def pilots_reached(scope: Scope) -> int:
    """Incubation projects that reached a pilot, by the steps of their public path."""
    query = ProjectStep.filter(to_status__in=PILOT_STATUSES)
    if scope.city is not None:
        query = query.filter(project__city_id=scope.city.id)
    return len(set(await query.values_list("project_id", flat=True)))


# --- citizen proposals ---------------------------------------------------------------------


async def proposals_adopted(scope: Scope) -> int:
    """Citizen proposals a city adopted into a challenge (not hidden by moderation)."""
    query = Proposal.filter(status=ProposalStatus.adopted, hidden_at=None)
    if scope.city is not None:
        query = query.filter(challenge__organization_id=scope.city.id)
    return await query.count()


# --- headline and cities -------------------------------------------------------------------


async def award_count(scope: Scope) -> int:
    return await Award.filter(challenge_id__in=scope.ids()).count()


async def winner_count(scope: Scope) -> int:
    """Organizations that lead an award (consortium partners are on the ecosystem map)."""
    rows = await Award.filter(challenge_id__in=scope.ids()).values_list(
        "application__organization_id", flat=True
    )
    return len(set(rows))


@dataclass(frozen=True)
class CityRow:
    organization_id: int
    name: str
    region: str
    challenges: int


async def cities(limit: int = CITY_LIMIT) -> list[CityRow]:
    """Cities with published challenges, most challenges first: two queries."""
    rows = (
        await repository.public_challenges()
        .annotate(n=Count("id"))
        .group_by("organization_id")
        .values("organization_id", "n")
    )
    counts = {int(r["organization_id"]): int(r["n"]) for r in rows}
    orgs = await Organization.filter(id__in=list(counts)).values_list("id", "name", "region")
    found = [CityRow(i, n, r, counts[i]) for i, n, r in orgs]
    return sorted(found, key=lambda c: (-c.challenges, c.name, c.organization_id))[:limit]


# --- the whole dashboard -------------------------------------------------------------------


@dataclass
class Dashboard:
    scope: Scope
    generated_at: datetime
    by_status: dict[str, int]
    by_area: dict[str, int]
    money: list[Money]
    delays: DelaySummary
    awards: int
    winners: int
    cities: list[CityRow]
    incubated: int
    pilots: int
    proposals_adopted: int

    @property
    def challenges(self) -> int:
        return sum(self.by_status.values())


async def build(scope: Scope, *, now: datetime) -> Dashboard:
    return Dashboard(
        scope=scope,
        generated_at=now,
        by_status=await challenges_by_status(scope),
        by_area=await challenges_by_area(scope),
        money=await money_over_time(scope, now=now),
        delays=summarize_delays(await award_delays(scope)),
        awards=await award_count(scope),
        winners=await winner_count(scope),
        cities=await cities() if scope.city is None else [],
        incubated=await incubated_startups(scope),
        pilots=await pilots_reached(scope),
        proposals_adopted=await proposals_adopted(scope),
    )
