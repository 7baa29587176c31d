"""Models of the participation area: proposals, supports, comments, thresholds, updates."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from service.core.states import Transitions
from service.core.vocab import Area

if TYPE_CHECKING:
    from service.accounts.models import User
    from service.challenges.models import Challenge


class ProposalStatus(StrEnum):
    open = "open"
    under_study = "under_study"
    adopted = "adopted"
    declined = "declined"


P = ProposalStatus
# The city's formal answers, and where each may come from.
ANSWERS = frozenset({P.under_study, P.adopted, P.declined})
TRANSITIONS = Transitions(
    ProposalStatus,
    {
        P.open: {P.under_study, P.adopted, P.declined},
        P.under_study: {P.adopted, P.declined},
        P.adopted: (),
        P.declined: (),
    },
)


def can_answer(current: ProposalStatus, target: ProposalStatus) -> bool:
    return TRANSITIONS.allows(current, target)


class Stance(StrEnum):
    neutral = "neutral"
    for_ = "for"
    against = "against"


class Proposal(Model):
    id = fields.IntField(primary_key=True)
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="proposals", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=160)
    description = fields.TextField()
    affected = fields.TextField(default="")
    region = fields.CharField(max_length=120, db_index=True)
    area = fields.CharEnumField(Area, max_length=30, null=True)
    sdgs: list[int] = fields.JSONField(default=list)
    status = fields.CharEnumField(ProposalStatus, max_length=20, default=P.open, db_index=True)
    support_count = fields.IntField(default=0)
    # When the support count first reached the region's threshold: the answer clock starts.
    threshold_reached_at = fields.DatetimeField(null=True)
    response = fields.TextField(default="")
    responded_at = fields.DatetimeField(null=True)
    responded_by_id = fields.IntField(null=True)
    # The challenge it was adopted into: the link lives on this side.
    challenge: fields.ForeignKeyNullableRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge", related_name="proposals", null=True, on_delete=fields.RESTRICT
    )
    adopted_by_id = fields.IntField(null=True)
    adopted_at = fields.DatetimeField(null=True)
    hidden_at = fields.DatetimeField(null=True)
    hidden_reason = fields.TextField(default="")
    hidden_by_id = fields.IntField(null=True)
    search_text = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)
    author_id: int
    challenge_id: int | None

    class Meta:
        table = "proposals"


class Support(Model):
    id = fields.IntField(primary_key=True)
    proposal: fields.ForeignKeyRelation[Proposal] = fields.ForeignKeyField(
        "civic.Proposal", related_name="supports", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="supports", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    proposal_id: int
    user_id: int

    class Meta:
        table = "proposal_supports"
        unique_together = (("proposal", "user"),)


class Comment(Model):
    id = fields.IntField(primary_key=True)
    proposal: fields.ForeignKeyRelation[Proposal] = fields.ForeignKeyField(
        "civic.Proposal", related_name="comments", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="proposal_comments", on_delete=fields.RESTRICT
    )
    parent_id = fields.IntField(null=True)
    stance = fields.CharEnumField(Stance, max_length=10, default=Stance.neutral)
    text = fields.TextField()
    report_count = fields.IntField(default=0)
    hidden_at = fields.DatetimeField(null=True)
    hidden_reason = fields.TextField(default="")
    hidden_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    proposal_id: int
    author_id: int

    class Meta:
        table = "proposal_comments"
        ordering = ["id"]


class CommentReport(Model):
    id = fields.IntField(primary_key=True)
    comment: fields.ForeignKeyRelation[Comment] = fields.ForeignKeyField(
        "civic.Comment", related_name="reports", on_delete=fields.CASCADE
    )
    user_id = fields.IntField()
    reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    comment_id: int

    class Meta:
        table = "proposal_comment_reports"
        unique_together = (("comment", "user_id"),)


class RegionThreshold(Model):
    """How many supports oblige the city of a region to answer formally."""

    id = fields.IntField(primary_key=True)
    # Lower-cased region name.
    region = fields.CharField(max_length=120, unique=True)
    supports = fields.IntField()
    organization_id = fields.IntField()
    set_by_id = fields.IntField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "proposal_thresholds"


class Update(Model):
    """One entry of a public timeline (a challenge's, a proposal's, a city's).

    Written by the system from the other areas' events (`event_key` names the event, so it is
    written once however often the job runs) or by staff.
    """

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=30)
    title = fields.CharField(max_length=200)
    body = fields.TextField(default="")
    link = fields.CharField(max_length=300, default="")
    # The event's parameters: the title and body are written in the reader's language from
    # the kind (see notifications/kinds.py). None: older entries and staff posts, shown as
    # stored.
    params: dict[str, Any] | None = fields.JSONField(null=True)
    event_key = fields.CharField(max_length=120, null=True, unique=True)
    author_id = fields.IntField(null=True)
    challenge_id = fields.IntField(null=True, db_index=True)
    proposal_id = fields.IntField(null=True, db_index=True)
    organization_id = fields.IntField(null=True, db_index=True)
    at = fields.DatetimeField(db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "public_updates"
        ordering = ["-at", "-id"]

    def shown(self) -> tuple[str, str]:
        """Title and body in the current (the reader's) language; as stored for older
        entries and staff posts."""
        from service.notifications import kinds

        name = f"timeline.{self.kind}"
        if self.params is None or name not in kinds.KINDS:
            return self.title, self.body
        return kinds.render(name, self.params)

    @property
    def heading(self) -> str:
        return self.shown()[0]

    @property
    def text(self) -> str:
        return self.shown()[1]


class SyncMark(Model):
    """How far the timeline job has read one source of events."""

    name = fields.CharField(max_length=40, primary_key=True)
    # Append-only sources are read by id, the others by the time of the change.
    seen_id = fields.IntField(default=0)
    seen_until = fields.DatetimeField(null=True)

    class Meta:
        table = "participation_sync_marks"


class ProposalPhoto(Model):
    """The optional photo of a proposal, with the words that describe it to those who cannot
    see it."""

    id = fields.IntField(primary_key=True)
    proposal: fields.OneToOneRelation[Proposal] = fields.OneToOneField(
        "civic.Proposal", related_name="photo", on_delete=fields.CASCADE
    )
    stored_name = fields.CharField(max_length=200)
    content_type = fields.CharField(max_length=100)
    size = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    alt = fields.CharField(max_length=200)
    uploaded_at = fields.DatetimeField(auto_now_add=True)
    proposal_id: int

    class Meta:
        table = "proposal_photos"
