"""Who may use each route of the deliberation area (merged into the matrix), and its objects.

The world adds a conversation on a proposal of the region of city A (written by the
"citizen"), with one published statement. A conversation on a visible proposal is public:
anyone reads it and its open data, the signed-in take part. The region's city managers
(A's owner and manager, and B's owner: both cities are in the same region) moderate, and so
do operators with two-factor. A proposal's author or the region's city managers open a
conversation on it; a challenge's city managers open one on the challenge and carry its
consensus into the draft. Written from PRODUCT.md's rules and the opinion-maps issue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service import db
from service.deliberation.models import Conversation, Statement
from service.participation.models import Proposal

Who = Callable[[str], bool]

ANYONE: Who = lambda actor: True  # noqa: E731
SIGNED_IN: Who = lambda actor: actor != "anonymous"  # noqa: E731
MANAGERS_OF_A: Who = lambda actor: actor in ("owner", "manager")  # noqa: E731
MODERATORS: Who = lambda actor: actor in ("owner", "manager", "other_org_owner", "operator")  # noqa: E731
OPENERS: Who = lambda actor: actor in ("citizen", "owner", "manager", "other_org_owner")  # noqa: E731

V1 = "/api/v1"
CONV = "/conversations/{conversation_id:int}"
EXPECTED: dict[str, Who] = {
    f"POST {V1}/proposals/{{proposal_id:int}}/conversations": OPENERS,
    f"POST {V1}/challenges/{{challenge_id:int}}/conversations": MANAGERS_OF_A,
    f"POST {V1}/challenges/{{challenge_id:int}}/consensus": MANAGERS_OF_A,
    f"GET {V1}{CONV}": ANYONE,
    f"GET {V1}{CONV}/statements": ANYONE,
    f"POST {V1}{CONV}/statements": SIGNED_IN,
    f"GET {V1}{CONV}/pending": MODERATORS,
    f"GET {V1}{CONV}/next": ANYONE,
    f"POST {V1}{CONV}/votes": SIGNED_IN,
    f"GET {V1}{CONV}/map": ANYONE,
    f"POST {V1}{CONV}/close": MODERATORS,
    f"GET {V1}{CONV}/statements.json": ANYONE,
    f"GET {V1}{CONV}/statements.csv": ANYONE,
    f"GET {V1}{CONV}/votes.json": ANYONE,
    f"GET {V1}{CONV}/votes.csv": ANYONE,
    f"POST {V1}/statements/{{statement_id:int}}/moderate": MODERATORS,
    # pages
    f"GET {CONV}": ANYONE,
    f"POST {CONV}/vote": SIGNED_IN,
    f"POST {CONV}/statements": SIGNED_IN,
    f"GET {CONV}/map": ANYONE,
    f"GET {CONV}/moderation": MODERATORS,
    f"POST {CONV}/close": MODERATORS,
    "POST /statements/{statement_id:int}/moderate": MODERATORS,
    "GET /proposals/{proposal_id:int}/conversations": ANYONE,
    "GET /proposals/{proposal_id:int}/conversations/new": OPENERS,
    "POST /proposals/{proposal_id:int}/conversations/new": OPENERS,
    "GET /challenges/{challenge_id:int}/conversations/new": MANAGERS_OF_A,
    "POST /challenges/{challenge_id:int}/conversations/new": MANAGERS_OF_A,
    "GET /challenges/{challenge_id:int}/consensus": MANAGERS_OF_A,
    "POST /challenges/{challenge_id:int}/consensus": MANAGERS_OF_A,
}


async def path_values(world: Any, settings: Any) -> dict[str, str]:
    async with db.transaction(None):
        proposal = await Proposal.create(
            author=world.users["citizen"],
            title="Dark underpass",
            description="The underpass by the station has no light at night.",
            region=world.org.region,
        )
        conversation = await Conversation.create(
            proposal_id=proposal.id,
            topic="How to light the underpass?",
            opened_by=world.users["citizen"],
        )
        statement = await Statement.create(
            conversation=conversation,
            author_id=world.users["citizen"].id,
            text="Motion-sensor lamps are enough.",
            seed=True,
        )
    return {"conversation_id": str(conversation.id), "statement_id": str(statement.id)}
