"""Proposals, comments and updates as the API and the pages show them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.participation import schemas
from service.participation.models import Comment, Proposal, Update
from service.participation.service import waiting_days


def _value(value: Any) -> Any:
    return getattr(value, "value", value)


def summary_out(row: dict[str, Any], now: datetime | None = None) -> schemas.ProposalSummary:
    now = now or datetime.now(UTC)

    class _Row:
        threshold_reached_at = row["threshold_reached_at"]
        responded_at = row["responded_at"]

    return schemas.ProposalSummary(
        id=row["id"],
        title=row["title"],
        region=row["region"],
        area=_value(row["area"]),
        sdgs=row["sdgs"] or [],
        status=_value(row["status"]),
        supporters=row["support_count"],
        threshold_reached_at=row["threshold_reached_at"],
        waiting_days=waiting_days(_Row, now),
        created_at=row["created_at"],
        challenge_id=row["challenge_id"],
        url=f"/proposals/{row['id']}",
    )


def detail_out(
    proposal: Proposal, *, author: str, threshold: int, supported_by_me: bool
) -> schemas.ProposalOut:
    hidden = proposal.hidden_at is not None
    row = {
        name: getattr(proposal, name)
        for name in (
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
    }
    return schemas.ProposalOut(
        **summary_out(row).model_dump(),
        # Hidden content stays in the database; the public sees why it was hidden.
        description="" if hidden else proposal.description,
        affected="" if hidden else proposal.affected,
        author=author,
        threshold=threshold,
        response=proposal.response,
        responded_at=proposal.responded_at,
        hidden=hidden,
        hidden_reason=proposal.hidden_reason,
        supported_by_me=supported_by_me,
    )


def comment_out(comment: Comment) -> schemas.CommentOut:
    hidden = comment.hidden_at is not None
    return schemas.CommentOut(
        id=comment.id,
        proposal_id=comment.proposal_id,
        parent_id=comment.parent_id,
        author=comment.author.name,
        stance=comment.stance.value,
        text="" if hidden else comment.text,
        hidden=hidden,
        hidden_reason=comment.hidden_reason,
        created_at=comment.created_at,
    )


def update_out(update: Update) -> schemas.UpdateOut:
    return schemas.UpdateOut(
        id=update.id,
        kind=update.kind,
        title=update.heading,
        body=update.text,
        link=update.link,
        at=update.at,
    )


def thread(comments: list[Comment]) -> list[tuple[Comment, int]]:
    """Comments in reading order with their depth: each reply under its parent."""
    children: dict[int | None, list[Comment]] = {}
    ids = {c.id for c in comments}
    for comment in comments:
        parent = comment.parent_id if comment.parent_id in ids else None
        children.setdefault(parent, []).append(comment)
    ordered: list[tuple[Comment, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for child in children.get(parent, []):
            ordered.append((child, depth))
            walk(child.id, depth + 1)

    walk(None, 0)
    return ordered
