"""Conversations, voters and planted votes for the deliberation tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from service import db
from service.accounts.models import User
from service.deliberation import tasks
from service.deliberation.models import Conversation, Participant, Statement, Vote
from tests import factories

SEEDS = [
    "The street lights should be fixed before winter.",
    "LED lamps are worth their higher price.",
    "Residents should choose where new lamps go.",
    "Night buses matter more than lamps.",
]


async def open_on_proposal(
    client: httpx.AsyncClient, author: factories.Person, proposal_id: int, **body: Any
) -> httpx.Response:
    payload: dict[str, Any] = {"topic": "How should we light Calle Mayor?", "seeds": SEEDS}
    payload.update(body)
    return await client.post(
        f"/api/v1/proposals/{proposal_id}/conversations", json=payload, headers=author.headers
    )


async def vote(
    client: httpx.AsyncClient, person: factories.Person, cid: int, sid: int, choice: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/conversations/{cid}/votes",
        json={"statement_id": sid, "choice": choice},
        headers=person.headers,
    )


async def age(user: User, days: int = 30) -> None:
    """Make an account old enough for its statements to be published at once."""
    async with db.transaction(None):
        await User.filter(id=user.id).update(created_at=datetime.now(UTC) - timedelta(days=days))


async def planted_votes(cid: int, groups: list[tuple[int, dict[int, int]]]) -> list[User]:
    """Participants in groups, each voting their group's stance on each statement (written
    straight to the tables: the HTTP path of a vote has its own tests)."""
    users: list[User] = []
    async with db.transaction(None):
        number = await Participant.filter(conversation_id=cid).count()
        for size, stances in groups:
            for _ in range(size):
                user = await factories.make_user()
                users.append(user)
                number += 1
                participant = await Participant.create(
                    conversation_id=cid, user_id=user.id, number=number
                )
                await Vote.bulk_create(
                    [
                        Vote(
                            conversation_id=cid,
                            statement_id=sid,
                            participant_id=participant.id,
                            value=value,
                        )
                        for sid, value in stances.items()
                    ]
                )
        await Conversation.filter(id=cid).update(participant_count=number)
        for sid in {s for _, stances in groups for s in stances}:
            values = await Vote.filter(statement_id=sid).values_list("value", flat=True)
            await Statement.filter(id=sid).update(
                agree_count=sum(1 for v in values if v == 1),
                disagree_count=sum(1 for v in values if v == -1),
                pass_count=sum(1 for v in values if v == 0),
            )
    return users


async def draw_map(app: Starlette, cid: int) -> int:
    """Run the map job as the worker does."""
    async with db.transaction(None):
        await Conversation.filter(id=cid).update(map_stale_since=datetime.now(UTC))
    return int(await tasks.compute_map(app.state.deps, conversation_id=cid))
