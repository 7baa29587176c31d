"""Applications to challenges, their partners and files, judges and their invitations,
reviews and awards. Same Tortoise app as the challenges ("civic"): the foreign keys name the
models by app and name, as before."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from service.challenges.models import Challenge, ChallengeStatus
from service.core.states import Transitions
from service.core.stored_file import StoredFile

if TYPE_CHECKING:
    from service.accounts.models import Organization, User

S = ChallengeStatus


class ReviewWindow(StrEnum):
    """Where a challenge stands for its judges: what they may do now."""

    # Not open yet: nothing to declare or score.
    before = "before"
    # Open to applications: a judge may declare a conflict of interest (or none); scores wait
    # until it closes.
    declare = "declare"
    # Closed, judging until `judging_ends_at`: declarations and scores, revisable.
    scoring = "scoring"
    # Judging ended (or the challenge moved on to its award, or was cancelled): nothing changes.
    ended = "ended"


def review_window(challenge: Challenge, now: datetime) -> ReviewWindow:
    """The one rule of when reviews are taken: the review service enforces it and the judging
    pages show their forms, or the sentence of when they open or that they ended, from it."""
    if challenge.status in (S.draft, S.published):
        return ReviewWindow.before
    if challenge.status not in (S.open, S.closed, S.judging) or now >= challenge.judging_ends_at:
        return ReviewWindow.ended
    if challenge.status is S.open:
        return ReviewWindow.declare
    return ReviewWindow.scoring


class ApplicationStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    withdrawn = "withdrawn"
    awarded = "awarded"
    not_awarded = "not_awarded"


# An application's life: a draft is submitted or withdrawn; a submitted one is withdrawn by
# its applicant or, when the city awards, awarded or not.
APPLICATION_TRANSITIONS = Transitions(
    ApplicationStatus,
    {
        ApplicationStatus.draft: {ApplicationStatus.submitted, ApplicationStatus.withdrawn},
        ApplicationStatus.submitted: {
            ApplicationStatus.withdrawn,
            ApplicationStatus.awarded,
            ApplicationStatus.not_awarded,
        },
        ApplicationStatus.withdrawn: (),
        ApplicationStatus.awarded: (),
        ApplicationStatus.not_awarded: (),
    },
)


class Application(Model):
    id = fields.IntField(primary_key=True)
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge", related_name="applications", on_delete=fields.RESTRICT
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="applications", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=160)
    summary = fields.TextField()
    proposal = fields.TextField(default="")
    team = fields.TextField(default="")
    budget_minor = fields.BigIntField(default=0)
    # The lead's payout share; the partners' accepted shares make up the rest of 100.
    lead_share_pct = fields.IntField(default=100)
    status = fields.CharEnumField(ApplicationStatus, max_length=20, default=ApplicationStatus.draft)
    created_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    submitted_at = fields.DatetimeField(null=True)
    withdrawn_at = fields.DatetimeField(null=True)
    challenge_id: int
    organization_id: int

    class Meta:
        table = "applications"
        unique_together = (("challenge", "organization"),)


class PartnerStatus(StrEnum):
    invited = "invited"
    accepted = "accepted"
    declined = "declined"


class ApplicationPartner(Model):
    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "civic.Application", related_name="partners", on_delete=fields.CASCADE
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="partnerships", on_delete=fields.RESTRICT
    )
    role = fields.CharField(max_length=120)
    share_pct = fields.IntField()
    status = fields.CharEnumField(PartnerStatus, max_length=20, default=PartnerStatus.invited)
    answered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    application_id: int
    organization_id: int

    class Meta:
        table = "application_partners"
        unique_together = (("application", "organization"),)


class JudgeAssignment(Model):
    id = fields.IntField(primary_key=True)
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge", related_name="judges", on_delete=fields.RESTRICT
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="judging", on_delete=fields.RESTRICT
    )
    assigned_by_id = fields.IntField(null=True)
    # The manager's choice: while the judge is a member of any applicant organization, they
    # are recused from every application of the challenge, not only from that one.
    recuse_from_all = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    challenge_id: int
    user_id: int

    class Meta:
        table = "judge_assignments"
        unique_together = (("challenge", "user"),)


class Review(Model):
    """A judge's conflict declaration and, without a conflict, their scores for one application."""

    id = fields.IntField(primary_key=True)
    judge: fields.ForeignKeyRelation[JudgeAssignment] = fields.ForeignKeyField(
        "civic.JudgeAssignment", related_name="reviews", on_delete=fields.RESTRICT
    )
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "civic.Application", related_name="reviews", on_delete=fields.RESTRICT
    )
    conflict_of_interest = fields.BooleanField(default=False)
    # {criterion id (as text): score 0..10}; empty until scored.
    scores: dict[str, int] = fields.JSONField(default=dict)
    comment = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    judge_id: int
    application_id: int

    class Meta:
        table = "reviews"
        unique_together = (("judge", "application"),)


class ApplicationAttachment(StoredFile):
    """A file of an application: seen by its member organizations, the city and cleared judges."""

    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "civic.Application", related_name="attachments", on_delete=fields.RESTRICT
    )
    application_id: int

    class Meta:
        table = "application_attachments"
        ordering = ["id"]


class JudgeInvitationStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    revoked = "revoked"


class JudgeInvitation(Model):
    """An outside expert invited by e-mail to judge, who may not have an account yet."""

    id = fields.IntField(primary_key=True)
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge", related_name="judge_invitations", on_delete=fields.RESTRICT
    )
    email = fields.CharField(max_length=254, db_index=True)
    status = fields.CharEnumField(
        JudgeInvitationStatus, max_length=20, default=JudgeInvitationStatus.pending
    )
    invited_by_id = fields.IntField()
    answered_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    answered_at = fields.DatetimeField(null=True)
    challenge_id: int

    class Meta:
        table = "judge_invitations"
        ordering = ["id"]


class Award(Model):
    id = fields.IntField(primary_key=True)
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge", related_name="awards", on_delete=fields.RESTRICT
    )
    application: fields.OneToOneRelation[Application] = fields.OneToOneField(
        "civic.Application", related_name="award", on_delete=fields.RESTRICT
    )
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    rationale = fields.TextField()
    created_by_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    challenge_id: int
    application_id: int

    class Meta:
        table = "awards"
