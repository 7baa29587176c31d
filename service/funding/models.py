"""Models of the funding rounds area: rounds, their candidates and the ballots cast.

A round belongs to a city (organization); its candidates name a challenge draft or a citizen
proposal by plain id columns (nothing is added to those areas' models). A ballot holds the
account that cast it only while the round is open: the count seals the ballots (account and
times erased, rows rewritten in receipt order) before anything is published.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from service.accounts.models import Organization


class RoundStatus(StrEnum):
    draft = "draft"
    published = "published"
    counted = "counted"


class BallotKind(StrEnum):
    approval = "approval"


class Funded(StrEnum):
    """How a candidate got its money: the shares, the leftover, or the city's override."""

    no = ""
    shares = "shares"
    leftover = "leftover"
    override = "override"


class Override(StrEnum):
    none = ""
    fund = "fund"
    drop = "drop"


def shown_state(status: RoundStatus, opens_at: datetime, closes_at: datetime, now: datetime) -> str:
    """draft, upcoming, voting, counting (closed, not counted yet) or counted."""
    if status is RoundStatus.draft:
        return "draft"
    if status is RoundStatus.counted:
        return "counted"
    if now < opens_at:
        return "upcoming"
    if now < closes_at:
        return "voting"
    return "counting"


class FundingRound(Model):
    """A city's budget shared by its residents' votes across candidate challenges."""

    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="funding_rounds", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=160)
    description = fields.TextField(default="")
    # Who may vote: residents of this region (declared), with a verified e-mail.
    region = fields.CharField(max_length=120)
    require_oidc = fields.BooleanField(default=False)
    budget_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    ballot_kind = fields.CharEnumField(BallotKind, max_length=20, default=BallotKind.approval)
    max_approvals = fields.IntField(null=True)
    opens_at = fields.DatetimeField()
    closes_at = fields.DatetimeField(db_index=True)
    status = fields.CharEnumField(RoundStatus, max_length=20, default=RoundStatus.draft)
    created_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    published_at = fields.DatetimeField(null=True)
    counted_at = fields.DatetimeField(null=True)
    # The outcome's figures: voters, each voter's share (exact, "p/q", and the share raised by
    # the completion), how many runs the completion took.
    voters = fields.IntField(default=0)
    share = fields.CharField(max_length=120, default="")
    base_share = fields.CharField(max_length=120, default="")
    completion_runs = fields.IntField(default=0)
    organization_id: int

    class Meta:
        table = "funding_rounds"
        ordering = ["-opens_at", "id"]


class Candidate(Model):
    """A challenge draft or a citizen proposal on a round's ballot. Its reward is its cost."""

    id = fields.IntField(primary_key=True)
    round: fields.ForeignKeyRelation[FundingRound] = fields.ForeignKeyField(
        "civic.FundingRound", related_name="candidates", on_delete=fields.RESTRICT
    )
    position = fields.IntField()
    challenge_id = fields.IntField(null=True)
    proposal_id = fields.IntField(null=True)
    title = fields.CharField(max_length=160)
    summary = fields.CharField(max_length=300, default="")
    cost_minor = fields.BigIntField()
    # The count's results.
    votes = fields.IntField(default=0)
    funded = fields.CharEnumField(Funded, max_length=20, default=Funded.no)
    # What equal shares alone, and greedy alone, would have done (shown side by side).
    plain_funded = fields.BooleanField(default=False)
    greedy_funded = fields.BooleanField(default=False)
    # For a candidate bought with the shares: its order, the price each supporter paid at
    # most ("p/q" in minor units), how many paid it, and how many paid less (all they had).
    purchase_order = fields.IntField(null=True)
    price = fields.CharField(max_length=120, default="")
    full_payers = fields.IntField(default=0)
    partial_payers = fields.IntField(default=0)
    partial_total = fields.CharField(max_length=120, default="")
    # Money of the round set aside for it (its cost when funded, 0 otherwise).
    reserved_minor = fields.BigIntField(default=0)
    override = fields.CharEnumField(Override, max_length=10, default=Override.none)
    override_reason = fields.TextField(default="")
    overridden_by_id = fields.IntField(null=True)
    overridden_at = fields.DatetimeField(null=True)
    round_id: int

    class Meta:
        table = "funding_candidates"
        ordering = ["position", "id"]
        unique_together = (("round", "position"),)


class Ballot(Model):
    """One voter's approvals. `voter_id` is erased at the count, and the receipt stays."""

    id = fields.IntField(primary_key=True)
    round: fields.ForeignKeyRelation[FundingRound] = fields.ForeignKeyField(
        "civic.FundingRound", related_name="ballots", on_delete=fields.RESTRICT
    )
    voter_id = fields.IntField(null=True)
    # Candidate ids, sorted.
    choices: list[int] = fields.JSONField(default=list)
    # SHA-256 of the round and the code shown to the voter (hex); published with the ballot.
    receipt = fields.CharField(max_length=64, unique=True)
    cast_at = fields.DatetimeField(null=True)
    round_id: int

    class Meta:
        table = "funding_ballots"
        ordering = ["receipt"]
        unique_together = (("round", "voter_id"),)
