"""API and form schemas of the challenges area."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from service.accounts.models import OrganizationKind
from service.core.i18n import N_
from service.core.money import CURRENCIES
from service.core.vocab import Area


class Reward(BaseModel):
    amount_minor: int = Field(ge=1, le=10**13, description="Integer minor units (cents)")
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217")

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.upper()
        if code not in CURRENCIES:
            raise ValueError(N_("Use an ISO 4217 currency code, such as EUR, BRL or CLP."))
        return code


class CriterionIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=120)
    description: str = Field(default="", max_length=2000)
    weight: int = Field(ge=1, le=100)


def _check_weights(criteria: list[CriterionIn]) -> list[CriterionIn]:
    if sum(c.weight for c in criteria) != 100:
        raise ValueError(N_("The weights of the criteria must add up to 100."))
    names = [c.name.lower() for c in criteria]
    if len(set(names)) != len(names):
        raise ValueError(N_("Each criterion needs its own name."))
    return criteria


class ChallengeTerms(BaseModel):
    """Fields shared by creating and editing a challenge."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=5, max_length=160)
    summary: str = Field(min_length=10, max_length=200, description="One plain sentence")
    problem_statement: str = Field(min_length=20, max_length=20000)
    language: str = Field(default="en", pattern="^(en|es|pt)$")
    area: Area
    sdgs: list[int] = Field(default_factory=list, max_length=17)
    region: str = Field(min_length=1, max_length=120)
    eligible_kinds: list[OrganizationKind] = Field(min_length=1, max_length=3)
    eligible_regions: list[str] = Field(default_factory=list, max_length=50)
    reward: Reward
    criteria: list[CriterionIn] = Field(min_length=1, max_length=12)
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    judging_ends_at: AwareDatetime | None = None
    blind_judging: bool = False

    @field_validator("problem_statement")
    @classmethod
    def _unix_newlines(cls, value: str) -> str:
        # Browsers send the lines of a text area separated by CRLF; paragraphs are "\n\n".
        return value.replace("\r\n", "\n").replace("\r", "\n")

    @field_validator("sdgs")
    @classmethod
    def _sdgs(cls, value: list[int]) -> list[int]:
        if any(goal < 1 or goal > 17 for goal in value):
            raise ValueError(N_("SDGs are the numbers 1 to 17."))
        return sorted(set(value))

    @field_validator("eligible_kinds")
    @classmethod
    def _applicant_kinds(cls, value: list[OrganizationKind]) -> list[OrganizationKind]:
        allowed = {
            OrganizationKind.startup,
            OrganizationKind.university,
            OrganizationKind.research_center,
        }
        if not set(value) <= allowed:
            raise ValueError(N_("Applicants are startups, universities or research centres."))
        return sorted(set(value))

    @field_validator("eligible_regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        cleaned = [r.strip() for r in value if r.strip()]
        if any(len(r) > 120 for r in cleaned):
            raise ValueError(N_("A region name is at most 120 characters."))
        return cleaned

    @field_validator("criteria")
    @classmethod
    def _criteria(cls, value: list[CriterionIn]) -> list[CriterionIn]:
        return _check_weights(value)

    # Field validators, not a model validator: the dates are checked even when another
    # field is wrong, so the form shows every mistake at once.
    @field_validator("closes_at")
    @classmethod
    def _closes_after_opening(cls, value: datetime, info: ValidationInfo) -> datetime:
        opens_at = info.data.get("opens_at")
        if opens_at is not None and value <= opens_at:
            raise ValueError(N_("The closing date must come after the opening date."))
        return value

    @field_validator("judging_ends_at")
    @classmethod
    def _judging_after_closing(
        cls, value: datetime | None, info: ValidationInfo
    ) -> datetime | None:
        closes_at = info.data.get("closes_at")
        if value is not None and closes_at is not None and value <= closes_at:
            raise ValueError(N_("Judging must end after the challenge closes."))
        return value


class ChallengeIn(ChallengeTerms):
    organization_id: int = Field(ge=1, le=2**31 - 1)


class ChallengePatch(ChallengeTerms):
    """A full new version of the terms; after publication, `amendment_reason` is required
    for any change to the reward, the criteria or the dates."""

    amendment_reason: str = Field(default="", max_length=2000)


class CancelIn(BaseModel):
    reason: str = Field(min_length=5, max_length=2000)


class CriterionOut(BaseModel):
    id: int
    name: str
    description: str
    weight: int


class AmendmentOut(BaseModel):
    id: int
    reason: str
    changes: dict[str, object]
    created_at: datetime


class AnswerIn(BaseModel):
    text: str = Field(min_length=5, max_length=2000)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if len(value.strip()) < 5:
            raise ValueError(N_("Write at least a few words."))
        return value.strip()


class QuestionIn(AnswerIn):
    # Sign the question with the asker's organization's name; shown as a participant's
    # otherwise.
    signed: bool = False


class QuestionOut(BaseModel):
    id: int
    challenge_id: int
    text: str
    # The asker's organization when they chose to sign, null otherwise ("a participant").
    asked_by: str | None
    signed: bool
    created_at: datetime
    answer: str | None
    answered_at: datetime | None


class QuestionList(BaseModel):
    items: list[QuestionOut]
    next_cursor: str | None = None


class AttachmentOut(BaseModel):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class StepOut(BaseModel):
    status: str
    at: datetime | None
    done: bool
    current: bool


class ReadabilityOut(BaseModel):
    field: str
    score: float
    hard: bool


class WinnerOut(BaseModel):
    application_id: int
    organization_id: int
    organization_name: str
    amount_minor: int
    currency: str
    rationale: str


class RewardReference(BaseModel):
    """The reward's value in the platform currency, used to sort and filter across
    currencies; the reward itself is the challenge's own amount and currency."""

    amount_minor: int
    currency: str
    rate_date: date | None = Field(description="Day of the exchange rate (null: same currency)")
    rate_source: str = Field(description='Who published the rate, e.g. "ECB"')


class ChallengeSummaryOut(BaseModel):
    id: int
    title: str
    summary: str
    area: Area
    region: str
    status: str
    sdgs: list[int]
    eligible_kinds: list[str]
    reward: Reward
    opens_at: datetime
    closes_at: datetime
    organization_id: int
    organization_name: str
    reward_reference: RewardReference | None = Field(
        default=None, description="null when the reward's currency has no exchange rate"
    )
    time_zone: str = Field(
        default="UTC",
        description="IANA zone of the city: its dates are typed and shown in it",
        examples=["America/Santiago"],
    )
    url: str


class ChallengeList(BaseModel):
    items: list[ChallengeSummaryOut]
    next_cursor: str | None = None


class ChallengeOut(ChallengeSummaryOut):
    problem_statement: str
    language: str
    eligible_regions: list[str]
    judging_ends_at: datetime
    blind_judging: bool
    criteria: list[CriterionOut]
    amendments: list[AmendmentOut]
    attachments: list[AttachmentOut]
    timeline: list[StepOut]
    proposal_id: int | None
    published_at: datetime | None
    cancel_reason: str
    readability: list[ReadabilityOut]
    winners: list[WinnerOut]


class ChallengeQuery(BaseModel):
    q: str = Field(default="", max_length=200)
    status: list[str] = Field(default_factory=list)
    area: Area | None = None
    sdg: int | None = Field(default=None, ge=1, le=17)
    region: str = Field(default="", max_length=120)
    eligible_kind: OrganizationKind | None = None
    min_reward: Decimal | None = Field(
        default=None,
        ge=0,
        le=10**13,
        description=(
            "The smallest reward, as a plain number in the platform currency (EUR unless "
            "configured): 50000 means EUR 50,000, not minor units. Rewards in other "
            "currencies compare by their reference amount at the latest exchange rate."
        ),
        examples=["50000"],
    )
    closing_before: AwareDatetime | None = None
    sort: str = Field(default="newest", pattern="^(newest|closing|reward)$")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=100)

    @field_validator("status", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [v for v in value.split(",") if v]
        return value

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: list[str]) -> list[str]:
        allowed = {
            "upcoming",
            "published",
            "open",
            "closed",
            "judging",
            "awarded",
            "in_delivery",
            "completed",
            "cancelled",
        }
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise ValueError(f"Unknown status: {', '.join(unknown)}")
        return ["published" if v == "upcoming" else v for v in value]
