"""API schemas of programmes, cohorts, places, mentors, check-ins and projects."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from service.core.vocab import Area
from service.incubation.models import Cadence, Light, ProjectStatus

ID = Field(ge=1, le=2**31 - 1)


class Strict(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class ListQuery(BaseModel):
    cursor: int | None = Field(default=None, ge=1, le=2**31 - 1, description="From next_cursor")
    limit: int = Field(default=50, ge=1, le=200)


class ProgrammeIn(Strict):
    organization_id: int = ID
    name: str = Field(min_length=3, max_length=160)
    description: str = Field(default="", max_length=5000)
    partner_organization_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class CohortIn(Strict):
    name: str = Field(min_length=3, max_length=160)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int = Field(ge=1, le=500)
    cadence: Cadence
    space_name: str = Field(default="", max_length=160)
    space_address: str = Field(default="", max_length=300)
    remote: bool = False

    @model_validator(mode="after")
    def _dates(self) -> CohortIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at: The end must come after the start.")
        if not self.remote and not self.space_name:
            raise ValueError("space_name: Name the space where the cohort meets, or choose remote.")
        return self


class CohortOut(BaseModel):
    id: int
    programme_id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    state: Literal["upcoming", "running", "ended"]
    capacity: int
    admitted: int
    cadence: str
    space_name: str
    space_address: str
    remote: bool


class ProgrammeOut(BaseModel):
    id: int
    organization_id: int
    organization_name: str
    partner_organization_id: int | None
    name: str
    description: str
    cohorts: list[CohortOut] = Field(default_factory=list)


class ProgrammePage(BaseModel):
    items: list[ProgrammeOut]
    next_cursor: str | None = None


class MemberOut(BaseModel):
    """A startup of the cohort as the public sees it."""

    place_id: int
    organization_id: int
    organization_name: str
    pitch: str
    challenge_id: int | None
    challenge_title: str | None
    project_id: int | None
    project_status: str | None


class CohortDetailOut(CohortOut):
    programme_name: str
    organization_id: int
    members: list[MemberOut]


class ApplyIn(Strict):
    organization_id: int = ID
    pitch: str = Field(min_length=20, max_length=2000)
    sectors: list[Area] = Field(min_length=1, max_length=15)


class ReasonIn(Strict):
    reason: str = Field(min_length=3, max_length=2000)


class PlaceOut(BaseModel):
    id: int
    cohort_id: int
    organization_id: int
    organization_name: str
    status: str
    pitch: str
    sectors: list[str]
    award_id: int | None
    challenge_id: int | None
    reason: str
    project_id: int | None = None


class PlacePage(BaseModel):
    items: list[PlaceOut]
    next_cursor: str | None = None


class CheckInIn(Strict):
    progress: str = Field(min_length=3, max_length=5000)
    blockers: str = Field(default="", max_length=5000)
    help_needed: str = Field(default="", max_length=5000)
    status: Light


class CheckInOut(BaseModel):
    id: int
    place_id: int
    step: int
    due_at: datetime
    submitted_at: datetime
    late: bool
    progress: str
    blockers: str
    help_needed: str
    status: str
    mentor_note: str
    noted_at: datetime | None


class PlaceDetailOut(PlaceOut):
    check_ins: list[CheckInOut]
    mentors: list[str]


class NoteIn(Strict):
    note: str = Field(min_length=1, max_length=5000)


class MentorIn(Strict):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str = Field(default="", max_length=120)
    expertise: list[Area] = Field(min_length=1, max_length=15)
    capacity: int = Field(ge=1, le=50)


class MentorOut(BaseModel):
    id: int
    cohort_id: int
    email: str
    name: str
    expertise: list[str]
    capacity: int
    status: str


class MentorPage(BaseModel):
    items: list[MentorOut]
    next_cursor: str | None = None


class PairingIn(Strict):
    mentor_id: int = ID
    place_id: int = ID


class PairingOut(BaseModel):
    id: int
    mentor_id: int
    place_id: int


class SuggestionOut(BaseModel):
    mentor_id: int
    place_id: int
    shared_sectors: list[str]


class SuggestionPage(BaseModel):
    items: list[SuggestionOut]
    next_cursor: str | None = None


class BoardRowOut(BaseModel):
    place_id: int
    organization_id: int
    organization_name: str
    latest_status: str | None
    latest_step: int | None
    latest_at: datetime | None
    late: bool
    flagged: bool
    mentors: list[str]


class BoardOut(BaseModel):
    items: list[BoardRowOut]
    next_cursor: str | None = None


class StepIn(Strict):
    status: Literal["pilot_agreed", "pilot_running", "pilot_completed", "stopped"]
    reason: str = Field(default="", max_length=2000)
    on: date | None = Field(default=None, description="When it happened; today by default")


class ContractIn(Strict):
    amount_minor: int = Field(ge=1, le=10**13)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    supplier: str = Field(min_length=2, max_length=200)
    starts_on: date
    ends_on: date


class StepOut(BaseModel):
    status: str
    on: date
    reason: str


class ContractOut(BaseModel):
    amount_minor: int
    currency: str
    supplier: str
    starts_on: date
    ends_on: date


class ProjectOut(BaseModel):
    """A project's public progress: steps reached and milestones paid."""

    id: int
    organization_id: int
    organization_name: str
    challenge_id: int | None
    title: str
    status: ProjectStatus
    stop_reason: str
    steps: list[StepOut]
    milestones_paid: int
    milestones_total: int
    paid_minor: int
    currency: str
    contract: ContractOut | None
