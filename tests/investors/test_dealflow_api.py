"""The deal flow API: who sees it, what it shows, what it never shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette

from service import db
from service.accounts.models import Membership, OrganizationKind, Role
from service.investors.models import CityPick, ProfileView, ProfileViewDay
from tests import factories
from tests.investors import helpers
from tests.rewards.test_pages import browser


def url(investor_id: int, rest: str = "dealflow") -> str:
    return f"/api/v1/investors/{investor_id}/{rest}"


class TestWhoSees:
    async def test_a_verified_investor_sees_its_ranked_list(
        self, client: httpx.AsyncClient
    ) -> None:
        world = await helpers.deal(client, startups=3)
        response = await client.get(url(world.investor.id), headers=world.partner.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert [i["name"] for i in body["items"]] == ["Startup 1", "Startup 2", "Startup 3"]
        first = body["items"][0]
        assert first["rank"] == 1 and 0 < first["score"] <= 1
        assert first["reasons"][0]["code"] == "sector"
        assert "Mobility" in first["reasons"][0]["text"]
        assert first["funding_ask"] == {"amount_minor": 30_000_000, "currency": "EUR"}
        assert body["next_cursor"] is None

    async def test_an_unverified_investor_gets_nothing(self, client: httpx.AsyncClient) -> None:
        world = await helpers.deal(client, startups=2, verified=False)
        for rest in (
            "dealflow",
            "dealflow.csv",
            "watchlist",
            f"startups/{world.startups[0].org.id}",
        ):
            response = await client.get(url(world.investor.id, rest), headers=world.partner.headers)
            assert response.status_code == 403, (rest, response.text)
            assert "Startup 1" not in response.text

    async def test_a_startup_member_and_a_visitor_get_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        world = await helpers.deal(client, startups=2)
        startup_owner = world.startups[0].owner
        response = await client.get(url(world.investor.id), headers=startup_owner.headers)
        assert response.status_code == 404
        response = await client.get(url(world.investor.id))
        assert response.status_code == 401
        _, other = await helpers.make_investor(client, name="Other Fund")
        response = await client.get(url(world.investor.id), headers=other.headers)
        assert response.status_code == 404

    async def test_a_non_investor_organization_is_not_found(
        self, client: httpx.AsyncClient
    ) -> None:
        person = await factories.person(client)
        org = await factories.make_org(
            kind=OrganizationKind.startup, members={person.user: factories.Role.owner}
        )
        response = await client.get(url(org.id), headers=person.headers)
        assert response.status_code == 404


class TestOptIn:
    async def test_a_startup_that_did_not_opt_in_appears_nowhere(
        self, client: httpx.AsyncClient
    ) -> None:
        world = await helpers.deal(client, startups=1)
        hidden = await helpers.make_startup(client, name="Hidden Venture", opt_in=False)
        await helpers.rank(world.investor, [hidden.org])  # even if matching stored it
        city = await factories.make_org(kind=OrganizationKind.government, name="City Z")
        await helpers.win(city, hidden.org)
        async with db.transaction(None):
            # Pinned by a city before it opted out: still not shown.
            await CityPick.create(city=city, startup=hidden.org, note="Hidden Venture rocks")
        h = world.partner.headers
        bodies = [
            (await client.get(url(world.investor.id), headers=h)).text,
            (await client.get(url(world.investor.id, "dealflow?won=true"), headers=h)).text,
            (await client.get(url(world.investor.id, "dealflow.csv"), headers=h)).text,
            (await client.get(url(world.investor.id, "watchlist"), headers=h)).text,
        ]
        detail = await client.get(url(world.investor.id, f"startups/{hidden.org.id}"), headers=h)
        assert detail.status_code == 404
        bodies.append(detail.text)
        watch = await client.put(
            url(world.investor.id, f"watchlist/{hidden.org.id}"), json={}, headers=h
        )
        assert watch.status_code == 404
        intro = await client.post(
            "/api/v1/intro-requests",
            json={
                "investor_organization_id": world.investor.id,
                "startup_organization_id": hidden.org.id,
                "message": "Hello",
            },
            headers=h,
        )
        assert intro.status_code == 404
        for body in bodies:
            assert "Hidden Venture" not in body
        assert "Startup 1" in bodies[0] and "Startup 1" in bodies[2]

    async def test_a_startup_opting_out_leaves_the_list_and_the_watchlist(
        self, client: httpx.AsyncClient
    ) -> None:
        world = await helpers.deal(client, startups=2)
        h = world.partner.headers
        target = world.startups[1].org
        assert (
            await client.put(url(world.investor.id, f"watchlist/{target.id}"), json={}, headers=h)
        ).status_code == 204
        from service import db
        from service.matching.models import StartupProfile

        async with db.transaction(None):
            await StartupProfile.filter(organization_id=target.id).update(dealflow_opt_in=False)
        assert "Startup 2" not in (await client.get(url(world.investor.id), headers=h)).text
        assert (
            "Startup 2"
            not in (await client.get(url(world.investor.id, "watchlist"), headers=h)).text
        )


class TestFiltersAndPages:
    async def test_filters_sort_and_cursor(self, client: httpx.AsyncClient) -> None:
        investor, partner = await helpers.make_investor(client)
        a = await helpers.make_startup(client, name="Alpha", sectors=("energy",), ask=5_000_000)
        b = await helpers.make_startup(client, name="Beta", stage="series_a", ask=90_000_000)
        c = await helpers.make_startup(client, name="Gamma", region="Lisboa", ask=20_000_000)
        await helpers.rank(investor, [a.org, b.org, c.org])
        city = await factories.make_org(kind=OrganizationKind.government, name="City W")
        await helpers.win(city, c.org, delivered=0)
        h = partner.headers

        async def names(query: str) -> list[str]:
            response = await client.get(url(investor.id, f"dealflow?{query}"), headers=h)
            assert response.status_code == 200, response.text
            return [i["name"] for i in response.json()["items"]]

        assert await names("sector=energy") == ["Alpha"]
        assert await names("stage=series_a") == ["Beta"]
        assert await names("region=lisboa") == ["Gamma"]
        assert await names("ask_min=10000000&ask_max=50000000") == ["Gamma"]
        assert await names("won=true") == ["Gamma"]
        assert await names("delivered=true") == []
        assert await names("sort=ask_desc") == ["Beta", "Gamma", "Alpha"]
        assert await names("sort=wins") == ["Gamma", "Alpha", "Beta"]
        first = await client.get(url(investor.id, "dealflow?limit=2"), headers=h)
        assert [i["name"] for i in first.json()["items"]] == ["Alpha", "Beta"]
        cursor = first.json()["next_cursor"]
        assert await names(f"limit=2&cursor={cursor}") == ["Gamma"]

    async def test_bad_filters_name_the_field(self, client: httpx.AsyncClient) -> None:
        world = await helpers.deal(client, startups=1)
        h = world.partner.headers
        response = await client.get(url(world.investor.id, "dealflow?sector=spaceships"), headers=h)
        assert response.status_code == 422
        assert "sector" in response.json()["fields"]
        response = await client.get(
            url(world.investor.id, "dealflow?ask_min=10&ask_max=5"), headers=h
        )
        assert response.status_code == 422
        assert "ask_max" in response.json()["fields"]

    async def test_track_record_with_links(self, client: httpx.AsyncClient) -> None:
        world = await helpers.deal(client, startups=1)
        city = await factories.make_org(kind=OrganizationKind.government, name="Sevilla")
        challenge_id = await helpers.win(city, world.startups[0].org, delivered=2)
        body = (await client.get(url(world.investor.id), headers=world.partner.headers)).json()
        track = body["items"][0]["track_record"]
        assert track["milestones_delivered"] == 2
        assert track["cities"] == ["Sevilla"]
        assert track["challenges_won"][0]["url"] == f"/challenges/{challenge_id}"

    async def test_csv_lists_the_current_list(self, client: httpx.AsyncClient) -> None:
        world = await helpers.deal(client, startups=3)
        response = await client.get(
            url(world.investor.id, "dealflow.csv?stage=seed"), headers=world.partner.headers
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        lines = response.text.strip().splitlines()
        assert lines[0].startswith("rank,startup_id,name")
        assert len(lines) == 4 and "Startup 3" in lines[3]


class TestJudgeScores:
    async def test_scores_only_with_consent(self, client: httpx.AsyncClient) -> None:
        investor, partner = await helpers.make_investor(client)
        shy = await helpers.make_startup(client, name="Shy", share_scores=False)
        open_ = await helpers.make_startup(client, name="Open", share_scores=True)
        await helpers.rank(investor, [shy.org, open_.org])
        city = await factories.make_org(kind=OrganizationKind.government, name="City Q")
        await helpers.win(city, shy.org, comment="Secret comment about Shy")
        await helpers.win(city, open_.org, comment="Public comment about Open")
        h = partner.headers
        shy_body = await client.get(url(investor.id, f"startups/{shy.org.id}"), headers=h)
        assert shy_body.status_code == 200
        assert shy_body.json()["history"][0]["won"] is True
        assert shy_body.json()["history"][0]["mean_score"] is None
        assert "Secret comment" not in shy_body.text
        open_body = await client.get(url(investor.id, f"startups/{open_.org.id}"), headers=h)
        line = open_body.json()["history"][0]
        # Weighted 60/40: 8 * 0.6 + 6 * 0.4 = 7.2
        assert line["mean_score"] == 7.2
        assert line["comments"] == ["Public comment about Open"]
        # Neither the list nor the CSV carries scores.
        for rest in ("dealflow", "dealflow.csv"):
            text = (await client.get(url(investor.id, rest), headers=h)).text
            assert "Secret comment" not in text and "Public comment" not in text

    async def test_a_visit_counts_once_per_viewer_and_day(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        world = await helpers.deal(client, startups=1)
        target = world.startups[0].org
        detail = url(world.investor.id, f"startups/{target.id}")

        async def views() -> int:
            view = await ProfileView.get(investor_id=world.investor.id, startup_id=target.id)
            return view.views

        # Reloads, through the API and the page, count once.
        for _ in range(2):
            assert (await client.get(detail, headers=world.partner.headers)).status_code == 200
        async with browser(app, world.partner.user) as web:
            page = await web.get(f"/investors/{world.investor.id}/startups/{target.id}")
            assert page.status_code == 200
        assert await views() == 1
        # A colleague of the same fund is another viewer.
        colleague = await factories.person(client)
        async with db.transaction(None):
            await Membership.create(
                user=colleague.user, organization=world.investor, role=Role.manager
            )
        for _ in range(2):
            assert (await client.get(detail, headers=colleague.headers)).status_code == 200
        assert await views() == 2
        # The next day, the first viewer counts again (their visit of today moved to yesterday).
        async with db.transaction(None):
            await ProfileViewDay.filter(viewer=f"user:{world.partner.user.id}").update(
                day=datetime.now(UTC).date() - timedelta(days=1)
            )
        await client.get(detail, headers=world.partner.headers)
        await client.get(detail, headers=world.partner.headers)
        assert await views() == 3
        viewers = await client.get(
            f"/api/v1/startups/{target.id}/viewers", headers=world.startups[0].owner.headers
        )
        assert [v["views"] for v in viewers.json()["items"]] == [3]


class TestCityPicks:
    async def test_a_curator_pins_a_startup_on_top(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        world = await helpers.deal(client, startups=2)
        curator = await factories.person(client)
        city = await factories.make_org(
            kind=OrganizationKind.government,
            name="Curitiba",
            members={curator.user: factories.Role.editor},
        )
        target = world.startups[1].org
        response = await client.post(
            f"/api/v1/cities/{city.id}/picks",
            json={"startup_organization_id": target.id, "note": "Great pilot in our buses"},
            headers=curator.headers,
        )
        assert response.status_code == 200, response.text
        body = (await client.get(url(world.investor.id), headers=world.partner.headers)).json()
        assert body["city_picks"] == [
            {
                "startup_organization_id": target.id,
                "name": "Startup 2",
                "city_organization_id": city.id,
                "city_name": "Curitiba",
                "note": "Great pilot in our buses",
            }
        ]
        # A startup member cannot pick for the city.
        refused = await client.post(
            f"/api/v1/cities/{city.id}/picks",
            json={"startup_organization_id": target.id},
            headers=world.startups[0].owner.headers,
        )
        assert refused.status_code == 404
        removed = await client.delete(
            f"/api/v1/cities/{city.id}/picks/{target.id}", headers=curator.headers
        )
        assert removed.status_code == 204
        body = (await client.get(url(world.investor.id), headers=world.partner.headers)).json()
        assert body["city_picks"] == []
