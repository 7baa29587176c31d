"""Recording audit events (in the caller's transaction) and reading them back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.audit.models import AuditEvent
from service.core.context import Context


async def record(
    ctx: Context,
    action: str,
    *,
    object_type: str,
    object_id: Any = "",
    organization_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    user = ctx.actor.user
    return await AuditEvent.create(
        actor_id=user.id if user else None,
        actor_email=user.email if user else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        organization_id=organization_id,
        ip=ctx.ip,
        details=details,
    )


async def search(
    *,
    action: str = "",
    actor_email: str = "",
    object_type: str = "",
    organization_id: int | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    query = AuditEvent.all()
    if action:
        query = query.filter(action__startswith=action)
    if actor_email:
        query = query.filter(actor_email=actor_email.lower())
    if object_type:
        query = query.filter(object_type=object_type)
    if organization_id is not None:
        query = query.filter(organization_id=organization_id)
    if since is not None:
        query = query.filter(created_at__gte=since)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(limit)
