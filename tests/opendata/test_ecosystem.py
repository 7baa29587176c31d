"""The ecosystem map and the provenance timeline: only public ties and steps, in order, with
the ledger's amounts."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from service import db
from service.accounts.models import Organization, OrganizationKind
from service.challenges import service as challenges_service
from service.challenges.models import Challenge
from service.rewards.models import LedgerTransaction
from tests import factories
from tests.challenges.factories import challenge_body
from tests.challenges.helpers import make_city
from tests.challenges.test_applications import applicant, draft, open_challenge
from tests.opendata.test_ocds import pay
from tests.rewards.helpers import Awarded, awarded, bank_account

V1 = "/api/v1/opendata"


async def consortium(
    client: httpx.AsyncClient, challenge_id: int, *, answer: str, submit: bool = True
) -> tuple[int, int]:
    """A startup applies with a university partner, who answers `answer`."""
    lead, lead_org = await applicant(client)
    partner, partner_org = await applicant(client, kind=OrganizationKind.university, region="Porto")
    partners = [{"organization_id": partner_org, "role": "lab", "share_pct": 20}]
    created = await draft(client, challenge_id, lead, lead_org, partners=partners)
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    answered = await client.post(
        f"/api/v1/applications/{app_id}/partners/{partner_org}/{answer}", headers=partner.headers
    )
    assert answered.status_code == 200, answered.text
    if submit:
        submitted = await client.post(f"/api/v1/applications/{app_id}/submit", headers=lead.headers)
        assert submitted.status_code == 200, submitted.text
    return lead_org, partner_org


async def close(challenge_id: int) -> None:
    async with db.transaction(None):
        await Challenge.filter(id=challenge_id).update(
            closes_at=datetime.now(UTC) - timedelta(seconds=1)
        )
        await challenges_service.advance_all(now=datetime.now(UTC))


@dataclass
class World:
    a: Awarded
    closed_pair: tuple[int, int]
    declined_pair: tuple[int, int]
    open_pair: tuple[int, int]
    draft_pair: tuple[int, int]
    hidden_city: int


async def world(client: httpx.AsyncClient) -> World:
    a = await awarded(client, amounts=(1_000_000, 2_000_000), partner_share=30)
    assert a.partner is not None and a.partner_org is not None
    await bank_account(client, a.winner, a.winner_org)
    await bank_account(client, a.partner, a.partner_org)
    await pay(client, a, a.milestone_ids[0])
    # A closed challenge: its submitted applications are public, with accepted partners only.
    _, closed_id = await open_challenge(client)
    closed_pair = await consortium(client, closed_id, answer="accept")
    # A declined partner (shares no longer add up: the lead never submitted).
    declined_pair = await consortium(client, closed_id, answer="decline", submit=False)
    await close(closed_id)
    # Still open: who applied is not public yet. A draft application is never public.
    _, open_id = await open_challenge(client)
    open_pair = await consortium(client, open_id, answer="accept")
    draft_pair = await consortium(client, open_id, answer="accept", submit=False)
    hidden = await make_city(client)
    async with db.transaction(None):
        await Organization.filter(id=hidden.org.id).update(name="Hidden Town")
    created = await client.post(
        "/api/v1/challenges", json=challenge_body(hidden.org), headers=hidden.editor.headers
    )
    assert created.status_code == 201
    return World(a, closed_pair, declined_pair, open_pair, draft_pair, hidden.org.id)


def pairs(body: dict[str, Any]) -> set[tuple[int, int, str]]:
    return {(e["source"], e["target"], e["kind"]) for e in body["edges"]}


class TestMap:
    async def test_only_public_ties_appear(self, client: httpx.AsyncClient) -> None:
        w = await world(client)
        assert w.a.partner_org is not None
        response = await client.get(f"{V1}/ecosystem")
        assert response.status_code == 200, response.text
        body = response.json()
        assert pairs(body) == {
            (w.a.city.org.id, w.a.winner_org, "award"),
            (w.a.winner_org, w.a.partner_org, "consortium"),
            (*w.closed_pair, "consortium"),
        }
        award = next(e for e in body["edges"] if e["kind"] == "award")
        assert award["challenge_ids"] == [w.a.challenge_id]
        shown = {n["id"] for n in body["nodes"]}
        assert shown == {w.a.city.org.id, w.a.winner_org, w.a.partner_org, *w.closed_pair}
        for hidden in (*w.declined_pair[1:], *w.open_pair, *w.draft_pair, w.hidden_city):
            assert hidden not in shown
        kinds = {n["id"]: n["kind"] for n in body["nodes"]}
        assert kinds[w.a.city.org.id] == "government" and kinds[w.a.partner_org] == "university"

        page = await client.get("/opendata/ecosystem")
        assert page.status_code == 200
        assert 'role="img"' in page.text and '<title id="ecosystem-map-title">' in page.text
        for org_id in shown:
            assert f'href="/organizations/{org_id}"' in page.text
        for org_id in (*w.open_pair, *w.draft_pair, w.declined_pair[1], w.hidden_city):
            assert f'href="/organizations/{org_id}"' not in page.text
        assert "Hidden Town" not in page.text
        # Nothing private: no e-mail address, bank detail or reference, or application text.
        everything = page.text + response.text
        for private in ("@example", "SEPA-", "ES91", "Route planner", "Three phases"):
            assert private not in everything, private

    async def test_filters_by_kind_and_region(self, client: httpx.AsyncClient) -> None:
        w = await world(client)
        assert w.a.partner_org is not None
        body = (await client.get(f"{V1}/ecosystem?kind=university")).json()
        assert pairs(body) == {
            (w.a.winner_org, w.a.partner_org, "consortium"),
            (*w.closed_pair, "consortium"),
        }
        # Both universities, and the startups at the other end of their ties.
        assert {n["id"] for n in body["nodes"]} == {w.a.winner_org, w.a.partner_org, *w.closed_pair}
        porto = (await client.get(f"{V1}/ecosystem?region=porto")).json()
        assert pairs(porto) == {(*w.closed_pair, "consortium")}
        for bad in ("kind=bank", "region=" + "x" * 121):
            response = await client.get(f"{V1}/ecosystem?{bad}")
            assert response.status_code == 422, bad
            assert response.json()["fields"]

        page = await client.get("/opendata/ecosystem?kind=university&region=Porto")
        assert page.status_code == 200
        listed = re.findall(r'<h3><a href="/organizations/(\d+)">', page.text)
        assert listed == [str(w.closed_pair[1])]
        assert '<option value="university" selected>' in page.text
        wrong = await client.get("/opendata/ecosystem?kind=bank")
        assert wrong.status_code == 200
        assert 'aria-invalid="true"' in wrong.text and 'id="kind-error"' in wrong.text

    async def test_the_map_costs_the_same_queries_whatever_its_size(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        counts = []
        for _ in range(2):
            _, challenge_id = await open_challenge(client)
            for _ in range(3):
                await consortium(client, challenge_id, answer="accept")
            await close(challenge_id)
            caplog.clear()
            with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
                assert (await client.get("/opendata/ecosystem")).status_code == 200
                assert (await client.get("/opendata/dashboard")).status_code == 200
            counts.append(len([r for r in caplog.records if r.name == "tortoise.db_client"]))
        assert counts[0] == counts[1]


class TestProvenance:
    async def test_every_step_from_publication_to_payment_in_order(
        self, client: httpx.AsyncClient
    ) -> None:
        w = await world(client)
        a = w.a
        page = await client.get(f"/challenges/{a.challenge_id}")
        assert page.status_code == 200
        section = page.text.split('id="provenance"', 1)[1].split("</section>", 1)[0]
        kinds = re.findall(r'<tr class="step-(\w+)">', section)
        assert kinds == [
            "published",
            "open",
            "closed",
            "award",
            "milestone",
            "payment",
            "payment",
            "milestone_due",
        ]
        assert "Applications closed: 1 application" in section
        winner = await Organization.get(id=a.winner_org)
        assert f"Awarded to {winner.name}" in section
        assert "Milestone delivered and approved: Milestone 1" in section
        assert "Milestone due: Milestone 2" in section
        # Each payment shows the ledger's amount: 70% and 30% of the first milestone.
        paid = await LedgerTransaction.filter(challenge_id=a.challenge_id, kind="payout")
        assert sorted(t.amount_minor for t in paid) == [300_000, 700_000]
        assert "€7,000.00" in section and "€3,000.00" in section
        dates = re.findall(r'<time datetime="([^"]+)"', section)
        assert dates == sorted(dates, key=datetime.fromisoformat)

    async def test_before_the_closing_no_count_and_no_section_on_a_draft(
        self, client: httpx.AsyncClient
    ) -> None:
        city, open_id = await open_challenge(client)
        await consortium(client, open_id, answer="accept")
        section = (await client.get(f"/challenges/{open_id}")).text.split('id="provenance"')[1]
        assert "Applications closed" not in section and "step-open" in section
        created = await client.post(
            "/api/v1/challenges", json=challenge_body(city.org), headers=city.editor.headers
        )
        await factories.web_signin(client, city.editor.user)
        draft_page = await client.get(f"/challenges/{created.json()['id']}")
        assert draft_page.status_code == 200
        assert 'id="provenance"' not in draft_page.text


def test_a_large_map_draws_the_most_connected() -> None:
    from service.opendata.ecosystem import Edge, Graph, Node, drawing, most_connected

    nodes = [Node(i, f"Org {i}", "startup", "North", "ES") for i in range(1, 201)]
    # Org 1 is tied to everyone, Org 2 to the next ten: they are drawn first.
    edges = [Edge(1, i, "award", [1]) for i in range(2, 201)]
    edges += [Edge(2, i, "consortium", [1]) for i in range(3, 13)]
    small = most_connected(Graph(nodes, edges), limit=12)
    assert [n.id for n in small.nodes] == list(range(1, 13))
    assert all(e.source in range(1, 13) and e.target in range(1, 13) for e in small.edges)
    assert len(small.edges) == 11 + 10
    svg = drawing(small, title="t", desc="d", kind_labels={}, edge_labels={})
    assert svg.count("<path ") == len(small.edges) and "Org 13<" not in svg
    assert most_connected(Graph(nodes[:5], []), limit=12).nodes == nodes[:5]
