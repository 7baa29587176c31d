"""Who may use each route of the funding rounds area (merged into the matrix), and its objects.

The world adds a published round of city A, voting open, whose one candidate is A's draft
challenge. Its managers (and owner) draft, publish and override; anyone reads a published
round, its open data and a share by receipt; anyone signed in may cast a ballot (the service
then checks e-mail and residence). Written from PRODUCT.md and the issue's rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from service import db
from service.funding.models import Candidate, FundingRound, RoundStatus

Who = Callable[[str], bool]

ANYONE: Who = lambda actor: True  # noqa: E731
SIGNED_IN: Who = lambda actor: actor != "anonymous"  # noqa: E731
MANAGERS_OF_A: Who = lambda actor: actor in ("owner", "manager")  # noqa: E731

V1 = "/api/v1"
ROUND = "/funding-rounds/{round_id:int}"
PAGE = "/funding/rounds/{round_id:int}"
EXPECTED: dict[str, Who] = {
    f"POST {V1}/funding-rounds": MANAGERS_OF_A,
    f"GET {V1}/funding-rounds": ANYONE,
    f"GET {V1}{ROUND}": ANYONE,
    f"POST {V1}{ROUND}/publish": MANAGERS_OF_A,
    f"PUT {V1}{ROUND}/ballot": SIGNED_IN,
    f"GET {V1}{ROUND}/ballot": SIGNED_IN,
    f"POST {V1}{ROUND}/share": ANYONE,
    f"POST {V1}{ROUND}/candidates/{{candidate_id:int}}/override": MANAGERS_OF_A,
    # pages
    "GET /funding": ANYONE,
    "GET /funding/new": SIGNED_IN,
    "POST /funding/new": SIGNED_IN,
    f"GET {PAGE}": ANYONE,
    f"POST {PAGE}/publish": MANAGERS_OF_A,
    f"POST {PAGE}/vote": SIGNED_IN,
    f"GET {PAGE}/share": ANYONE,
    f"POST {PAGE}/candidates/{{candidate_id:int}}/override": MANAGERS_OF_A,
    f"GET {PAGE}/round.pb": ANYONE,
    f"GET {PAGE}/outcome.csv": ANYONE,
    f"GET {PAGE}/ballots.csv": ANYONE,
}
# Allowed, then answered 404 because the actor has no ballot in the round.
STATE_404 = {f"GET {V1}{ROUND}/ballot"}


async def path_values(world: Any, settings: Any) -> dict[str, str]:
    now = datetime.now(UTC)
    async with db.transaction(None):
        rnd = await FundingRound.create(
            organization=world.org,
            title="Innovation budget",
            region=world.org.region,
            budget_minor=10_000_00,
            currency="EUR",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=6),
            status=RoundStatus.published,
            published_at=now,
            created_by_id=world.users["manager"].id,
        )
        candidate = await Candidate.create(
            round=rnd,
            position=0,
            challenge_id=world.challenge.id,
            title=world.challenge.title,
            cost_minor=world.challenge.reward_amount_minor,
        )
    return {"round_id": str(rnd.id), "candidate_id": str(candidate.id)}
