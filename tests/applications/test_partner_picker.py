"""The partner picker of an application: a search by name (a GET form, no script needed)
that offers a short list, never the challenge's own city nor the applicant; the server
refuses the city as a partner, from the form and from the API."""

from __future__ import annotations

import re

import httpx

from service import db
from service.accounts.models import Organization, OrganizationKind
from service.applications.models import Application, ApplicationPartner
from service.applications.pages import PARTNER_SEARCH_LIMIT
from tests import factories
from tests.challenges.test_applications import applicant, draft, open_challenge

CITY_REFUSED = "The city that posted the challenge cannot be a partner of an application to it."


def _offered(html: str) -> list[str]:
    """The names offered in the first partner row's list."""
    row = html.split('id="f-partner_org_0"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="\d+"[^>]*>([^<]+) \(', row)


async def _world(client: httpx.AsyncClient) -> tuple[int, Organization, int, factories.Person]:
    city, challenge_id = await open_challenge(client)
    async with db.transaction(None):
        city.org.name = "Ayuntamiento de Cádiz"
        await city.org.save()
    person, lead_id = await applicant(client)
    async with db.transaction(None):
        lead = await Organization.get(id=lead_id)
        lead.name = "Cádiz Mobility Lab"
        await lead.save()
    return challenge_id, city.org, lead_id, person


class TestPartnerSearch:
    async def test_the_search_narrows_the_list_and_leaves_out_city_and_applicant(
        self, client: httpx.AsyncClient
    ) -> None:
        challenge_id, city, lead_id, person = await _world(client)
        university = await factories.make_org(
            kind=OrganizationKind.university, name="Universidad de Cádiz"
        )
        await factories.make_org(kind=OrganizationKind.startup, name="Seville Robotics")
        await factories.web_signin(client, person.user)
        url = f"/challenges/{challenge_id}/apply"

        plain = await client.get(url)
        assert plain.status_code == 200
        assert 'name="partner_q"' in plain.text and 'method="get"' in plain.text
        # No list of every organization any more: only what a search finds.
        assert _offered(plain.text) == []

        for q in ("cadiz", "CÁDIZ", "  universidad   cadiz "):
            found = await client.get(url, params={"partner_q": q})
            assert found.status_code == 200
            assert _offered(found.text) == ["Universidad de Cádiz"], q
            partners = found.text.split('class="field partners"', 1)[1]
            assert f'<option value="{university.id}"' in partners
            assert f'<option value="{city.id}"' not in partners
            assert f'<option value="{lead_id}"' not in partners
            assert "1 organization found" in found.text

        nothing = await client.get(url, params={"partner_q": "zzqx"})
        assert _offered(nothing.text) == []
        assert "No organization matches this name." in nothing.text

    async def test_a_long_list_is_cut_short(self, client: httpx.AsyncClient) -> None:
        challenge_id, _, _, person = await _world(client)
        for n in range(PARTNER_SEARCH_LIMIT + 2):
            await factories.make_org(kind=OrganizationKind.research_center, name=f"Lab {n:02d}")
        await factories.web_signin(client, person.user)
        page = await client.get(f"/challenges/{challenge_id}/apply", params={"partner_q": "lab"})
        offered = _offered(page.text)
        assert len(offered) == PARTNER_SEARCH_LIMIT
        assert offered == sorted(offered)
        assert "Only the first ones are shown: type more of the name." in page.text

    async def test_the_edit_form_searches_too(self, client: httpx.AsyncClient) -> None:
        challenge_id, _, lead_id, person = await _world(client)
        partner = await factories.make_org(kind=OrganizationKind.university, name="Uni Norte")
        partners = [{"organization_id": partner.id, "role": "data", "share_pct": 20}]
        created = await draft(client, challenge_id, person, lead_id, partners=partners)
        assert created.status_code == 201, created.text
        await factories.make_org(kind=OrganizationKind.university, name="Uni Sur")
        await factories.web_signin(client, person.user)
        path = f"/applications/{created.json()['id']}"
        page = await client.get(path)
        # The partner already chosen stays offered.
        assert _offered(page.text) == ["Uni Norte"]
        searched = await client.get(path, params={"partner_q": "uni"})
        assert _offered(searched.text) == ["Uni Norte", "Uni Sur"]
        assert '<details id="edit" class="card" open>' in searched.text
        city_search = await client.get(path, params={"partner_q": "ayuntamiento"})
        assert _offered(city_search.text) == ["Uni Norte"]


class TestTheCityIsNoPartner:
    async def test_the_form_refuses_the_city_by_number(self, client: httpx.AsyncClient) -> None:
        challenge_id, city, lead_id, person = await _world(client)
        csrf = await factories.web_signin(client, person.user)
        response = await client.post(
            f"/challenges/{challenge_id}/apply",
            data={
                "csrf_token": csrf,
                "organization_id": str(lead_id),
                "title": "Route planner for school buses",
                "summary": "We plan bus routes around traffic with live data from the buses.",
                "proposal": "Three phases.",
                "team": "Five engineers.",
                "budget": "",
                "partner_rows": "3",
                "partner_q": "cadiz",
                "partner_number_0": str(city.id),
                "partner_role_0": "host",
                "partner_share_0": "10",
            },
        )
        assert response.status_code == 422, response.text[:500]
        assert CITY_REFUSED in response.text
        # The search is kept, and what was typed.
        assert 'name="partner_q" value="cadiz"' in response.text
        assert "Route planner for school buses" in response.text
        assert not await Application.filter(challenge_id=challenge_id).exists()

    async def test_the_api_refuses_the_city_on_create_and_edit(
        self, client: httpx.AsyncClient
    ) -> None:
        challenge_id, city, lead_id, person = await _world(client)
        as_city = [{"organization_id": city.id, "role": "host", "share_pct": 10}]
        refused = await draft(client, challenge_id, person, lead_id, partners=as_city)
        assert refused.status_code == 422, refused.text
        assert refused.json()["fields"]["partners"] == CITY_REFUSED
        assert not await Application.filter(challenge_id=challenge_id).exists()
        created = await draft(client, challenge_id, person, lead_id)
        assert created.status_code == 201, created.text
        app_id = created.json()["id"]
        edited = await client.patch(
            f"/api/v1/applications/{app_id}", json={"partners": as_city}, headers=person.headers
        )
        assert edited.status_code == 422, edited.text
        assert edited.json()["fields"]["partners"] == CITY_REFUSED
        assert not await ApplicationPartner.filter(application_id=app_id).exists()
