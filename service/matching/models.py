"""What matching reads and writes: startup profiles, investor theses, and stored results.

Profiles and theses are typed in by their organizations; track record is never stored here but
derived from the other areas. `Match` holds the top results per investor with their component
scores and reasons (as codes with values, put into words in the reader's language).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from service.core.vocab import Stage

if TYPE_CHECKING:
    from service.accounts.models import Organization


class StartupProfile(Model):
    """A startup's, university's or research centre's side of the deal flow."""

    id = fields.IntField(primary_key=True)
    organization: fields.OneToOneRelation[Organization] = fields.OneToOneField(
        "civic.Organization", related_name="startup_profile", on_delete=fields.RESTRICT
    )
    # Values of the shared area vocabulary (service.core.vocab.Area).
    sectors: list[str] = fields.JSONField(default=list)
    stage = fields.CharEnumField(Stage, max_length=20, null=True)
    funding_ask_minor = fields.BigIntField(null=True)
    currency = fields.CharField(max_length=3, default="EUR")
    region = fields.CharField(max_length=120, default="")
    text = fields.TextField(default="")
    dealflow_opt_in = fields.BooleanField(default=False, db_index=True)
    share_scores = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(auto_now=True)
    # The track record derived from the other areas (challenges, judging, rewards), as last
    # read by matching: its signals and its score in [0, 1]. A cron compares it with the
    # live data and recomputes the startup's matches when it changed.
    track: dict[str, object] = fields.JSONField(default=dict)
    track_score = fields.FloatField(default=0.0)
    organization_id: int

    class Meta:
        table = "startup_profiles"


class InvestorThesis(Model):
    """An investor organization's thesis: what it funds."""

    id = fields.IntField(primary_key=True)
    organization: fields.OneToOneRelation[Organization] = fields.OneToOneField(
        "civic.Organization", related_name="investor_thesis", on_delete=fields.RESTRICT
    )
    sectors: list[str] = fields.JSONField(default=list)
    stages: list[str] = fields.JSONField(default=list)
    ticket_min_minor = fields.BigIntField(null=True)
    ticket_max_minor = fields.BigIntField(null=True)
    currency = fields.CharField(max_length=3, default="EUR")
    regions: list[str] = fields.JSONField(default=list)
    # When strict, a startup outside the regions (or stages) is filtered out, not just scored lower.
    regions_strict = fields.BooleanField(default=False)
    stages_strict = fields.BooleanField(default=False)
    text = fields.TextField(default="")
    updated_at = fields.DatetimeField(auto_now=True)
    organization_id: int

    class Meta:
        table = "investor_theses"


class Match(Model):
    """One startup in one investor's stored ranking (the top results only)."""

    id = fields.BigIntField(primary_key=True)
    investor: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="matches_as_investor", on_delete=fields.CASCADE
    )
    startup: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="matches_as_startup", on_delete=fields.CASCADE
    )
    rank = fields.IntField()
    score = fields.FloatField()
    # {"sector": 0.5, "stage": 1.0, "ticket": 1.0, "region": 0.0, "text": 0.31, "track": 0.6}
    components: dict[str, float] = fields.JSONField(default=dict)
    # The strongest reasons, as [{"code": "same_sector", "values": {"sectors": ["mobility"]}}].
    reasons: list[dict[str, object]] = fields.JSONField(default=list)
    computed_at = fields.DatetimeField()
    investor_id: int
    startup_id: int

    class Meta:
        table = "matches"
        unique_together = (("investor", "startup"),)
        indexes = (("investor_id", "rank"),)


class TextModel(Model):
    """The TF-IDF model of the corpus (descriptions and theses), fitted by the full recompute.

    Incremental recomputes transform changed texts with the stored model, so that their
    results equal those of a full recompute with the same model (words new since the fit
    count once the nightly recompute fits again).
    """

    id = fields.IntField(primary_key=True)
    vocabulary: dict[str, int] = fields.JSONField(default=dict)
    idf: list[float] = fields.JSONField(default=list)
    documents = fields.IntField(default=0)
    fitted_at = fields.DatetimeField()

    class Meta:
        table = "matching_text_models"


class DemoDayStatus(StrEnum):
    queued = "queued"
    scheduled = "scheduled"


class DemoDay(Model):
    """A demo day's meetings: investors with slots, startups with a maximum of meetings, and
    the schedule that maximises the total match score under those capacities."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=160)
    starts_at = fields.DatetimeField()
    slot_minutes = fields.IntField(default=20)
    # [{"organization_id": 7, "slots": 4}]
    investors: list[dict[str, int]] = fields.JSONField(default=list)
    # [{"organization_id": 9, "max_meetings": 3}]
    startups: list[dict[str, int]] = fields.JSONField(default=list)
    status = fields.CharEnumField(DemoDayStatus, max_length=20, default=DemoDayStatus.queued)
    # [{"investor_id": 7, "startup_id": 9, "slot": 0, "score": 0.81}], by slot then investor.
    meetings: list[dict[str, object]] = fields.JSONField(default=list)
    total_score = fields.FloatField(default=0.0)
    created_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    scheduled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "demo_days"
