"""Every query of the deliberation area."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import numpy as np

from service.accounts.models import Membership
from service.applications.models import Application
from service.deliberation.models import (
    AdoptedConsensus,
    Conversation,
    OpinionMap,
    Participant,
    Statement,
    StatementStatus,
    Vote,
)
from service.deliberation.opinion_map import Votes

BATCH = 100_000


async def get_conversation(conversation_id: int) -> Conversation | None:
    return await Conversation.get_or_none(id=conversation_id)


async def lock_conversation(conversation_id: int) -> Conversation:
    return await Conversation.select_for_update().get(id=conversation_id)


async def conversations_of(
    *, proposal_id: int | None = None, challenge_id: int | None = None
) -> list[Conversation]:
    query = Conversation.all()
    if proposal_id is not None:
        query = query.filter(proposal_id=proposal_id)
    if challenge_id is not None:
        query = query.filter(challenge_id=challenge_id)
    return await query.order_by("-id")


async def published(conversation_id: int) -> list[Statement]:
    return await Statement.filter(
        conversation_id=conversation_id, status=StatementStatus.published
    ).order_by("id")


async def pending(conversation_id: int) -> list[Statement]:
    return await Statement.filter(
        conversation_id=conversation_id, status=StatementStatus.pending
    ).order_by("id")


async def statement_in(conversation_id: int, statement_id: int) -> Statement | None:
    return await Statement.get_or_none(id=statement_id, conversation_id=conversation_id)


async def participant_of(conversation_id: int, user_id: int) -> Participant | None:
    return await Participant.get_or_none(conversation_id=conversation_id, user_id=user_id)


async def voted_ids(participant_id: int) -> set[int]:
    rows = await Vote.filter(participant_id=participant_id).values_list("statement_id", flat=True)
    return {int(r) for r in rows}  # type: ignore[call-overload]


async def vote_count(conversation_id: int) -> int:
    return await Vote.filter(conversation_id=conversation_id).count()


async def last_map(conversation_id: int) -> OpinionMap | None:
    return await OpinionMap.get_or_none(conversation_id=conversation_id)


async def stale_since(before: datetime) -> list[int]:
    rows = await Conversation.filter(map_stale_since__lt=before).values_list("id", flat=True)
    return [int(r) for r in rows]  # type: ignore[call-overload]


async def adoptions_for(challenge_id: int) -> list[AdoptedConsensus]:
    return await AdoptedConsensus.filter(challenge_id=challenge_id).order_by("id")


async def load_votes(conversation_id: int) -> Votes:
    """All votes on published statements, as arrays of participant numbers, statement ids
    and values, read in keyset pages so a million rows never sit in memory as objects."""
    numbers = dict(
        await Participant.filter(conversation_id=conversation_id).values_list("id", "number")
    )
    statements = np.asarray(
        await Statement.filter(
            conversation_id=conversation_id, status=StatementStatus.published
        ).values_list("id", flat=True),
        dtype=np.int64,
    )
    parts: list[np.ndarray[Any, Any]] = []
    last = 0
    while True:
        rows = (
            await Vote.filter(conversation_id=conversation_id, id__gt=last)
            .order_by("id")
            .limit(BATCH)
            .values_list("id", "participant_id", "statement_id", "value")
        )
        if not rows:
            break
        parts.append(np.asarray(rows, dtype=np.int64))
        last = int(rows[-1][0])
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Votes(empty, empty, empty.astype(np.int8))
    data = np.concatenate(parts)
    data = data[np.isin(data[:, 2], statements)]
    lookup = np.vectorize(numbers.__getitem__, otypes=[np.int64])
    people = lookup(data[:, 1]) if data.shape[0] else data[:, 1]
    return Votes(people, data[:, 2].copy(), data[:, 3].astype(np.int8))


async def applicant_users(challenge_id: int | None) -> set[int]:
    """Accounts that are members of an organization that applied to the challenge."""
    if challenge_id is None:
        return set()
    orgs = await Application.filter(challenge_id=challenge_id).values_list(
        "organization_id", flat=True
    )
    if not orgs:
        return set()
    users = await Membership.filter(organization_id__in=list(orgs)).values_list(
        "user_id", flat=True
    )
    return {int(u) for u in users}  # type: ignore[call-overload]


async def participants(conversation_id: int) -> list[tuple[int, int]]:
    """(number, account id) of every participant: for marking applicants, never exported."""
    rows = await Participant.filter(conversation_id=conversation_id).values_list(
        "number", "user_id"
    )
    return [(int(n), int(u)) for n, u in rows]


async def vote_pages(conversation_id: int) -> AsyncIterator[list[tuple[int, int, int, datetime]]]:
    """(participant number, statement id, value, time) in pages, for the exports."""
    numbers = dict(
        await Participant.filter(conversation_id=conversation_id).values_list("id", "number")
    )
    published_ids = set(
        await Statement.filter(
            conversation_id=conversation_id, status=StatementStatus.published
        ).values_list("id", flat=True)
    )
    last = 0
    while True:
        rows = (
            await Vote.filter(conversation_id=conversation_id, id__gt=last)
            .order_by("id")
            .limit(20_000)
            .values_list("id", "participant_id", "statement_id", "value", "created_at")
        )
        if not rows:
            return
        last = int(rows[-1][0])
        yield [(numbers[p], int(s), int(v), at) for _, p, s, v, at in rows if s in published_ids]
