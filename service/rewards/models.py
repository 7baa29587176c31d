"""Milestones of an award (the rewards area pays them out)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class MilestoneStatus(StrEnum):
    planned = "planned"
    submitted = "submitted"
    approved = "approved"
    released = "released"
    paid = "paid"


class Milestone(Model):
    id = fields.IntField(primary_key=True)
    award: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "civic.Award", related_name="milestones", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=160)
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    due_at = fields.DatetimeField()
    position = fields.IntField(default=0)
    status = fields.CharEnumField(MilestoneStatus, max_length=20, default=MilestoneStatus.planned)
    created_at = fields.DatetimeField(auto_now_add=True)
    award_id: int

    class Meta:
        table = "milestones"
        ordering = ["position", "id"]
