"""API input and output of the deliberation area."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.deliberation.models import Choice, ConsensusUse


class ConversationIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    topic: str = Field(min_length=5, max_length=200, description="The question put to residents")
    description: str = Field(default="", max_length=4000)
    seeds: list[str] = Field(min_length=2, max_length=30, description="Seed statements")


class StatementIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    text: str = Field(min_length=3, max_length=140)


class VoteIn(BaseModel):
    statement_id: int = Field(ge=1, lt=2**31)
    choice: Choice


class ModerateIn(BaseModel):
    publish: bool
    reason: str = Field(default="", max_length=500)


class ConsensusIn(BaseModel):
    conversation_id: int = Field(ge=1, lt=2**31)
    statement_ids: list[int] = Field(min_length=1, max_length=10)
    use: ConsensusUse


class StatementOut(BaseModel):
    # Written as `pass` everywhere (a Python keyword, hence the field's name).
    model_config = ConfigDict(serialize_by_alias=True)

    id: int
    text: str
    seed: bool
    status: str
    agree: int
    disagree: int
    passed: int = Field(serialization_alias="pass")
    created_at: datetime


class StatementList(BaseModel):
    items: list[StatementOut]


class StatementsData(BaseModel):
    """Open data: the published statements of a conversation."""

    conversation: int
    statements: list[StatementOut]


class NextOut(BaseModel):
    statement: StatementOut | None
    remaining: int


class VoteOut(BaseModel):
    statement_id: int
    choice: Choice
    participant: int


class GroupStatementOut(BaseModel):
    statement_id: int
    text: str
    direction: str
    share: float
    others_share: float


class GroupOut(BaseModel):
    id: int
    label: str
    size: int
    statements: list[GroupStatementOut]


class ConsensusOut(BaseModel):
    statement_id: int
    text: str
    direction: str
    shares: list[float]


class MapOut(BaseModel):
    computed_at: datetime | None
    participants: int
    votes: int
    groups: list[GroupOut]
    consensus: list[ConsensusOut]
    stale: bool


class ConversationOut(BaseModel):
    id: int
    topic: str
    description: str
    status: str
    proposal_id: int | None
    challenge_id: int | None
    participants: int
    statements: int
    created_at: datetime
    map_url: str


class AdoptedOut(BaseModel):
    statement_id: int
    text: str
    use: ConsensusUse


class AdoptedList(BaseModel):
    items: list[AdoptedOut]


VoteCell = int | str | bool


class VotesData(BaseModel):
    """Open data: every vote on a published statement, one row per vote, its cells in the
    order of `columns` (participant, statement_id, vote, choice, applicant_member, voted_at)."""

    conversation: int
    columns: list[str]
    votes: list[list[VoteCell]]
