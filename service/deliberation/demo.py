"""Demo conversation: residents of Valparaíso map their opinions on the unlit stairways.

The demo residents vote through the service, as people do; a few dozen synthetic neighbours
(accounts that cannot sign in) add a few hundred votes in two opinion groups that agree on a
few statements; the map is then computed once, so its page has something to show.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from service.accounts.actor import Actor
from service.accounts.models import User
from service.config import Settings
from service.core.context import Context
from service.deliberation import service
from service.deliberation.models import Choice, Conversation, Participant, Statement, Vote
from service.participation.models import Proposal

TITLE = "Stairways without lighting at night"
TOPIC = "How should the hill stairways be made safe at night?"
# (statement, stance of group A, stance of group B): +1 agree, -1 disagree, 0 pass.
SEEDS = [
    ("Every public stairway needs working lights by next winter.", 1, 1),
    ("Solar lamps are better than connecting the stairways to the grid.", 1, -1),
    ("Neighbours should report broken lamps through an app.", 1, -1),
    ("Lighting matters less than more night buses up the hills.", -1, 1),
    ("The city should repair the steps before adding lamps.", -1, 1),
    ("Murals and plants would make the stairways feel safer.", 1, 0),
    ("Lamps should dim late at night to save energy.", 1, -1),
    ("Residents of each hill should choose where lamps go first.", 1, 1),
]
NEIGHBOURS = 60


async def seed_conversation(settings: Settings) -> None:
    proposal = await Proposal.get_or_none(title=TITLE)
    if proposal is None:
        return
    author = await User.get(id=proposal.author_id)
    conversation = await service.open_conversation(
        Context(actor=Actor(user=author), settings=settings),
        topic=TOPIC,
        description="The stairways between the hills and the port are dark after sunset.",
        seeds=[text for text, _, _ in SEEDS],
        proposal_id=proposal.id,
    )
    statements = await Statement.filter(conversation_id=conversation.id).order_by("id")
    rng = random.Random(2026)
    # The demo residents (whose accounts sign in) vote through the service on all statements
    # but the last, which is left for them to try; seven votes place a person on the map.
    residents = await User.filter(email__endswith="@residents.demo.civic").order_by("id")
    choices = [Choice.agree, Choice.disagree, Choice.pass_]
    for n, resident in enumerate(residents):
        ctx = Context(actor=Actor(user=resident), settings=settings)
        group = 1 if n % 2 else 0
        for statement, (_, a, b) in zip(statements[:7], SEEDS, strict=False):
            stance = (a, b)[group]
            choice = {1: Choice.agree, -1: Choice.disagree, 0: Choice.pass_}[stance]
            if rng.random() < 0.15:
                choice = rng.choice(choices)
            await service.vote(ctx, conversation, statement_id=statement.id, choice=choice)
    # Synthetic neighbours, written in bulk: two groups, each following its stance mostly.
    earlier = datetime.now(UTC) - timedelta(days=2)
    await User.bulk_create(
        [
            User(
                email=f"neighbour{i:02d}@valparaiso.demo.civic",
                name=f"Neighbour {i}",
                email_verified_at=earlier,
                created_at=earlier,
            )
            for i in range(1, NEIGHBOURS + 1)
        ]
    )
    neighbours = await User.filter(email__endswith="@valparaiso.demo.civic").order_by("id")
    start = await Participant.filter(conversation_id=conversation.id).count()
    await Participant.bulk_create(
        [
            Participant(conversation_id=conversation.id, user_id=u.id, number=start + i)
            for i, u in enumerate(neighbours, start=1)
        ]
    )
    participants = await Participant.filter(
        conversation_id=conversation.id, user_id__in=[u.id for u in neighbours]
    ).order_by("number")
    votes = []
    for n, participant in enumerate(participants):
        group = 0 if n < NEIGHBOURS * 3 // 5 else 1
        for statement, (_, a, b) in zip(statements, SEEDS, strict=True):
            if rng.random() < 0.08:
                continue  # not shown to them yet
            value = (a, b)[group] if rng.random() < 0.85 else rng.choice([-1, 0, 1])
            votes.append(
                Vote(
                    conversation_id=conversation.id,
                    statement_id=statement.id,
                    participant_id=participant.id,
                    value=value,
                )
            )
    await Vote.bulk_create(votes)
    await Conversation.filter(id=conversation.id).update(
        participant_count=start + len(participants)
    )
    for statement in statements:
        values = await Vote.filter(statement_id=statement.id).values_list("value", flat=True)
        await Statement.filter(id=statement.id).update(
            agree_count=sum(1 for v in values if v == 1),
            disagree_count=sum(1 for v in values if v == -1),
            pass_count=sum(1 for v in values if v == 0),
        )
    await service.begin_map(conversation.id, force=True)
    result, seconds = await service.compute_result(conversation.id)
    await service.save_map(conversation.id, result, seconds)
