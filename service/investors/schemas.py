"""API input and output of the investors area."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from service.core.vocab import Area, Stage
from service.investors.repository import Filters

Sort = Literal["rank", "ask_asc", "ask_desc", "wins", "recent"]
MAX_ID = 2**31 - 1


class DealflowQuery(BaseModel):
    sector: Area | None = None
    stage: Stage | None = None
    region: str = Field(default="", max_length=120)
    q: str = Field(
        default="",
        max_length=200,
        description="Words of the startup's name or profile; accents and case do not count",
    )
    ask_min: int | None = Field(default=None, ge=0, le=10**15, description="Minor units")
    ask_max: int | None = Field(default=None, ge=0, le=10**15, description="Minor units")
    won: bool = Field(default=False, description="Only startups that won a challenge")
    delivered: bool = Field(default=False, description="Only startups that delivered a milestone")
    sort: Sort = "rank"
    cursor: int | None = Field(default=None, ge=0, le=10_000, description="From next_cursor")
    limit: int = Field(default=20, ge=1, le=100)

    @model_validator(mode="after")
    def _range(self) -> DealflowQuery:
        if self.ask_min is not None and self.ask_max is not None and self.ask_min > self.ask_max:
            raise ValueError("ask_max: must not be below ask_min")
        return self

    def filters(self) -> Filters:
        return Filters(
            sector=self.sector.value if self.sector else "",
            stage=self.stage.value if self.stage else "",
            region=self.region.strip(),
            q=self.q.strip(),
            ask_min=self.ask_min,
            ask_max=self.ask_max,
            won=self.won,
            delivered=self.delivered,
            sort=self.sort,
        )


class Money(BaseModel):
    amount_minor: int
    currency: str


class ReasonOut(BaseModel):
    code: str
    values: dict[str, Any] = Field(default_factory=dict)
    text: str


class WinOut(BaseModel):
    challenge_id: int
    title: str
    url: str
    city_organization_id: int
    city_name: str
    milestones_delivered: int


class TrackRecordOut(BaseModel):
    challenges_won: list[WinOut]
    milestones_delivered: int
    cities: list[str]


class DealItemOut(BaseModel):
    startup_organization_id: int
    name: str
    kind: str
    country: str
    rank: int
    score: float
    reasons: list[ReasonOut]
    components: dict[str, float]
    sectors: list[str]
    stage: str | None
    funding_ask: Money | None
    region: str
    description: str
    watched: bool
    track_record: TrackRecordOut


class PickOut(BaseModel):
    startup_organization_id: int
    name: str
    city_organization_id: int
    city_name: str
    note: str


class DealflowOut(BaseModel):
    items: list[DealItemOut]
    next_cursor: str | None = None
    city_picks: list[PickOut] = Field(default_factory=list)


class WatchIn(BaseModel):
    note: str = Field(default="", max_length=2000)


class WatchOut(BaseModel):
    startup_organization_id: int
    name: str
    note: str
    created_at: datetime
    track_record: TrackRecordOut


class WatchlistOut(BaseModel):
    items: list[WatchOut]
    next_cursor: str | None = None


class IntroIn(BaseModel):
    investor_organization_id: int = Field(ge=1, le=MAX_ID)
    startup_organization_id: int = Field(ge=1, le=MAX_ID)
    message: str = Field(min_length=1, max_length=2000)


class AnswerIn(BaseModel):
    message: str = Field(default="", max_length=2000)


class ContactOut(BaseModel):
    name: str
    email: str


class IntroOut(BaseModel):
    id: int
    investor_organization_id: int
    investor_name: str
    startup_organization_id: int
    startup_name: str
    message: str
    reply: str
    status: str
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    # Only once the startup accepted.
    investor_contact: ContactOut | None = None
    startup_contact: ContactOut | None = None


class PickIn(BaseModel):
    startup_organization_id: int = Field(ge=1, le=MAX_ID)
    note: str = Field(default="", max_length=2000)


class PickSaved(BaseModel):
    city_organization_id: int
    startup_organization_id: int
    note: str


class HistoryOut(BaseModel):
    challenge_id: int
    title: str
    city_name: str
    status: str
    won: bool
    mean_score: float | None = None
    comments: list[str] = Field(default_factory=list)


class StartupOut(BaseModel):
    startup_organization_id: int
    name: str
    kind: str
    sectors: list[str]
    stage: str | None
    funding_ask: Money | None
    region: str
    description: str
    score: float | None
    reasons: list[ReasonOut]
    scores_shared: bool
    history: list[HistoryOut]
    track_record: TrackRecordOut
    watched: bool
    note: str | None


class ListQuery(BaseModel):
    cursor: int | None = Field(default=None, ge=1, le=MAX_ID, description="From next_cursor")
    limit: int = Field(default=50, ge=1, le=200)


class IntroListOut(BaseModel):
    items: list[IntroOut]
    next_cursor: str | None = None


class ViewerOut(BaseModel):
    investor_organization_id: int
    investor_name: str
    views: int
    last_viewed_at: datetime


class ViewersOut(BaseModel):
    items: list[ViewerOut]
    next_cursor: str | None = None
