"""JSON forms of the dashboards and the ecosystem map."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from service.opendata import dashboards, ecosystem


class CountOut(BaseModel):
    key: str = Field(description="A challenge status or a government area code")
    count: int


class MoneyMonthOut(BaseModel):
    month: str = Field(description="YYYY-MM, in UTC; the running totals at the month's end")
    committed_minor: int
    escrowed_minor: int
    paid_minor: int


class MoneyOut(BaseModel):
    currency: str
    committed_minor: int = Field(description="Rewards of the published challenges")
    escrowed_minor: int = Field(description="Funded into escrow, less refunds to the city")
    paid_minor: int = Field(description="Paid to winners, less reversals")
    months: list[MoneyMonthOut]


class BucketOut(BaseModel):
    days: str = Field(description="A range of days, e.g. 8-30 or 181+")
    awards: int


class DelayOut(BaseModel):
    awards: int = Field(description="Awards made")
    paid_awards: int = Field(description="Awards with at least one payment")
    median_days: float | None
    max_days: float | None
    buckets: list[BucketOut]


class CityOut(BaseModel):
    organization_id: int
    name: str
    region: str
    challenges: int
    url: str


class ScopeOut(BaseModel):
    kind: Literal["platform", "city"]
    organization_id: int | None = None
    name: str | None = None


class DashboardOut(BaseModel):
    scope: ScopeOut
    generated_at: datetime
    challenges: int = Field(description="Published challenges (any state but draft)")
    awards: int
    winners: int = Field(description="Organizations that lead at least one award")
    proposals_adopted: int = Field(description="Citizen proposals adopted into a challenge")
    incubated_startups: int = Field(description="Organizations admitted to an incubation cohort")
    pilots_reached: int = Field(description="Incubation projects that reached a pilot")
    challenges_by_status: list[CountOut]
    challenges_by_area: list[CountOut]
    money: list[MoneyOut] = Field(description="One entry per currency")
    award_to_first_payout: DelayOut
    cities: list[CityOut] = Field(description="Platform only: cities with most challenges")


def dashboard_out(d: dashboards.Dashboard) -> DashboardOut:
    city = d.scope.city
    return DashboardOut(
        scope=ScopeOut(kind="platform")
        if city is None
        else ScopeOut(kind="city", organization_id=city.id, name=city.name),
        generated_at=d.generated_at,
        challenges=d.challenges,
        awards=d.awards,
        winners=d.winners,
        proposals_adopted=d.proposals_adopted,
        incubated_startups=d.incubated,
        pilots_reached=d.pilots,
        challenges_by_status=[CountOut(key=k, count=v) for k, v in d.by_status.items()],
        challenges_by_area=[CountOut(key=k, count=v) for k, v in d.by_area.items()],
        money=[
            MoneyOut(
                currency=m.currency,
                committed_minor=m.last.committed,
                escrowed_minor=m.last.escrowed,
                paid_minor=m.last.paid,
                months=[
                    MoneyMonthOut(
                        month=x.month,
                        committed_minor=x.committed,
                        escrowed_minor=x.escrowed,
                        paid_minor=x.paid,
                    )
                    for x in m.months
                ],
            )
            for m in d.money
        ],
        award_to_first_payout=DelayOut(
            awards=d.delays.awards,
            paid_awards=d.delays.paid_awards,
            median_days=d.delays.median_days,
            max_days=d.delays.max_days,
            buckets=[BucketOut(days=k, awards=v) for k, v in d.delays.buckets],
        ),
        cities=[
            CityOut(
                organization_id=c.organization_id,
                name=c.name,
                region=c.region,
                challenges=c.challenges,
                url=f"/opendata/cities/{c.organization_id}",
            )
            for c in d.cities
        ],
    )


class NodeOut(BaseModel):
    id: int
    name: str
    kind: str
    region: str
    country: str
    url: str


class EdgeOut(BaseModel):
    source: int = Field(description="Organization id")
    target: int = Field(description="Organization id")
    kind: Literal["award", "consortium", "incubation", "intro"]
    challenge_ids: list[int] = Field(description="The challenges the tie was made in")


class EcosystemOut(BaseModel):
    nodes: list[NodeOut]
    edges: list[EdgeOut]


class EcosystemQuery(BaseModel):
    kind: Literal["government", "startup", "university", "research_center", "investor"] | None = (
        Field(default=None, description="Only organizations of this kind and their ties")
    )
    region: str | None = Field(
        default=None, max_length=120, description="Only organizations of this region"
    )


def ecosystem_out(g: ecosystem.Graph) -> EcosystemOut:
    return EcosystemOut(
        nodes=[
            NodeOut(
                id=n.id,
                name=n.name,
                kind=n.kind,
                region=n.region,
                country=n.country,
                url=f"/organizations/{n.id}",
            )
            for n in g.nodes
        ],
        edges=[
            EdgeOut(
                source=e.source,
                target=e.target,
                kind=e.kind,  # type: ignore[arg-type]
                challenge_ids=e.challenge_ids,
            )
            for e in g.edges
        ],
    )
