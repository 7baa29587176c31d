"""Models of the citizens' panels area: panels, volunteers and members, draws, sessions,
the panel's scores of finalists and its members' stipends.

Links to the other areas (challenges, applications, users, organizations) are plain ids or
foreign keys held here; nothing is added to their models. A volunteer's declared features are
private to the city's panel staff: pages and the API publish them only as counts per value.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from service.core.states import Transitions

if TYPE_CHECKING:
    from service.challenges.models import Challenge


class PanelStatus(StrEnum):
    recruiting = "recruiting"  # volunteers may sign up until the window closes
    drawing = "drawing"  # the lottery job runs
    drawn = "drawn"  # members seated
    closed = "closed"  # the panel gave its recommendation


P = PanelStatus
TRANSITIONS = Transitions(
    PanelStatus,
    {
        P.recruiting: {P.drawing},
        # A draw that fails (quotas no panel meets) returns the panel to recruiting.
        P.drawing: {P.drawn, P.recruiting},
        P.drawn: {P.closed},
        P.closed: (),
    },
)


def can_move(current: PanelStatus, target: PanelStatus) -> bool:
    return TRANSITIONS.allows(current, target)


class VolunteerStatus(StrEnum):
    pool = "pool"  # volunteered, not seated
    member = "member"  # drawn and seated
    withdrawn = "withdrawn"  # left the pool or the panel


class Panel(Model):
    """A citizens' panel for one challenge, with its quotas and its published draw."""

    id = fields.IntField(primary_key=True)
    challenge: fields.ForeignKeyRelation[Challenge] = fields.OneToOneField(
        "civic.Challenge", related_name="panel", on_delete=fields.RESTRICT
    )
    # The city: the challenge's organization, copied so permissions read it without a join.
    organization_id = fields.IntField(db_index=True)
    size = fields.IntField()
    # [{"name": "age", "values": [{"value": "16-29", "min": 2, "max": 5}, ...]}, ...]
    features: list[dict[str, Any]] = fields.JSONField()
    recruitment_opens_at = fields.DatetimeField()
    recruitment_closes_at = fields.DatetimeField()
    stipend_minor = fields.BigIntField(default=0)
    currency = fields.CharField(max_length=3)
    # The panel's share of the jury's score, in percent (0: the panel does not score).
    score_share_pct = fields.IntField(default=0)
    status = fields.CharEnumField(PanelStatus, max_length=20, default=P.recruiting)
    recommendation = fields.TextField(default="")
    # The published draw: seed, quotas, maximin value, portfolio, probabilities.
    seed = fields.CharField(max_length=40, default="")
    draw: dict[str, Any] = fields.JSONField(default=dict)
    draw_error = fields.TextField(default="")
    # What the draw job is doing: {"phase": ..., "step": n, "total": n|null}.
    progress: dict[str, Any] = fields.JSONField(default=dict)
    created_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    challenge_id: int

    class Meta:
        table = "panels"

    def quotas(self) -> dict[str, dict[str, tuple[int, int]]]:
        return {
            f["name"]: {v["value"]: (int(v["min"]), int(v["max"])) for v in f["values"]}
            for f in self.features
        }


class Volunteer(Model):
    """A resident who volunteered, a member once drawn."""

    id = fields.IntField(primary_key=True)
    panel: fields.ForeignKeyRelation[Panel] = fields.ForeignKeyField(
        "civic.Panel", related_name="volunteers", on_delete=fields.RESTRICT
    )
    user_id = fields.IntField()
    # Self-declared, private: feature name -> value.
    features: dict[str, str] = fields.JSONField()
    # How the member is named on the public page: a first name, or "Member <seat>".
    first_name = fields.CharField(max_length=60, default="")
    show_name = fields.BooleanField(default=False)
    status = fields.CharEnumField(VolunteerStatus, max_length=20, default=VolunteerStatus.pool)
    # The number under which the draw publishes this volunteer's probability (anonymous).
    pool_number = fields.IntField(null=True)
    seat = fields.IntField(null=True)
    probability = fields.FloatField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    withdrawn_at = fields.DatetimeField(null=True)
    panel_id: int

    class Meta:
        table = "panel_volunteers"
        unique_together = (("panel", "user_id"),)
        ordering = ["id"]


class DrawEvent(Model):
    """The audit trail of a panel's lottery, published as it is."""

    id = fields.IntField(primary_key=True)
    panel: fields.ForeignKeyRelation[Panel] = fields.ForeignKeyField(
        "civic.Panel", related_name="events", on_delete=fields.RESTRICT
    )
    kind = fields.CharField(max_length=30)
    detail: dict[str, Any] = fields.JSONField(default=dict)
    at = fields.DatetimeField(auto_now_add=True)
    panel_id: int

    class Meta:
        table = "panel_draw_events"
        ordering = ["id"]


class PanelSession(Model):
    id = fields.IntField(primary_key=True)
    panel: fields.ForeignKeyRelation[Panel] = fields.ForeignKeyField(
        "civic.Panel", related_name="sessions", on_delete=fields.RESTRICT
    )
    starts_at = fields.DatetimeField()
    place = fields.CharField(max_length=200)
    panel_id: int

    class Meta:
        table = "panel_sessions"
        ordering = ["starts_at", "id"]


class PanelScore(Model):
    """A member's scores of one finalist on the challenge's criteria, or a declared conflict."""

    id = fields.IntField(primary_key=True)
    panel: fields.ForeignKeyRelation[Panel] = fields.ForeignKeyField(
        "civic.Panel", related_name="scores", on_delete=fields.RESTRICT
    )
    volunteer: fields.ForeignKeyRelation[Volunteer] = fields.ForeignKeyField(
        "civic.Volunteer", related_name="scores", on_delete=fields.RESTRICT
    )
    application_id = fields.IntField()
    scores: dict[str, int] = fields.JSONField(default=dict)  # criterion id -> 0..10
    conflict_of_interest = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(auto_now=True)
    panel_id: int
    volunteer_id: int

    class Meta:
        table = "panel_scores"
        unique_together = (("volunteer", "application_id"),)


class Stipend(Model):
    """A member's stipend, paid once from the challenge's escrow through the ledger."""

    id = fields.IntField(primary_key=True)
    panel: fields.ForeignKeyRelation[Panel] = fields.ForeignKeyField(
        "civic.Panel", related_name="stipends", on_delete=fields.RESTRICT
    )
    volunteer: fields.OneToOneRelation[Volunteer] = fields.OneToOneField(
        "civic.Volunteer", related_name="stipend", on_delete=fields.RESTRICT
    )
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    reference = fields.CharField(max_length=120)
    paid_by_id = fields.IntField()
    paid_at = fields.DatetimeField(auto_now_add=True)
    panel_id: int
    volunteer_id: int

    class Meta:
        table = "panel_stipends"
