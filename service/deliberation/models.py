"""Models of the deliberation area: conversations (opinion maps) on a proposal or a challenge,
their short statements, participants (numbered, never shown as accounts), one vote per person
and statement, the last computed map, and the consensus statements a city carried into a
challenge."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from service.accounts.models import User

STATEMENT_MAX = 140


class ConversationStatus(StrEnum):
    open = "open"
    closed = "closed"


class StatementStatus(StrEnum):
    # Held for a moderator: written by a new account.
    pending = "pending"
    published = "published"
    rejected = "rejected"


class Choice(StrEnum):
    agree = "agree"
    disagree = "disagree"
    pass_ = "pass"  # noqa: S105 - the vote, not a password


VALUE_OF: dict[Choice, int] = {Choice.agree: 1, Choice.disagree: -1, Choice.pass_: 0}
CHOICE_OF: dict[int, Choice] = {v: k for k, v in VALUE_OF.items()}


class ConsensusUse(StrEnum):
    problem = "problem"
    criterion = "criterion"


class Conversation(Model):
    """A question put to residents about a proposal or a challenge (one of the two)."""

    id = fields.IntField(primary_key=True)
    proposal_id = fields.IntField(null=True, db_index=True)
    challenge_id = fields.IntField(null=True, db_index=True)
    # The city that opened it (None when a proposal's author did).
    organization_id = fields.IntField(null=True)
    topic = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    status = fields.CharEnumField(
        ConversationStatus, max_length=10, default=ConversationStatus.open
    )
    opened_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="conversations_opened", on_delete=fields.RESTRICT
    )
    participant_count = fields.IntField(default=0)
    # Set by the first vote after the last map; cleared when a map job starts reading.
    map_stale_since = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    closed_at = fields.DatetimeField(null=True)
    opened_by_id: int

    class Meta:
        table = "deliberation_conversations"


class Statement(Model):
    id = fields.IntField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "civic.Conversation", related_name="statements", on_delete=fields.RESTRICT
    )
    author_id = fields.IntField()
    text = fields.CharField(max_length=STATEMENT_MAX)
    seed = fields.BooleanField(default=False)
    status = fields.CharEnumField(StatementStatus, max_length=10, default=StatementStatus.published)
    moderated_by_id = fields.IntField(null=True)
    moderated_at = fields.DatetimeField(null=True)
    reason = fields.TextField(default="")
    agree_count = fields.IntField(default=0)
    disagree_count = fields.IntField(default=0)
    pass_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    conversation_id: int

    class Meta:
        table = "deliberation_statements"
        ordering = ["id"]

    @property
    def vote_count(self) -> int:
        return self.agree_count + self.disagree_count + self.pass_count


class Participant(Model):
    """A person's place in one conversation: the number exports show instead of the account."""

    id = fields.IntField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "civic.Conversation", related_name="participants", on_delete=fields.RESTRICT
    )
    user_id = fields.IntField()
    number = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    conversation_id: int

    class Meta:
        table = "deliberation_participants"
        unique_together = (("conversation", "user_id"), ("conversation", "number"))


class Vote(Model):
    id = fields.BigIntField(primary_key=True)
    conversation_id = fields.IntField(db_index=True)
    statement: fields.ForeignKeyRelation[Statement] = fields.ForeignKeyField(
        "civic.Statement", related_name="votes", on_delete=fields.RESTRICT
    )
    participant: fields.ForeignKeyRelation[Participant] = fields.ForeignKeyField(
        "civic.Participant", related_name="votes", on_delete=fields.RESTRICT
    )
    # +1 agree, -1 disagree, 0 pass (the Polis convention).
    value = fields.SmallIntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    statement_id: int
    participant_id: int

    class Meta:
        table = "deliberation_votes"
        unique_together = (("statement", "participant"),)


class OpinionMap(Model):
    """The last map computed for a conversation: replaced whole when the next is ready."""

    id = fields.IntField(primary_key=True)
    conversation: fields.OneToOneRelation[Conversation] = fields.OneToOneField(
        "civic.Conversation", related_name="opinion_map", on_delete=fields.CASCADE
    )
    computed_at = fields.DatetimeField()
    seconds = fields.FloatField(default=0)
    participant_count = fields.IntField(default=0)
    vote_count = fields.IntField(default=0)
    result: dict[str, Any] = fields.JSONField(default=dict)
    conversation_id: int

    class Meta:
        table = "deliberation_maps"


class AdoptedConsensus(Model):
    """A consensus statement a city carried into a challenge, as problem or criterion."""

    id = fields.IntField(primary_key=True)
    challenge_id = fields.IntField(db_index=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "civic.Conversation", related_name="adoptions", on_delete=fields.RESTRICT
    )
    statement: fields.ForeignKeyRelation[Statement] = fields.ForeignKeyField(
        "civic.Statement", related_name="adoptions", on_delete=fields.RESTRICT
    )
    # The words as adopted, kept even if the statement is later moderated.
    text = fields.CharField(max_length=STATEMENT_MAX)
    use = fields.CharEnumField(ConsensusUse, max_length=10)
    adopted_by_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    conversation_id: int
    statement_id: int

    class Meta:
        table = "deliberation_adoptions"
        unique_together = (("challenge_id", "statement"),)
