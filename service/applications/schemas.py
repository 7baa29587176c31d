"""API schemas of applications, judging and awards."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from service.core.i18n import N_


class PartnerIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    organization_id: int = Field(ge=1, le=2**31 - 1)
    role: str = Field(min_length=2, max_length=120)
    share_pct: int = Field(ge=0, le=100)


def _unique_partners(partners: list[PartnerIn]) -> list[PartnerIn]:
    ids = [p.organization_id for p in partners]
    if len(set(ids)) != len(ids):
        raise ValueError(N_("Each partner organization once."))
    if sum(p.share_pct for p in partners) > 100:
        raise ValueError(N_("The partners' shares add up to more than 100."))
    return partners


class ApplicationFields(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=160)
    summary: str = Field(min_length=10, max_length=1500, description="One paragraph")
    proposal: str = Field(default="", max_length=50000)
    team: str = Field(default="", max_length=5000)
    budget_minor: int = Field(default=0, ge=0, le=10**13)


class ApplicationIn(ApplicationFields):
    organization_id: int = Field(ge=1, le=2**31 - 1)
    partners: list[PartnerIn] = Field(default_factory=list, max_length=10)

    @field_validator("partners")
    @classmethod
    def _partners(cls, value: list[PartnerIn]) -> list[PartnerIn]:
        return _unique_partners(value)


class ApplicationPatch(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=3, max_length=160)
    summary: str | None = Field(default=None, min_length=10, max_length=1500)
    proposal: str | None = Field(default=None, max_length=50000)
    team: str | None = Field(default=None, max_length=5000)
    budget_minor: int | None = Field(default=None, ge=0, le=10**13)
    partners: list[PartnerIn] | None = Field(default=None, max_length=10)

    @field_validator("partners")
    @classmethod
    def _partners(cls, value: list[PartnerIn] | None) -> list[PartnerIn] | None:
        return _unique_partners(value) if value is not None else None


class PartnerOut(BaseModel):
    organization_id: int | None
    organization_name: str | None
    role: str
    share_pct: int
    status: str


class ApplicationFileOut(BaseModel):
    id: int
    name: str = Field(
        description="The file's name; in blind mode judges get a neutral one (File 1 (PDF, 120 kB))"
    )
    kind: str = Field(description="PDF, PNG, JPG, WEBP, DOCX, XLSX, ODT, TXT or CSV")
    content_type: str
    size: int = Field(description="In bytes")
    created_at: datetime
    url: str = Field(description="Where the API serves it")


class FileIn(BaseModel):
    """A multipart/form-data body with one part, `file`."""

    file: Annotated[Any, WithJsonSchema({"type": "string", "format": "binary"})] = Field(
        description="PDF, image, office document or text; up to the size limit"
    )


class ApplicationOut(BaseModel):
    id: int
    challenge_id: int
    challenge_title: str
    status: str
    title: str
    summary: str
    proposal: str
    team: str | None
    budget_minor: int
    currency: str
    organization_id: int | None = Field(description="Hidden from judges in blind mode")
    organization_name: str | None
    lead_share_pct: int
    partners: list[PartnerOut]
    submitted_at: datetime | None
    blind: bool
    attachments: list[ApplicationFileOut]


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class JudgeIn(BaseModel):
    user_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    email: str | None = Field(
        default=None,
        max_length=254,
        description="Without an account behind it, the address is invited by e-mail (202)",
    )
    recuse_from_all: bool = Field(
        default=False,
        description="While the judge is a member of any applicant organization, recuse them "
        "from every application of the challenge (not only from that organization's)",
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        if not EMAIL.fullmatch(value):
            raise ValueError(N_("Enter a valid e-mail address."))
        return value

    @model_validator(mode="after")
    def _one(self) -> JudgeIn:
        if (self.user_id is None) == (self.email is None):
            raise ValueError(N_("user_id: Name the judge by user_id or by email."))
        return self


class JudgeOut(BaseModel):
    challenge_id: int
    user_id: int
    name: str
    recuse_from_all: bool = False
    recused_from: list[int] = Field(
        default_factory=list,
        description="The applications the judge is recused from now, as a member of an applicant",
    )


class JudgeInvitedOut(BaseModel):
    """No account has the address yet: an invitation was mailed to it."""

    invitation_id: int
    challenge_id: int
    email: str
    status: Literal["pending"]


class JudgeInvitationOut(BaseModel):
    id: int
    challenge_id: int
    challenge_title: str
    email: str
    status: str = Field(description="pending, accepted, declined or revoked")
    created_at: datetime
    answered_at: datetime | None


class JudgeInvitationList(BaseModel):
    items: list[JudgeInvitationOut]
    next_cursor: str | None = None


class ReviewIn(BaseModel):
    conflict_of_interest: bool = False
    scores: dict[int, int] = Field(default_factory=dict)
    comment: str = Field(default="", max_length=5000)

    @field_validator("scores")
    @classmethod
    def _range(cls, value: dict[int, int]) -> dict[int, int]:
        if any(score < 0 or score > 10 for score in value.values()):
            raise ValueError(N_("Scores go from 0 to 10."))
        return value


class ReviewOut(BaseModel):
    application_id: int
    conflict_of_interest: bool
    scores: dict[int, int]
    comment: str
    updated_at: datetime


class JudgeItem(BaseModel):
    application_id: int
    title: str
    organization_name: str | None
    declared: bool
    recused: bool
    scored: bool


class JudgingOut(BaseModel):
    challenge_id: int
    blind: bool
    # What judges may do now: "before" (not open yet), "declare" (open: conflicts of interest
    # only), "scoring" (closed: scores, revisable until judging ends), "ended".
    window: str = "scoring"
    total: int
    scored: int
    recused: int
    items: list[JudgeItem]


class RankedOut(BaseModel):
    rank: int
    application_id: int
    title: str
    organization_name: str
    score: float
    raw_mean: float
    reviews: int
    spread: float
    disagreement: bool
    per_criterion: dict[int, float]
    set_aside: int = Field(
        default=0,
        description="Scores left out because their judge is now a member of an applicant",
    )
    set_aside_note: str = ""


class RankingOut(BaseModel):
    challenge_id: int
    normalised: bool
    items: list[RankedOut]


class RankingQuery(BaseModel):
    normalise: bool = False


class MilestoneIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=160)
    amount_minor: int = Field(ge=1, le=10**13)
    due_at: AwareDatetime


class AwardIn(BaseModel):
    application_id: int = Field(ge=1, le=2**31 - 1)
    amount_minor: int = Field(ge=1, le=10**13)
    rationale: str = Field(min_length=10, max_length=5000)
    milestones: list[MilestoneIn] = Field(min_length=1, max_length=24)

    @model_validator(mode="after")
    def _sum(self) -> AwardIn:
        if sum(m.amount_minor for m in self.milestones) != self.amount_minor:
            raise ValueError(N_("milestones: The milestone amounts must add up to the award."))
        return self


class MilestoneOut(BaseModel):
    id: int
    title: str
    amount_minor: int
    currency: str
    due_at: datetime
    status: str


class AwardOut(BaseModel):
    id: int
    challenge_id: int
    application_id: int
    organization_name: str
    amount_minor: int
    currency: str
    rationale: str
    milestones: list[MilestoneOut]


class CloseAwardingOut(BaseModel):
    challenge_id: int
    not_awarded: int


class CriterionFeedback(BaseModel):
    criterion_id: int
    name: str
    weight: int
    average: float | None


class FeedbackOut(BaseModel):
    application_id: int
    status: str
    criteria: list[CriterionFeedback]
    comments: list[str]
