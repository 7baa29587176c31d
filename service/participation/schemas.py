"""API and form schemas of the participation area."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from service.core.i18n import N_
from service.core.money import CURRENCIES
from service.core.vocab import Area
from service.participation.models import ProposalStatus, Stance


def _text(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


class ProposalTerms(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=5, max_length=160)
    description: str = Field(min_length=20, max_length=10000)
    region: str = Field(min_length=1, max_length=120)
    affected: str = Field(default="", max_length=2000, description="Who is affected")
    area: Area | None = Field(default=None, description="The government area")
    sdgs: list[int] = Field(default_factory=list, max_length=17)

    @field_validator("description", "affected")
    @classmethod
    def _unix_newlines(cls, value: str) -> str:
        return _text(value)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("sdgs")
    @classmethod
    def _sdgs(cls, value: list[int]) -> list[int]:
        if any(goal < 1 or goal > 17 for goal in value):
            raise ValueError(N_("SDGs are the numbers 1 to 17."))
        return sorted(set(value))


class ProposalIn(ProposalTerms):
    confirm_distinct: bool = Field(
        default=False,
        description="Submit even though proposals with similar titles exist in the region",
    )


class ProposalPatch(ProposalTerms):
    pass


class ProposalSummary(BaseModel):
    id: int
    title: str
    region: str
    area: str | None
    sdgs: list[int]
    status: str
    supporters: int
    threshold_reached_at: datetime | None
    waiting_days: int | None
    created_at: datetime
    challenge_id: int | None
    url: str


class ProposalList(BaseModel):
    items: list[ProposalSummary]
    next_cursor: str | None = None


class ProposalOut(ProposalSummary):
    description: str
    affected: str
    author: str
    threshold: int
    response: str
    responded_at: datetime | None
    hidden: bool
    hidden_reason: str
    supported_by_me: bool


class ProposalQuery(BaseModel):
    q: str = Field(default="", max_length=200)
    region: str = Field(default="", max_length=120)
    area: Area | None = None
    sdg: int | None = Field(default=None, ge=1, le=17)
    status: ProposalStatus | None = None
    sort: str = Field(default="supported", pattern="^(supported|newest|waiting)$")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=100)


class SimilarQuery(BaseModel):
    region: str = Field(min_length=1, max_length=120)
    title: str = Field(min_length=1, max_length=160)
    exclude: int | None = Field(default=None, ge=1, le=2**31 - 1)


class SimilarItem(BaseModel):
    id: int
    title: str
    supporters: int
    url: str


class SimilarList(BaseModel):
    items: list[SimilarItem]


class SupportOut(BaseModel):
    proposal_id: int
    supporters: int
    supported: bool


class CommentIn(BaseModel):
    text: str = Field(min_length=2, max_length=5000)
    stance: Stance = Stance.neutral
    parent_id: int | None = Field(default=None, ge=1, le=2**31 - 1)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = _text(value)
        if len(value) < 2:
            raise ValueError(N_("Write at least a few words."))
        return value


class CommentOut(BaseModel):
    id: int
    proposal_id: int
    parent_id: int | None
    author: str
    stance: str
    text: str
    hidden: bool
    hidden_reason: str
    created_at: datetime


class CommentList(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None = None


class ReasonIn(BaseModel):
    reason: str = Field(min_length=5, max_length=2000)

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = _text(value)
        if len(value) < 5:
            raise ValueError(N_("Give a reason of a few words."))
        return value


class ReportIn(BaseModel):
    reason: str = Field(default="", max_length=2000)


class ResponseIn(BaseModel):
    status: str = Field(pattern="^(under_study|declined)$", description="The city's formal answer")
    text: str = Field(min_length=5, max_length=5000)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = _text(value)
        if len(value) < 5:
            raise ValueError(N_("Explain the answer in a few words."))
        return value


class AdoptIn(BaseModel):
    organization_id: int = Field(ge=1, le=2**31 - 1)
    area: Area | None = Field(default=None, description="When the proposal names none")
    reward_amount_minor: int = Field(default=1_000_000, ge=1, le=10**13)
    currency: str = Field(default="EUR", min_length=3, max_length=3)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.upper()
        if code not in CURRENCIES:
            raise ValueError(N_("Use an ISO 4217 currency code, such as EUR, BRL or CLP."))
        return code


class AdoptOut(BaseModel):
    proposal_id: int
    challenge_id: int
    challenge_url: str


class ThresholdIn(BaseModel):
    supports: int = Field(ge=1, le=10_000_000)


class ThresholdOut(BaseModel):
    region: str
    supports: int


class UpdateIn(BaseModel):
    title: str = Field(min_length=5, max_length=200)
    body: str = Field(default="", max_length=5000)

    @field_validator("title")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = " ".join(value.split())
        if len(value) < 5:
            raise ValueError(N_("Write a title of a few words."))
        return value


class UpdateOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    link: str
    at: datetime


class UpdateList(BaseModel):
    items: list[UpdateOut]
    next_cursor: str | None = None


class PhotoIn(BaseModel):
    """A multipart/form-data body: the image in part `file`, its description in part `alt`."""

    file: Annotated[Any, WithJsonSchema({"type": "string", "format": "binary"})] = Field(
        description="A JPEG, PNG or WebP image of at most 5 MB"
    )
    alt: str = Field(max_length=200, description="What the photo shows, in a few words")


class PhotoOut(BaseModel):
    url: str
    alt: str
    content_type: str
    size: int
