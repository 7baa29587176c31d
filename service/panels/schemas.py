"""API input and output of the citizens' panels area."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class QuotaIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    value: str = Field(min_length=1, max_length=60)
    census_pct: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="The value's share of the population in the census, in percent. A minimum "
        "or maximum left out becomes this share of the seats, rounded down or up",
    )
    min: int | None = Field(default=None, ge=0, le=1000)
    max: int | None = Field(default=None, ge=0, le=1000)


class FeatureIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")
    values: list[QuotaIn] = Field(min_length=2, max_length=40)


class PanelIn(BaseModel):
    size: int = Field(ge=2, le=200, description="Seats on the panel (for example 15 to 40)")
    features: list[FeatureIn] = Field(
        min_length=1,
        max_length=8,
        description="Features to balance, each value with its quota: a minimum and a maximum "
        "number of seats, given or computed from the value's census share",
    )
    recruitment_opens_at: AwareDatetime
    recruitment_closes_at: AwareDatetime
    stipend_minor: int = Field(default=0, ge=0, le=10**9)
    score_share_pct: int = Field(
        default=0, ge=0, le=100, description="The panel's share of the jury's score, in percent"
    )


class VolunteerIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    features: dict[str, str] = Field(description="Feature name -> the value you declare")
    first_name: str = Field(default="", max_length=60)
    show_name: bool = Field(default=False, description="Shown by first name, else 'Member N'")


class VolunteerOut(BaseModel):
    id: int
    status: str


class PoolMemberOut(BaseModel):
    id: int
    user_id: int
    features: dict[str, str]
    status: str
    seat: int | None
    pool_number: int | None
    probability: float | None


class PoolOut(BaseModel):
    items: list[PoolMemberOut]
    next_cursor: str | None = None


class MemberOut(BaseModel):
    seat: int
    name: str


class SessionIn(BaseModel):
    starts_at: AwareDatetime
    place: str = Field(min_length=2, max_length=200)


class SessionOut(BaseModel):
    starts_at: AwareDatetime
    place: str


class RecommendationIn(BaseModel):
    text: str = Field(min_length=10, max_length=20000)


class EventOut(BaseModel):
    kind: str
    at: AwareDatetime
    detail: dict[str, Any]


class PanelOut(BaseModel):
    id: int
    challenge_id: int
    status: str
    size: int
    quotas: list[dict[str, Any]]
    pool_counts: dict[str, dict[str, int]] = Field(description="The pool: counts per value only")
    recruitment_opens_at: AwareDatetime
    recruitment_closes_at: AwareDatetime
    stipend_minor: int
    currency: str
    score_share_pct: int
    members: list[MemberOut]
    sessions: list[SessionOut]
    recommendation: str
    stipends_paid: int
    stipends_paid_minor: int
    draw: dict[str, Any] = Field(
        description="Seed, quotas, maximin value, portfolio of panels, each pool number's "
        "probability, the drawn pool numbers and replacements"
    )
    draw_error: str
    progress: dict[str, Any]
    audit: list[EventOut]


class ScoreIn(BaseModel):
    application_id: int = Field(ge=1, le=2**31 - 1)
    scores: dict[int, int] = Field(default_factory=dict, description="criterion id -> 0..10")
    conflict_of_interest: bool = False


class ScoreOut(BaseModel):
    application_id: int
    conflict_of_interest: bool
    scores: dict[str, int]


class CombinedOut(BaseModel):
    rank: int
    application_id: int
    experts: float | None
    panel: float | None
    combined: float


class CombinedRankingOut(BaseModel):
    challenge_id: int
    panel_share_pct: int
    items: list[CombinedOut]


class StipendIn(BaseModel):
    reference: str = Field(min_length=2, max_length=120)


class StipendOut(BaseModel):
    id: int
    seat: int | None
    amount_minor: int
    currency: str
    reference: str
