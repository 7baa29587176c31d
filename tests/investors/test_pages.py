"""The investors' pages: constant queries, forms that keep what was typed, the flows."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette

from service.accounts.models import OrganizationKind, Role
from service.applications.models import Application, ApplicationStatus
from service.investors.models import CityPick, IntroRequest, IntroStatus, Watch
from service.matching.models import InvestorThesis, StartupProfile
from tests import factories
from tests.challenges.factories import make_draft_challenge
from tests.investors import helpers


@asynccontextmanager
async def signed_in(
    client: httpx.AsyncClient, person: factories.Person
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver"
    ) as browser:
        yield browser, await factories.web_signin(browser, person.user)


class TestQueryCount:
    async def _queries_for(
        self, client: httpx.AsyncClient, url: str, caplog: pytest.LogCaptureFixture, **kw: str
    ) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            response = await client.get(url, **kw)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text[:300]
        return len([r for r in caplog.records if r.name == "tortoise.db_client"])

    async def test_the_deal_flow_runs_the_same_queries_for_5_and_60_startups(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        investor, partner = await helpers.make_investor(client)
        city = await factories.make_org(kind=OrganizationKind.government, name="City C")
        startups = []
        for n in range(60):
            startup = await helpers.make_startup(client, name=f"Venture {n}", with_token=False)
            startups.append(startup.org)
            if n % 2 == 0:
                await helpers.win(city, startup.org, delivered=1)
        await helpers.rank(investor, startups)
        await client.put(
            f"/api/v1/investors/{investor.id}/watchlist/{startups[0].id}",
            json={},
            headers=partner.headers,
        )
        async with signed_in(client, partner) as (browser, _):
            for base, kw in (
                (f"/api/v1/investors/{investor.id}/dealflow", {"headers": partner.headers}),
                (f"/investors/{investor.id}/dealflow", {}),
            ):
                caller = client if base.startswith("/api/") else browser
                five = await self._queries_for(caller, f"{base}?limit=5", caplog, **kw)
                sixty = await self._queries_for(caller, f"{base}?limit=60", caplog, **kw)
                assert five == sixty, base
                filtered = await self._queries_for(
                    caller, f"{base}?limit=60&won=true&sort=wins", caplog, **kw
                )
                assert filtered == five
            page = await browser.get(f"/investors/{investor.id}/dealflow?limit=60")
            assert page.text.count('class="card"') >= 60
            assert "Won" in page.text and "/challenges/" in page.text


class TestThesisPage:
    async def test_save_and_preview_count(self, client: httpx.AsyncClient) -> None:
        investor, partner = await helpers.make_investor(client)
        await helpers.make_startup(client, name="Bus Co", sectors=("mobility",))
        await helpers.make_startup(client, name="Sun Co", sectors=("energy",), ask=500_000_000)
        await helpers.make_startup(client, name="Hidden Co", sectors=("energy",), opt_in=False)
        async with signed_in(client, partner) as (browser, csrf):
            page = await browser.get(f"/investors/{investor.id}/thesis")
            assert page.status_code == 200
            assert "1 startup in the deal flow matches" in page.text  # the saved thesis
            preview = await browser.get(
                f"/investors/{investor.id}/thesis/preview?sectors=energy&sectors=mobility"
            )
            assert preview.text == "2 startups in the deal flow match this thesis now."
            preview = await browser.get(
                f"/investors/{investor.id}/thesis/preview?sectors=energy&ticket_max=1000000"
            )
            assert preview.text.startswith("0 startups")
            form = {
                "csrf_token": csrf,
                "sectors": ["energy", "water"],
                "stages": ["seed"],
                "ticket_min": "100000",
                "ticket_max": "50000",
                "regions": "Madrid, Lisboa",
                "text": "Clean energy",
            }
            bad = await browser.post(f"/investors/{investor.id}/thesis", data=form)
            assert bad.status_code == 422
            assert "The maximum must not be below the minimum." in bad.text
            assert "Clean energy" in bad.text  # nothing typed is lost
            assert (await InvestorThesis.get(organization_id=investor.id)).sectors == ["mobility"]
            form["ticket_max"] = "9000000"
            saved = await browser.post(f"/investors/{investor.id}/thesis", data=form)
            assert saved.status_code == 303
        thesis = await InvestorThesis.get(organization_id=investor.id)
        assert thesis.sectors == ["energy", "water"]
        assert thesis.ticket_min_minor == 10_000_000 and thesis.ticket_max_minor == 900_000_000
        assert thesis.regions == ["Madrid", "Lisboa"]

    async def test_an_unverified_investor_edits_its_thesis_but_sees_no_deal_flow(
        self, client: httpx.AsyncClient
    ) -> None:
        world = await helpers.deal(client, startups=1, verified=False)
        async with signed_in(client, world.partner) as (browser, _):
            thesis = await browser.get(f"/investors/{world.investor.id}/thesis")
            assert thesis.status_code == 200
            assert "has not verified" in thesis.text
            flow = await browser.get(f"/investors/{world.investor.id}/dealflow")
            assert flow.status_code == 403
            assert "Startup 1" not in flow.text


class TestProfilePage:
    async def test_opt_in_and_consent_are_separate(self, client: httpx.AsyncClient) -> None:
        owner = await factories.person(client)
        org = await factories.make_org(
            kind=OrganizationKind.university, members={owner.user: Role.owner}
        )
        async with signed_in(client, owner) as (browser, csrf):
            page = await browser.get(f"/startups/{org.id}/profile")
            assert page.status_code == 200
            # A university asks for no funding: the form has no field for it.
            assert 'name="funding_ask"' not in page.text
            bad = await browser.post(
                f"/startups/{org.id}/profile",
                data={
                    "csrf_token": csrf,
                    "dealflow_opt_in": "on",
                    "text": "Sensors for rivers",
                },
            )
            assert bad.status_code == 422
            assert "Choose at least one sector" in bad.text and "Sensors for rivers" in bad.text
            assert not await StartupProfile.exists(organization_id=org.id)
            asking = await browser.post(
                f"/startups/{org.id}/profile",
                data={
                    "csrf_token": csrf,
                    "sectors": "water",
                    "funding_ask": "250000",
                    "text": "Sensors for rivers",
                },
            )
            assert asking.status_code == 422
            assert "Only a startup asks investors for funding." in asking.text
            assert not await StartupProfile.exists(organization_id=org.id)
            saved = await browser.post(
                f"/startups/{org.id}/profile",
                data={
                    "csrf_token": csrf,
                    "dealflow_opt_in": "on",
                    "sectors": "water",
                    "stage": "seed",
                    "region": "Sevilla",
                    "text": "Sensors for rivers",
                },
            )
            assert saved.status_code == 303
        profile = await StartupProfile.get(organization_id=org.id)
        assert profile.dealflow_opt_in and not profile.share_scores
        assert profile.funding_ask_minor is None and profile.sectors == ["water"]


class TestFlows:
    async def test_watch_ask_accept_through_the_pages(self, client: httpx.AsyncClient) -> None:
        world = await helpers.deal(client, startups=1)
        startup = world.startups[0]
        base = f"/investors/{world.investor.id}"
        async with (
            signed_in(client, world.partner) as (investor_browser, investor_csrf),
            signed_in(client, startup.owner) as (startup_browser, startup_csrf),
        ):
            watched = await investor_browser.post(
                f"{base}/watchlist/{startup.org.id}",
                data={"csrf_token": investor_csrf, "note": "Strong team"},
            )
            assert watched.status_code == 303
            assert (await Watch.get(investor_id=world.investor.id)).note == "Strong team"
            listed = await investor_browser.get(f"{base}/watchlist")
            assert "Strong team" in listed.text and "Startup 1" in listed.text
            empty = await investor_browser.post(
                f"{base}/startups/{startup.org.id}/intro",
                data={"csrf_token": investor_csrf, "message": "  "},
            )
            assert empty.status_code == 422 and "This field is required." in empty.text
            asked = await investor_browser.post(
                f"{base}/startups/{startup.org.id}/intro",
                data={"csrf_token": investor_csrf, "message": "Coffee next week?"},
            )
            assert asked.status_code == 303
            intro = await IntroRequest.get(investor_id=world.investor.id)
            interest = await startup_browser.get(f"/startups/{startup.org.id}/interest")
            assert "Coffee next week?" in interest.text and "Seed Fund" in interest.text
            assert world.partner.user.email not in interest.text
            accepted = await startup_browser.post(
                f"/intro-requests/{intro.id}/accept",
                data={"csrf_token": startup_csrf, "reply": "Sure"},
            )
            assert accepted.status_code == 303
            assert (await IntroRequest.get(id=intro.id)).status is IntroStatus.accepted
            interest = await startup_browser.get(f"/startups/{startup.org.id}/interest")
            assert world.partner.user.email in interest.text
            intros = await investor_browser.get(f"{base}/intros")
            assert startup.owner.user.email in intros.text and "Sure" in intros.text
            removed = await investor_browser.post(
                f"{base}/watchlist/{startup.org.id}/remove", data={"csrf_token": investor_csrf}
            )
            assert removed.status_code == 303
            assert not await Watch.exists(investor_id=world.investor.id)

    async def test_city_picks_page(self, client: httpx.AsyncClient, app: Starlette) -> None:
        world = await helpers.deal(client, startups=2)
        curator = await factories.person(client)
        city = await factories.make_org(
            kind=OrganizationKind.government, name="Sevilla", members={curator.user: Role.manager}
        )
        challenge = await make_draft_challenge(city)
        await Application.create(
            challenge=challenge,
            organization=world.startups[0].org,
            title="Plan",
            summary="Plan",
            status=ApplicationStatus.submitted,
        )
        async with signed_in(client, curator) as (browser, csrf):
            page = await browser.get(f"/cities/{city.id}/picks")
            assert page.status_code == 200
            assert "Startup 1" in page.text and "Startup 2" not in page.text
            bad = await browser.post(
                f"/cities/{city.id}/picks",
                data={"csrf_token": csrf, "startup_id": "x", "note": "n"},
            )
            assert bad.status_code == 422
            added = await browser.post(
                f"/cities/{city.id}/picks",
                data={
                    "csrf_token": csrf,
                    "startup_id": str(world.startups[0].org.id),
                    "note": "Buses on time",
                },
            )
            assert added.status_code == 303
        assert (await CityPick.get(city_id=city.id)).note == "Buses on time"
        async with signed_in(client, world.partner) as (investor_browser, _):
            flow = await investor_browser.get(f"/investors/{world.investor.id}/dealflow")
            assert "City picks" in flow.text and "Buses on time" in flow.text


class TestPagination:
    async def test_the_watchlist_page_goes_back_50_at_a_time(
        self, client: httpx.AsyncClient
    ) -> None:
        investor, partner = await helpers.make_investor(client)
        for n in range(55):
            startup = await helpers.make_startup(client, name=f"Watched {n:02d}", with_token=False)
            await Watch.create(investor=investor, startup=startup.org)
        async with signed_in(client, partner) as (browser, _):
            first = await browser.get(f"/investors/{investor.id}/watchlist")
            assert first.text.count('class="card"') == 50
            assert "Watched 54" in first.text and "Watched 04" not in first.text
            older = re.search(r'href="(/investors/\d+/watchlist\?cursor=\d+)"', first.text)
            assert older, "no link to the older ones"
            rest = await browser.get(older.group(1))
            assert rest.text.count('class="card"') == 5
            assert "Watched 00" in rest.text and "?cursor=" not in rest.text
