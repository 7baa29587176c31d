"""Every query of the participation area."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q, Subquery

from service.challenges.models import Challenge
from service.core import search
from service.core.errors import NotFound, ValidationFailed
from service.participation.models import Comment, Proposal, ProposalStatus, Support, Update
from service.translation import service as translation

LIST_FIELDS = (
    "id",
    "title",
    "region",
    "area",
    "sdgs",
    "status",
    "support_count",
    "threshold_reached_at",
    "responded_at",
    "created_at",
    "challenge_id",
)


@dataclass
class ProposalFilters:
    q: str = ""
    region: str = ""
    area: str = ""
    sdg: int | None = None
    status: str = ""
    sort: str = "supported"


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


async def get_for_update(proposal_id: int) -> Proposal:
    proposal = await Proposal.select_for_update().get_or_none(id=proposal_id)
    if proposal is None:
        raise NotFound("No such proposal.")
    return proposal


async def recent_in_region(region: str, limit: int = 300) -> list[Proposal]:
    return (
        await Proposal.filter(region__iexact=region, hidden_at=None)
        .order_by("-id")
        .limit(limit)
        .only("id", "title", "region", "hidden_at", "support_count", "status")
    )


def _encode(value: Any, row_id: int) -> str:
    value = value.isoformat() if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([value, row_id]).encode()).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
        value, row_id = json.loads(raw)
        if sort == "supported":
            if not isinstance(value, int):
                raise ValueError("count")
        else:
            value = datetime.fromisoformat(value)
        if not isinstance(row_id, int) or not 0 < row_id < 2**31:
            raise ValueError("id")
        return value, row_id
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(fields={"cursor": "This cursor is not valid."}) from exc


# sort: (column, descending)
SORTS = {
    "supported": ("support_count", True),
    "newest": ("created_at", True),
    "waiting": ("threshold_reached_at", False),
}


async def list_public(filters: ProposalFilters, *, cursor: str | None, limit: int) -> Page:
    """One query whatever the filters and page size (keyset pagination on the sort)."""
    query = Proposal.filter(hidden_at=None)
    # Accents and case do not count (service.core.search): the columns are folded in SQL,
    # the words here.
    if filters.q.strip():
        query = query.annotate(folded_text=search.Fold("search_text"))
    for word in search.words(filters.q):
        # A proposal is also found by the words of its translations.
        query = query.filter(
            Q(folded_text__contains=word) | translation.matching_q("proposal", word)
        )
    if filters.region.strip():
        query = query.annotate(folded_region=search.Fold("region")).filter(
            folded_region=search.fold(filters.region.strip())
        )
    if filters.area:
        query = query.filter(area=filters.area)
    if filters.status:
        query = query.filter(status=filters.status)
    if filters.sdg is not None:
        query = query.filter(search_text__contains=f"[sdg:{filters.sdg}]")
    sort = filters.sort if filters.sort in SORTS else "supported"
    column, descending = SORTS[sort]
    if sort == "waiting":
        # Waiting longest: over the threshold, no formal answer yet.
        query = query.filter(threshold_reached_at__not_isnull=True, responded_at=None)
    if cursor:
        value, row_id = _decode(cursor, sort)
        op = "lt" if descending else "gt"
        before: dict[str, Any] = {f"{column}__{op}": value}
        tie: dict[str, Any] = {column: value, f"id__{op}": row_id}
        query = query.filter(Q(**before) | Q(**tie))
    order = [f"-{column}", "-id"] if descending else [column, "id"]
    rows = await query.order_by(*order).limit(limit + 1).values(*LIST_FIELDS)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode(rows[-1][column], rows[-1]["id"])
    return Page(items=rows, next_cursor=next_cursor)


async def comments_of(proposal_id: int) -> list[Comment]:
    return await Comment.filter(proposal_id=proposal_id).select_related("author").order_by("id")


async def has_supported(proposal_id: int, user_id: int) -> bool:
    return await Support.filter(proposal_id=proposal_id, user_id=user_id).exists()


def _public_challenges() -> Q:
    public = Challenge.filter(published_at__not_isnull=True).values("id")
    return Q(challenge_id=None) | Q(challenge_id__in=Subquery(public))


async def updates_of_proposal(proposal: Proposal, limit: int = 50) -> list[Update]:
    where = Q(proposal_id=proposal.id)
    if proposal.challenge_id is not None:
        where |= Q(challenge_id=proposal.challenge_id)
    return await Update.filter(where & _public_challenges()).order_by("-at", "-id").limit(limit)


async def updates_of_challenge(challenge_id: int, limit: int = 50) -> list[Update]:
    return await Update.filter(challenge_id=challenge_id).order_by("-at", "-id").limit(limit)


async def updates_of_city(organization_id: int, limit: int = 50) -> list[Update]:
    return (
        await Update.filter(Q(organization_id=organization_id) & _public_challenges())
        .order_by("-at", "-id")
        .limit(limit)
    )


async def proposal_of_challenge(challenge_id: int) -> Proposal | None:
    return await Proposal.filter(challenge_id=challenge_id).first()


async def home_items(limit: int = 6) -> list[dict[str, Any]]:
    return (
        await Proposal.filter(
            hidden_at=None, status__in=[ProposalStatus.open, ProposalStatus.under_study]
        )
        .order_by("-support_count", "-id")
        .limit(limit)
        .values(*LIST_FIELDS)
    )
