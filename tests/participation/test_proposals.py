"""Proposing, editing, the duplicate hint, links from new accounts and rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from service import db
from service.accounts.models import User
from service.audit.models import AuditEvent
from service.participation.models import Proposal
from tests import factories
from tests.participation.helpers import REGION, proposal_body, propose, support


async def _age(user: User, days: int) -> None:
    async with db.transaction(None):
        await User.filter(id=user.id).update(created_at=datetime.now(UTC) - timedelta(days=days))


class TestPropose:
    async def test_a_confirmed_citizen_proposes_and_anyone_reads_it(
        self, client: httpx.AsyncClient
    ) -> None:
        author = await factories.person(client)
        created = await propose(client, author)
        assert created["supporters"] == 0
        assert created["status"] == "open"
        assert created["threshold"] == 200
        page = await client.get(f"/api/v1/proposals/{created['id']}")
        assert page.status_code == 200
        assert page.json()["description"].startswith("Half of the street lights")
        assert page.json()["author"] == author.user.name
        html = await client.get(f"/proposals/{created['id']}")
        assert html.status_code == 200
        assert "Broken street lights on Calle Mayor" in html.text
        assert await AuditEvent.filter(action="proposal.create").count() == 1

    async def test_anonymous_and_unconfirmed_are_refused(self, client: httpx.AsyncClient) -> None:
        anonymous = await client.post("/api/v1/proposals", json=proposal_body())
        assert anonymous.status_code == 401
        unconfirmed = await factories.person(client, verified=False)
        refused = await client.post(
            "/api/v1/proposals", json=proposal_body(), headers=unconfirmed.headers
        )
        assert refused.status_code == 403
        assert refused.json()["error"] == "EmailNotVerified"
        assert await Proposal.all().count() == 0

    async def test_bad_input_names_the_field_and_stores_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        author = await factories.person(client)
        for field, value in (("title", "abc"), ("description", "short"), ("sdgs", [18])):
            response = await client.post(
                "/api/v1/proposals", json=proposal_body(**{field: value}), headers=author.headers
            )
            assert response.status_code == 422, field
            assert field in response.json()["fields"], response.json()
        assert await Proposal.all().count() == 0

    async def test_the_form_shows_errors_next_to_the_fields(
        self, client: httpx.AsyncClient
    ) -> None:
        author = await factories.make_user()
        csrf = await factories.web_signin(client, author)
        response = await client.post(
            "/proposals/new",
            data={"csrf_token": csrf, "title": "Bus", "description": "x", "region": REGION},
        )
        assert response.status_code == 422
        assert 'id="f-title-error"' in response.text
        assert 'id="f-description-error"' in response.text
        assert 'value="Bus"' in response.text  # nothing typed is lost
        ok = await client.post(
            "/proposals/new",
            data={
                "csrf_token": csrf,
                "title": "No bench at the bus stop",
                "description": "The stop on Calle Alcalá has no bench and older people stand.",
                "region": REGION,
                "sdgs": ["11", "3"],
            },
        )
        assert ok.status_code == 303
        proposal = await Proposal.get()
        assert proposal.sdgs == [3, 11]
        assert ok.headers["location"] == f"/proposals/{proposal.id}"


class TestDuplicateHint:
    async def test_similar_titles_in_the_region_are_hinted_and_checked_on_submit(
        self, client: httpx.AsyncClient
    ) -> None:
        first = await propose(client, await factories.person(client))
        other = await factories.person(client)
        hint = await client.get(
            "/api/v1/proposals/similar",
            params={"region": "madrid", "title": "Broken street lights in Calle Mayor"},
        )
        assert hint.status_code == 200
        assert [i["id"] for i in hint.json()["items"]] == [first["id"]]
        elsewhere = await client.get(
            "/api/v1/proposals/similar",
            params={"region": "Sevilla", "title": "Broken street lights in Calle Mayor"},
        )
        assert elsewhere.json()["items"] == []
        unrelated = await client.get(
            "/api/v1/proposals/similar", params={"region": REGION, "title": "Noisy bars at night"}
        )
        assert unrelated.json()["items"] == []
        refused = await client.post(
            "/api/v1/proposals",
            json=proposal_body(title="Broken street lights in Calle Mayor"),
            headers=other.headers,
        )
        assert refused.status_code == 422
        assert "Broken street lights on Calle Mayor" in refused.json()["fields"]["title"]
        assert await Proposal.all().count() == 1
        confirmed = await client.post(
            "/api/v1/proposals",
            json=proposal_body(title="Broken street lights in Calle Mayor", confirm_distinct=True),
            headers=other.headers,
        )
        assert confirmed.status_code == 201


class TestAntiAbuse:
    async def test_new_accounts_post_no_links_for_a_day(self, client: httpx.AsyncClient) -> None:
        author = await factories.person(client)
        spam = proposal_body(
            description="Cheap lights for the whole street at https://spam.example"
        )
        refused = await client.post("/api/v1/proposals", json=spam, headers=author.headers)
        assert refused.status_code == 422
        assert "description" in refused.json()["fields"]
        await _age(author.user, 2)
        allowed = await client.post("/api/v1/proposals", json=spam, headers=author.headers)
        assert allowed.status_code == 201, allowed.text

    async def test_proposals_per_user_are_rate_limited(self, client: httpx.AsyncClient) -> None:
        author = await factories.person(client)
        statuses = []
        for n in range(6):
            response = await client.post(
                "/api/v1/proposals",
                json=proposal_body(title=f"Problem number {n} of {'x' * n}", confirm_distinct=True),
                headers=author.headers,
            )
            statuses.append(response.status_code)
        assert statuses == [201] * 5 + [429]
        assert await Proposal.all().count() == 5


class TestEdit:
    async def test_the_author_edits_until_the_first_support(
        self, client: httpx.AsyncClient
    ) -> None:
        author = await factories.person(client)
        created = await propose(client, author)
        url = f"/api/v1/proposals/{created['id']}"
        stranger = await factories.person(client)
        assert (
            await client.patch(url, json=proposal_body(), headers=stranger.headers)
        ).status_code == 403
        edited = await client.patch(
            url, json=proposal_body(title="Dark street on Calle Mayor"), headers=author.headers
        )
        assert edited.status_code == 200
        assert edited.json()["title"] == "Dark street on Calle Mayor"
        await support(client, stranger, created["id"])
        locked = await client.patch(
            url, json=proposal_body(title="Something else entirely"), headers=author.headers
        )
        assert locked.status_code == 409
        assert locked.json()["error"] == "ProposalLocked"
        assert (await Proposal.get(id=created["id"])).title == "Dark street on Calle Mayor"
        # Withdrawing the support does not reopen editing only if someone supported: it does.
        page = await client.get(f"/proposals/{created['id']}")
        assert "Edit your proposal" not in page.text
