"""Timeline entries written from what the other areas already record.

Nothing in the challenges or rewards areas calls this module: a job reads their own records
(a challenge's status history, answered questions, ledger transactions, approved milestones)
from where it last stopped, and writes one `Update` per event, keyed by the event, so that
reading a record twice writes nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from service.applications.models import Award
from service.challenges.models import Challenge, Question, StatusChange
from service.participation import service
from service.participation.models import SyncMark
from service.rewards.models import LedgerTransaction, Milestone, TransactionKind

# Ids are handed out before commit: a later id may commit first, so each pass re-reads a
# few ids back, and the time sources a few minutes back (the event keys drop repeats).
ID_OVERLAP = 200
TIME_OVERLAP = timedelta(minutes=5)
BATCH = 500

# The steps of a challenge that make a timeline entry (their words: notifications/kinds.py).
STATUS_TITLES = ("published", "open", "closed", "awarded", "completed", "cancelled")
# The steps a proposal's supporters and commenters are told of.
NOTIFIED = frozenset({"published", "awarded", "payout"})


@dataclass
class Event:
    key: str
    kind: str
    challenge_id: int
    at: datetime
    # The event's own parameters (the challenge's title is added when written).
    params: dict[str, Any] = field(default_factory=dict)


async def _mark(name: str) -> SyncMark:
    mark, _ = await SyncMark.get_or_create(name=name, defaults={"seen_id": 0})
    return mark


async def _status_events() -> list[Event]:
    mark = await _mark("status_changes")
    rows = (
        await StatusChange.filter(
            id__gt=max(0, mark.seen_id - ID_OVERLAP), to_status__in=list(STATUS_TITLES)
        )
        .order_by("id")
        .limit(BATCH)
    )
    if rows:
        mark.seen_id = max(mark.seen_id, rows[-1].id)
        await mark.save()
    return [Event(f"status:{r.id}", r.to_status, r.challenge_id, r.at) for r in rows]


async def _ledger_events() -> list[Event]:
    mark = await _mark("ledger")
    rows = (
        await LedgerTransaction.filter(
            id__gt=max(0, mark.seen_id - ID_OVERLAP),
            kind__in=[TransactionKind.fund, TransactionKind.payout],
        )
        .order_by("id")
        .limit(BATCH)
    )
    if rows:
        mark.seen_id = max(mark.seen_id, rows[-1].id)
        await mark.save()
    return [
        Event(
            f"ledger:{r.id}",
            "funded" if r.kind is TransactionKind.fund else "payout",
            r.challenge_id,
            r.created_at,
            {"amount_minor": r.amount_minor, "currency": r.currency},
        )
        for r in rows
    ]


async def _timed(name: str) -> tuple[SyncMark, datetime | None]:
    mark = await _mark(name)
    since = mark.seen_until - TIME_OVERLAP if mark.seen_until else None
    return mark, since


async def _answer_events(now: datetime) -> list[Event]:
    mark, since = await _timed("answers")
    query = Question.filter(answered_at__not_isnull=True)
    if since is not None:
        query = query.filter(answered_at__gte=since)
    rows = await query.order_by("answered_at").limit(BATCH)
    mark.seen_until = rows[-1].answered_at if len(rows) == BATCH else now
    await mark.save()
    return [
        Event(
            f"answer:{q.id}",
            "question_answered",
            q.challenge_id,
            q.answered_at,
            {"question": q.text},
        )
        for q in rows
        if q.answered_at is not None
    ]


async def _milestone_events(now: datetime) -> list[Event]:
    mark, since = await _timed("milestones")
    query = Milestone.filter(approved_at__not_isnull=True)
    if since is not None:
        query = query.filter(approved_at__gte=since)
    rows = await query.order_by("approved_at").limit(BATCH)
    mark.seen_until = rows[-1].approved_at if len(rows) == BATCH else now
    await mark.save()
    awards = dict(
        await Award.filter(id__in={m.award_id for m in rows}).values_list("id", "challenge_id")
    )
    return [
        Event(
            f"milestone:{m.id}:approved",
            "milestone_approved",
            awards[m.award_id],
            m.approved_at,
            {"milestone": m.title},
        )
        for m in rows
        if m.approved_at is not None and m.award_id in awards
    ]


async def write(events: Iterable[Event], *, base_url: str) -> int:
    events = list(events)
    challenges: dict[int, Any] = {
        c["id"]: c
        for c in await Challenge.filter(id__in={e.challenge_id for e in events}).values(
            "id", "title", "organization_id"
        )
    }
    written = 0
    for event in sorted(events, key=lambda e: (e.at, e.key)):
        challenge = challenges.get(event.challenge_id)
        if challenge is None:
            continue
        update = await service.add_update(
            kind=event.kind,
            params={**event.params, "challenge": challenge["title"]},
            at=event.at.astimezone(UTC),
            link=f"/challenges/{event.challenge_id}",
            event_key=event.key,
            challenge_id=event.challenge_id,
            organization_id=challenge["organization_id"],
            notify=event.kind in NOTIFIED,
            base_url=base_url,
        )
        written += update is not None
    return written


async def sync(*, base_url: str, now: datetime | None = None) -> int:
    """Read every source from where it stopped; returns how many entries were written."""
    now = now or datetime.now(UTC)
    events = [
        *await _status_events(),
        *await _ledger_events(),
        *await _answer_events(now),
        *await _milestone_events(now),
    ]
    return await write(events, base_url=base_url)
