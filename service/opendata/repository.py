"""Every query of the open data area: the published challenges and what hangs from them.

Whatever the number of challenges, a page of them costs a fixed number of queries.
Only what is public is read: published challenges, applications once submitted (never a
draft), accepted partners, awards, milestones, and the ledger's postings.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tortoise.functions import Sum
from tortoise.queryset import QuerySet

from service.accounts.models import Organization
from service.applications.models import Application, ApplicationPartner, Award, PartnerStatus
from service.challenges.models import (
    PUBLIC_STATUSES,
    Amendment,
    Attachment,
    Challenge,
    Criterion,
    StatusChange,
)
from service.opendata.ocds import History, Movement
from service.rewards.models import LedgerTransaction, Milestone, Payout, TransactionKind


def public_challenges() -> QuerySet[Challenge]:
    return Challenge.filter(status__in=list(PUBLIC_STATUSES), published_at__isnull=False)


async def public_challenge(challenge_id: int) -> Challenge | None:
    return await public_challenges().get_or_none(id=challenge_id)


async def first_public_challenge_id() -> int | None:
    challenge = await public_challenges().order_by("id").first()
    return challenge.id if challenge is not None else None


async def page_of_challenges(cursor: int | None, limit: int) -> tuple[list[Challenge], int | None]:
    """Published challenges by id after `cursor`, and the cursor of the next page."""
    query = public_challenges().order_by("id")
    if cursor is not None:
        query = query.filter(id__gt=cursor)
    rows = await query.limit(limit + 1)
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def _grouped(rows: list[Any], key: str) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


async def histories(challenges: list[Challenge]) -> list[History]:
    """Every row the challenges' releases are built from: twelve queries for any number."""
    ids = [c.id for c in challenges]
    if not ids:
        return []
    criteria = _grouped(
        await Criterion.filter(challenge_id__in=ids).order_by("position", "id"), "challenge_id"
    )
    changes = _grouped(
        await StatusChange.filter(challenge_id__in=ids).order_by("id"), "challenge_id"
    )
    amendments = _grouped(
        await Amendment.filter(challenge_id__in=ids).order_by("id"), "challenge_id"
    )
    attachments = _grouped(
        await Attachment.filter(challenge_id__in=ids).order_by("id"), "challenge_id"
    )
    applications = await Application.filter(
        challenge_id__in=ids, submitted_at__isnull=False
    ).order_by("id")
    partners = _grouped(
        await ApplicationPartner.filter(
            application_id__in=[a.id for a in applications], status=PartnerStatus.accepted
        ).order_by("id"),
        "application_id",
    )
    awards = await Award.filter(challenge_id__in=ids).order_by("id")
    milestones = _grouped(
        await Milestone.filter(award_id__in=[a.id for a in awards]).order_by("position", "id"),
        "award_id",
    )
    movements = await _movements(ids)
    org_ids = {c.organization_id for c in challenges}
    org_ids |= {a.organization_id for a in applications}
    org_ids |= {p.organization_id for ps in partners.values() for p in ps}
    org_ids |= {m.organization_id for ms in movements.values() for m in ms}
    organizations = {o.id: o for o in await Organization.filter(id__in=org_ids)}
    by_challenge = _grouped(list(applications), "challenge_id")
    awards_of = _grouped(list(awards), "challenge_id")
    return [
        History(
            challenge=c,
            criteria=criteria.get(c.id, []),
            changes=changes.get(c.id, []),
            amendments=amendments.get(c.id, []),
            attachments=attachments.get(c.id, []),
            applications=by_challenge.get(c.id, []),
            partners={a.id: partners[a.id] for a in by_challenge.get(c.id, []) if a.id in partners},
            awards=awards_of.get(c.id, []),
            milestones={a.id: milestones.get(a.id, []) for a in awards_of.get(c.id, [])},
            movements=movements.get(c.id, []),
            organizations=organizations,
        )
        for c in challenges
    ]


def payout_id_of(key: str) -> int | None:
    """The payout a ledger transaction is for: keys are "payout:<id>", "reversal:<id>:<n>"."""
    parts = key.split(":")
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return None


async def _movements(challenge_ids: list[int]) -> dict[int, list[Movement]]:
    """Payouts paid and their reversals, as the ledger posted them, by challenge."""
    rows = await LedgerTransaction.filter(
        challenge_id__in=challenge_ids,
        kind__in=[TransactionKind.payout, TransactionKind.reversal],
    ).order_by("id")
    payout_ids = {p for p in (payout_id_of(r.key) for r in rows) if p is not None}
    payouts = {
        p["id"]: p
        for p in await Payout.filter(id__in=payout_ids).values(
            "id", "milestone_id", "organization_id", "milestone__award_id"
        )
    }
    found: dict[int, list[Movement]] = defaultdict(list)
    for row in rows:
        payout = payouts.get(payout_id_of(row.key))
        if payout is None:
            continue
        found[row.challenge_id].append(
            Movement(
                ledger_id=row.id,
                reversal=row.kind is TransactionKind.reversal,
                payout_id=payout["id"],
                award_id=payout["milestone__award_id"],
                milestone_id=payout["milestone_id"],
                organization_id=payout["organization_id"],
                amount_minor=row.amount_minor,
                currency=row.currency,
                at=row.created_at,
            )
        )
    return found


async def ledger_sums(challenge_ids: list[int]) -> dict[int, dict[str, int]]:
    """Challenge id -> {transaction kind: sum}: one query."""
    rows = (
        await LedgerTransaction.filter(challenge_id__in=challenge_ids)
        .annotate(total=Sum("amount_minor"))
        .group_by("challenge_id", "kind")
        .values("challenge_id", "kind", "total")
    )
    sums: dict[int, dict[str, int]] = defaultdict(dict)
    for r in rows:
        sums[int(r["challenge_id"])][str(r["kind"])] = int(r["total"] or 0)
    return sums


def public_ledger() -> QuerySet[LedgerTransaction]:
    """Every ledger transaction of the published challenges."""
    from tortoise.expressions import Subquery

    return LedgerTransaction.filter(challenge_id__in=Subquery(public_challenges().values("id")))
