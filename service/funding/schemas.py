"""API schemas of funding rounds, ballots, outcomes and overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from service.core.i18n import N_
from service.core.money import CURRENCIES

ID = Field(ge=1, le=2**31 - 1)


class Strict(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class ListQuery(BaseModel):
    cursor: int | None = Field(default=None, ge=1, le=2**31 - 1, description="From next_cursor")
    limit: int = Field(default=50, ge=1, le=200)


class RoundIn(Strict):
    organization_id: int = ID
    title: str = Field(min_length=5, max_length=160)
    description: str = Field(default="", max_length=5000)
    region: str = Field(min_length=2, max_length=120)
    budget_minor: int = Field(ge=1, le=10**13)
    currency: str = Field(min_length=3, max_length=3)
    max_approvals: int | None = Field(default=None, ge=1, le=500)
    require_oidc: bool = False
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    # Challenge drafts of the city (a proposal it adopted is one); each one's reward is its cost.
    challenge_ids: list[int] = Field(min_length=1, max_length=500)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.upper()
        if code not in CURRENCIES:
            raise ValueError(N_("Use an ISO 4217 currency code, such as EUR, BRL or CLP."))
        return code

    @field_validator("challenge_ids")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value) or any(not 0 < v < 2**31 for v in value):
            raise ValueError(N_("Name each candidate once."))
        return value

    @model_validator(mode="after")
    def _dates(self) -> RoundIn:
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at: " + N_("Voting must close after it opens."))
        return self


class BallotIn(Strict):
    candidate_ids: list[int] = Field(min_length=1, max_length=500)
    # The voter declares living in the round's region.
    resident: bool


class CandidateOut(BaseModel):
    id: int
    position: int
    challenge_id: int | None
    title: str
    summary: str
    cost_minor: int
    votes: int
    funded: Literal["", "shares", "leftover", "override"]
    equal_shares: bool = Field(description="Funded by equal shares alone (no completion)")
    greedy: bool = Field(description="Funded by the greedy rule")
    price: str = Field(description="Most a supporter paid, exact minor units as 'p/q'")
    full_payers: int
    partial_payers: int
    reserved_minor: int
    override: Literal["", "fund", "drop"]
    override_reason: str


class RoundOut(BaseModel):
    id: int
    organization_id: int
    title: str
    description: str
    region: str
    budget_minor: int
    currency: str
    ballot_kind: str
    max_approvals: int | None
    require_oidc: bool
    opens_at: datetime
    closes_at: datetime
    state: Literal["draft", "upcoming", "voting", "counting", "counted"]
    voters: int
    share: str = Field(description="Each voter's share after completion, minor units 'p/q'")
    base_share: str = Field(description="Budget / voters, minor units 'p/q'")
    reserved_minor: int
    candidates: list[CandidateOut]


class RoundPage(BaseModel):
    items: list[RoundOut]
    next_cursor: str | None


class ReceiptOut(BaseModel):
    receipt_code: str = Field(description="Shown once: the only key to the ballot after the close")
    receipt: str = Field(description="SHA-256 of the round and the code, published with it")
    candidate_ids: list[int]


class MyBallotOut(BaseModel):
    receipt: str
    candidate_ids: list[int]
    cast_at: datetime | None


class OverrideIn(Strict):
    action: Literal["fund", "drop"]
    reason: str = Field(min_length=10, max_length=2000)


class ShareIn(Strict):
    receipt_code: str = Field(min_length=8, max_length=64)


class PaymentOut(BaseModel):
    candidate_id: int
    title: str
    amount: str = Field(description="Exact minor units, 'p/q'")


class ShareOut(BaseModel):
    receipt: str
    candidate_ids: list[int]
    share: str
    spent: str
    payments: list[PaymentOut]
