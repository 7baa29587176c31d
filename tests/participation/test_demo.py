"""The demo's proposals: what `make run`'s home page shows next to the challenges."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from service import db
from service.challenges.models import Challenge
from service.config import Settings
from service.demo import SetAside, seed_organizations, seed_people
from service.participation.demo import seed_proposals
from service.participation.models import Proposal, ProposalStatus, Update


async def test_proposals_in_several_regions_and_one_adopted(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    from service.applications.demo import seed_applications
    from service.challenges.demo import seed_challenges
    from service.rewards.demo import seed_escrow, seed_rewards

    for step in (
        seed_organizations,
        seed_people,
        seed_challenges,
        seed_escrow,
        seed_applications,
        seed_rewards,
        seed_proposals,
    ):
        async with db.transaction(SetAside()):
            await step(settings)
    regions = {p.region for p in await Proposal.all()}
    assert len(regions) >= 3
    adopted = await Proposal.get(status=ProposalStatus.adopted)
    assert adopted.challenge_id is not None
    challenge = await Challenge.get(id=adopted.challenge_id)
    assert challenge.proposal_id == adopted.id
    assert challenge.published_at is not None
    page = await client.get(f"/challenges/{challenge.id}")
    assert "Born from a citizen proposal" in page.text
    assert f"{adopted.support_count} supporters" in page.text
    assert await Update.filter(challenge_id=challenge.id, kind="published").exists()
    home = await client.get("/")
    assert "Citizen proposals" in home.text
    assert "Stairways without lighting at night" in home.text
    assert "Open challenges" in home.text
    # The region with a threshold of 4 has a proposal waiting for its answer.
    waiting = (await client.get("/api/v1/proposals", params={"sort": "waiting"})).json()
    assert [i["title"] for i in waiting["items"]] == ["Stairways without lighting at night"]
