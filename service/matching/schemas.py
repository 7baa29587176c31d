"""API schemas of theses, startup profiles, recommendations and demo days."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.core.i18n import gettext
from service.core.money import CURRENCIES
from service.core.vocab import Area, Stage

MAX_MINOR = 10**13


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


class ThesisIn(BaseModel):
    """What an investor funds. Lists may be empty (no preference)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    sectors: list[Area] = Field(default_factory=list, max_length=len(Area))
    stages: list[Stage] = Field(default_factory=list, max_length=len(Stage))
    ticket_min_minor: int | None = Field(default=None, ge=1, le=MAX_MINOR)
    ticket_max_minor: int | None = Field(default=None, ge=1, le=MAX_MINOR)
    currency: str = Field(default="EUR", min_length=3, max_length=3)
    regions: list[str] = Field(default_factory=list, max_length=30)
    regions_strict: bool = False
    stages_strict: bool = False
    text: str = Field(default="", max_length=5000)

    @field_validator("sectors", "stages")
    @classmethod
    def _dedupe(cls, values: list[Any]) -> list[Any]:
        return _unique(values)

    @field_validator("regions")
    @classmethod
    def _regions(cls, values: list[str]) -> list[str]:
        cleaned = [" ".join(v.split()) for v in values]
        if any(not v or len(v) > 120 for v in cleaned):
            raise ValueError(gettext("Each region needs 1 to 120 characters."))
        return _unique(cleaned)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value.upper() not in CURRENCIES:
            raise ValueError(gettext("Not an ISO 4217 currency."))
        return value.upper()

    @model_validator(mode="after")
    def _range(self) -> ThesisIn:
        low, high = self.ticket_min_minor, self.ticket_max_minor
        if low is not None and high is not None and low > high:
            raise ValueError(gettext("ticket_max_minor must be at least ticket_min_minor."))
        return self


class ThesisOut(BaseModel):
    organization_id: int
    sectors: list[str]
    stages: list[str]
    ticket_min_minor: int | None
    ticket_max_minor: int | None
    currency: str
    regions: list[str]
    regions_strict: bool
    stages_strict: bool
    text: str
    ranked: bool = Field(description="False until the organization is verified")
    updated_at: datetime | None = None


class ProfileIn(BaseModel):
    """A startup's, university's or research centre's side of the deal flow."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    sectors: list[Area] = Field(default_factory=list, max_length=len(Area))
    stage: Stage | None = None
    funding_ask_minor: int | None = Field(default=None, ge=1, le=MAX_MINOR)
    currency: str = Field(default="EUR", min_length=3, max_length=3)
    region: str = Field(default="", max_length=120)
    text: str = Field(default="", max_length=5000)
    dealflow_opt_in: bool = False
    share_scores: bool = False

    @field_validator("sectors")
    @classmethod
    def _dedupe(cls, values: list[Any]) -> list[Any]:
        return _unique(values)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value.upper() not in CURRENCIES:
            raise ValueError(gettext("Not an ISO 4217 currency."))
        return value.upper()


class TrackOut(BaseModel):
    applied: int = 0
    wins: int = 0
    milestones_delivered: int = 0
    milestones_on_time: int = 0
    payouts: int = 0
    cities: int = 0
    judge_mean: float | None = Field(default=None, description="Only with share_scores")
    score: float = 0.0


class ProfileOut(BaseModel):
    organization_id: int
    sectors: list[str]
    stage: str | None
    funding_ask_minor: int | None
    currency: str
    region: str
    text: str
    dealflow_opt_in: bool
    share_scores: bool
    track: TrackOut
    updated_at: datetime | None = None


class ReasonOut(BaseModel):
    code: str
    values: dict[str, Any]
    text: str = Field(description="The reason in the reader's language")


class RecommendationOut(BaseModel):
    challenge_id: int
    title: str
    area: str
    region: str
    closes_at: datetime | None = None
    score: float
    components: dict[str, float]
    reasons: list[ReasonOut]


class RecommendationPage(BaseModel):
    items: list[RecommendationOut]
    next_cursor: str | None = None


class RecommendationQuery(BaseModel):
    limit: int = Field(default=10, ge=1, le=50)


class DemoInvestorIn(BaseModel):
    organization_id: int = Field(ge=1, le=2**31 - 1)
    slots: int = Field(ge=1, le=48)


class DemoStartupIn(BaseModel):
    organization_id: int = Field(ge=1, le=2**31 - 1)
    max_meetings: int = Field(ge=1, le=48)


class DemoDayIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    title: str = Field(min_length=1, max_length=160)
    starts_at: datetime
    slot_minutes: int = Field(default=20, ge=5, le=240)
    investors: list[DemoInvestorIn] = Field(min_length=1, max_length=2000)
    startups: list[DemoStartupIn] = Field(min_length=1, max_length=5000)

    @field_validator("starts_at")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError(gettext("Give the time with its zone, e.g. 2026-05-01T09:00:00Z."))
        return value

    @model_validator(mode="after")
    def _distinct(self) -> DemoDayIn:
        if len({i.organization_id for i in self.investors}) != len(self.investors):
            raise ValueError(gettext("Each investor may be listed once."))
        if len({s.organization_id for s in self.startups}) != len(self.startups):
            raise ValueError(gettext("Each startup may be listed once."))
        return self


class MeetingOut(BaseModel):
    investor_id: int
    startup_id: int
    slot: int
    starts_at: datetime
    score: float


class DemoDayOut(BaseModel):
    id: int
    title: str
    starts_at: datetime
    slot_minutes: int
    status: str
    total_score: float
    meetings: list[MeetingOut]
