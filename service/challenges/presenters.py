"""Challenge objects as API bodies and page contexts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.challenges import schemas
from service.challenges.models import TIMELINE, Challenge, ChallengeStatus, shown_status
from service.challenges.service import readability_of


def summary_out(row: dict[str, Any], now: datetime) -> schemas.ChallengeSummaryOut:
    status = ChallengeStatus(row["status"])
    return schemas.ChallengeSummaryOut(
        id=row["id"],
        title=row["title"],
        summary=row["summary"],
        area=row["area"],
        region=row["region"],
        status=shown_status(status, row["opens_at"], now),
        sdgs=row["sdgs"],
        eligible_kinds=row["eligible_kinds"],
        reward=schemas.Reward(amount_minor=row["reward_amount_minor"], currency=row["currency"]),
        reward_reference=reference_out(row),
        opens_at=row["opens_at"],
        closes_at=row["closes_at"],
        organization_id=row["organization_id"],
        organization_name=row["organization_name"],
        time_zone=row.get("organization_time_zone") or "UTC",
        url=f"/challenges/{row['id']}",
    )


def reference_out(row: dict[str, Any]) -> schemas.RewardReference | None:
    """The stored reference amount in the platform currency (no rate day: the reward was
    already in it)."""
    if row.get("reward_reference_minor") is None:
        return None
    day = row.get("reward_reference_date")
    return schemas.RewardReference(
        amount_minor=row["reward_reference_minor"],
        currency=row["reward_reference_currency"] or row["currency"],
        rate_date=day,
        rate_source=row.get("reward_reference_source") or "",
    )


def timeline(challenge: Challenge, history: list[Any]) -> list[schemas.StepOut]:
    reached = {h.to_status: h.at for h in history}
    planned = {
        ChallengeStatus.open: challenge.opens_at,
        ChallengeStatus.closed: challenge.closes_at,
        ChallengeStatus.judging: challenge.closes_at,
        ChallengeStatus.awarded: challenge.judging_ends_at,
    }
    steps = []
    for step in TIMELINE:
        done = step.value in reached
        steps.append(
            schemas.StepOut(
                status=step.value,
                at=reached.get(step.value) or planned.get(step),
                done=done,
                current=challenge.status is step,
            )
        )
    return steps


def detail_out(
    challenge: Challenge, parts: dict[str, list[Any]], now: datetime | None = None
) -> schemas.ChallengeOut:
    now = now or datetime.now(UTC)
    row = {
        "id": challenge.id,
        "title": challenge.title,
        "summary": challenge.summary,
        "area": challenge.area,
        "region": challenge.region,
        "status": challenge.status.value,
        "sdgs": challenge.sdgs,
        "eligible_kinds": challenge.eligible_kinds,
        "reward_amount_minor": challenge.reward_amount_minor,
        "currency": challenge.currency,
        "reward_reference_minor": challenge.reward_reference_minor,
        "reward_reference_date": challenge.reward_reference_date,
        "reward_reference_source": challenge.reward_reference_source,
        "reward_reference_currency": challenge.reward_reference_currency,
        "opens_at": challenge.opens_at,
        "closes_at": challenge.closes_at,
        "organization_id": challenge.organization_id,
        "organization_name": challenge.organization.name,
        "organization_time_zone": challenge.organization.time_zone,
    }
    base = summary_out(row, now)
    return schemas.ChallengeOut(
        **base.model_dump(),
        problem_statement=challenge.problem_statement,
        language=challenge.language,
        eligible_regions=challenge.eligible_regions,
        judging_ends_at=challenge.judging_ends_at,
        blind_judging=challenge.blind_judging,
        criteria=[
            schemas.CriterionOut(id=c.id, name=c.name, description=c.description, weight=c.weight)
            for c in parts["criteria"]
        ],
        amendments=[
            schemas.AmendmentOut(
                id=a.id, reason=a.reason, changes=a.changes, created_at=a.created_at
            )
            for a in parts["amendments"]
        ],
        attachments=[
            schemas.AttachmentOut(
                id=a.id,
                name=a.original_name,
                content_type=a.content_type,
                size=a.size,
                url=f"/challenges/{challenge.id}/attachments/{a.id}",
            )
            for a in parts["attachments"]
        ],
        timeline=timeline(challenge, parts["history"]),
        proposal_id=challenge.proposal_id,
        published_at=challenge.published_at,
        cancel_reason=challenge.cancel_reason,
        readability=[
            schemas.ReadabilityOut(field=f, score=s, hard=h)
            for f, s, h in readability_of(challenge)
        ],
        winners=[
            schemas.WinnerOut(
                application_id=w.application_id,
                organization_id=w.organization_id,
                organization_name=w.organization_name,
                amount_minor=w.amount_minor,
                currency=w.currency,
                rationale=w.rationale,
            )
            for w in parts["winners"]
        ],
    )


def question_out(question: Any, signers: dict[int, str]) -> schemas.QuestionOut:
    """A question as the public sees it: the asker's organization only if they signed."""
    return schemas.QuestionOut(
        id=question.id,
        challenge_id=question.challenge_id,
        text=question.text,
        asked_by=signers.get(question.id),
        signed=question.id in signers,
        created_at=question.created_at,
        answer=question.answer or None,
        answered_at=question.answered_at,
    )
