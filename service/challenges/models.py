"""Challenges, their criteria, amendments, questions, followers and attachments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from service.core.states import Transitions
from service.core.stored_file import StoredFile
from service.core.vocab import Area

if TYPE_CHECKING:
    from service.accounts.models import Organization, User


class ChallengeStatus(StrEnum):
    draft = "draft"
    published = "published"
    open = "open"
    closed = "closed"
    judging = "judging"
    awarded = "awarded"
    in_delivery = "in_delivery"
    completed = "completed"
    cancelled = "cancelled"


S = ChallengeStatus
# Every allowed move. Dates drive published -> open -> closed -> judging (the scheduler);
# people drive the rest. Cancelling is possible from any state before completed.
TRANSITIONS = Transitions(
    ChallengeStatus,
    {
        S.draft: {S.published, S.cancelled},
        S.published: {S.open, S.cancelled},
        S.open: {S.closed, S.cancelled},
        S.closed: {S.judging, S.cancelled},
        S.judging: {S.awarded, S.cancelled},
        S.awarded: {S.in_delivery, S.cancelled},
        S.in_delivery: {S.completed, S.cancelled},
        S.completed: (),
        S.cancelled: (),
    },
)
PUBLIC_STATUSES = frozenset(set(S) - {S.draft})
# The steps of the timeline shown on the page, in order.
TIMELINE = [S.published, S.open, S.closed, S.judging, S.awarded, S.in_delivery, S.completed]


def can_move(current: ChallengeStatus, target: ChallengeStatus) -> bool:
    return TRANSITIONS.allows(current, target)


def shown_status(status: ChallengeStatus, opens_at: datetime, now: datetime) -> str:
    """What the public sees: a published challenge is "upcoming" until it opens."""
    if status is S.published and now < opens_at:
        return "upcoming"
    return status.value


class Challenge(Model):
    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="challenges", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=160)
    summary = fields.CharField(max_length=200)
    problem_statement = fields.TextField()
    language = fields.CharField(max_length=2, default="en")
    area = fields.CharEnumField(Area, max_length=30, db_index=True)
    sdgs: list[int] = fields.JSONField(default=list)
    region = fields.CharField(max_length=120, db_index=True)
    eligible_kinds: list[str] = fields.JSONField(default=list)
    eligible_regions: list[str] = fields.JSONField(default=list)
    reward_amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    # The reward's value in the platform currency at the latest exchange rate (kept by
    # service.currencies when rates are imported or the reward changes), for sorting and
    # filtering across currencies; null when the currency has no rate. The reward itself
    # never changes with rates.
    reward_reference_minor = fields.BigIntField(null=True)
    reward_reference_currency = fields.CharField(max_length=3, default="")
    reward_reference_date = fields.DateField(null=True)
    reward_reference_source = fields.CharField(max_length=120, default="")
    opens_at = fields.DatetimeField()
    closes_at = fields.DatetimeField(db_index=True)
    judging_ends_at = fields.DatetimeField()
    status = fields.CharEnumField(ChallengeStatus, max_length=20, default=S.draft, db_index=True)
    blind_judging = fields.BooleanField(default=False)
    # The citizen proposal it was born from (filled by the participation area).
    proposal_id = fields.IntField(null=True)
    # Lower-cased title, summary and problem: the SQLite search falls back to LIKE on it.
    search_text = fields.TextField(default="")
    created_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)
    published_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    cancel_reason = fields.TextField(default="")
    organization_id: int

    class Meta:
        table = "challenges"


class Criterion(Model):
    id = fields.IntField(primary_key=True)
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge", related_name="criteria", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=120)
    description = fields.TextField(default="")
    weight = fields.IntField()
    position = fields.IntField(default=0)
    challenge_id: int

    class Meta:
        table = "challenge_criteria"
        ordering = ["position", "id"]


class StatusChange(Model):
    """The challenge's history: who (or the scheduler) moved it, and when."""

    id = fields.IntField(primary_key=True)
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge", related_name="status_changes", on_delete=fields.CASCADE
    )
    from_status = fields.CharField(max_length=20)
    to_status = fields.CharField(max_length=20)
    actor_id = fields.IntField(null=True)
    at = fields.DatetimeField()
    challenge_id: int

    class Meta:
        table = "challenge_status_changes"
        ordering = ["id"]
        unique_together = (("challenge", "to_status"),)


class Amendment(Model):
    """A public record of a change to a published challenge's terms."""

    id = fields.IntField(primary_key=True)
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge", related_name="amendments", on_delete=fields.CASCADE
    )
    author_id = fields.IntField()
    reason = fields.TextField()
    changes: dict[str, object] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    challenge_id: int

    class Meta:
        table = "challenge_amendments"
        ordering = ["id"]


class Question(Model):
    id = fields.IntField(primary_key=True)
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge", related_name="questions", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="questions", on_delete=fields.RESTRICT
    )
    text = fields.TextField()
    # Questions are shown as "a participant asked": the asker may sign with the name of the
    # organization they belong to (kept as it was when they asked), never by default, since an
    # asker's organization often tells a likely bidder.
    signed = fields.BooleanField(default=False)
    signed_organization_id = fields.IntField(null=True)
    answer = fields.TextField(default="")
    answered_by_id = fields.IntField(null=True)
    answered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    challenge_id: int
    author_id: int

    class Meta:
        table = "challenge_questions"
        ordering = ["id"]


class Follow(Model):
    id = fields.IntField(primary_key=True)
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge", related_name="follows", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="follows", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    challenge_id: int
    user_id: int

    class Meta:
        table = "challenge_follows"
        unique_together = (("challenge", "user"),)


class Attachment(StoredFile):
    id = fields.IntField(primary_key=True)
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge", related_name="attachments", on_delete=fields.RESTRICT
    )
    challenge_id: int

    class Meta:
        table = "challenge_attachments"
        ordering = ["id"]
