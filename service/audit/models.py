"""Audit events. Rows are only ever inserted."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AuditEvent(Model):
    id = fields.BigIntField(primary_key=True)
    actor_id = fields.IntField(null=True, db_index=True)
    actor_email = fields.CharField(max_length=254, default="")
    action = fields.CharField(max_length=80, db_index=True)
    object_type = fields.CharField(max_length=60, db_index=True)
    object_id = fields.CharField(max_length=64, default="")
    organization_id = fields.IntField(null=True, db_index=True)
    ip = fields.CharField(max_length=64, default="")
    details: dict[str, object] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_events"
        ordering = ["-id"]
