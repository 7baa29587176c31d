"""Citizen proposals on the dashboards and at the head of the provenance timeline."""

from __future__ import annotations

import re

import httpx

from service.participation.models import Proposal, ProposalStatus
from tests import factories
from tests.opendata.test_ocds import publish
from tests.participation.helpers import city, propose, support

V1 = "/api/v1/opendata"


async def test_adopted_proposals_are_counted_and_head_the_timeline(
    client: httpx.AsyncClient,
) -> None:
    the_city = await city(client)
    created = await propose(client, await factories.person(client))
    for _ in range(2):
        await support(client, await factories.person(client), created["id"])
    await propose(client, await factories.person(client), title="Potholes on the ring road")
    adopted = await client.post(
        f"/api/v1/proposals/{created['id']}/adopt",
        json={"organization_id": the_city.org.id},
        headers=the_city.manager.headers,
    )
    assert adopted.status_code == 201, adopted.text
    challenge_id = adopted.json()["challenge_id"]

    counted = await Proposal.filter(status=ProposalStatus.adopted, hidden_at=None).count()
    assert counted == 1
    platform = (await client.get(f"{V1}/dashboard")).json()
    mine = (await client.get(f"{V1}/cities/{the_city.org.id}/dashboard")).json()
    assert platform["proposals_adopted"] == mine["proposals_adopted"] == counted
    page = await client.get(f"/opendata/cities/{the_city.org.id}")
    assert "<dt>Citizen proposals adopted</dt><dd>1</dd>" in page.text

    # A draft has no public timeline; once published, the proposal heads it.
    assert 'id="provenance"' not in (await client.get(f"/challenges/{challenge_id}")).text
    await publish(client, the_city, challenge_id)
    section = (await client.get(f"/challenges/{challenge_id}")).text.split('id="provenance"')[1]
    kinds = re.findall(r'<tr class="step-(\w+)">', section)
    assert kinds[:3] == ["proposal", "adopted", "published"]
    assert (
        f'<a href="/proposals/{created["id"]}">Citizen proposal: '
        "Broken street lights on Calle Mayor</a>" in section
    )
    assert "Adopted by the city, with 2 supporters" in section
