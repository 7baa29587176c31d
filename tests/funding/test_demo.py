"""The demo's funding round: what `make run` shows on an empty database."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from service import db
from service.config import Settings
from service.demo import SetAside, seed_organizations, seed_people, steps
from service.funding.demo import VOTERS, code_of, seed_funding_round
from service.funding.models import Ballot, Funded, FundingRound, RoundStatus


async def test_a_counted_round_with_its_outcome_and_shares_by_receipt(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    assert ("funding round", seed_funding_round) in steps()
    for step in (seed_organizations, seed_people, seed_funding_round):
        async with db.transaction(SetAside()):
            await step(settings)
    (rnd,) = await FundingRound.all()
    assert rnd.status is RoundStatus.counted and rnd.voters == VOTERS
    assert await Ballot.filter(round_id=rnd.id, voter_id__isnull=False).count() == 0
    page = await client.get(f"/funding/rounds/{rnd.id}?lang=es")
    assert page.status_code == 200
    candidates = await rnd.candidates.all().order_by("position")
    funded = [c for c in candidates if c.funded is Funded.shares]
    assert funded and sum(c.reserved_minor for c in candidates) <= rnd.budget_minor
    # Equal shares and greedy differ here: the minority's flood alerts get their share.
    assert [c.plain_funded for c in candidates] != [c.greedy_funded for c in candidates]
    (flood,) = [c for c in candidates if c.title.startswith("Alertas de inundación")]
    assert flood.funded is Funded.shares and not flood.greedy_funded
    share = await client.get(f"/funding/rounds/{rnd.id}/share?receipt={code_of(1)}")
    assert share.status_code == 200
    assert "Sombra en las paradas de autobús" in share.text
