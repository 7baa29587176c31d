"""Intro requests (limit, expiry, contacts only on accept) and the watchlist's news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import time_machine
from starlette.applications import Starlette

from service.accounts.models import OrganizationKind
from service.audit.models import AuditEvent
from service.investors import tasks
from service.investors.models import IntroRequest, IntroStatus
from service.notifications.models import Notification
from tests import factories
from tests.investors import helpers


async def ask(
    client: httpx.AsyncClient, world: helpers.Deal, startup_id: int, message: str = "Let us talk"
) -> httpx.Response:
    return await client.post(
        "/api/v1/intro-requests",
        json={
            "investor_organization_id": world.investor.id,
            "startup_organization_id": startup_id,
            "message": message,
        },
        headers=world.partner.headers,
    )


class TestIntroRequests:
    async def test_contacts_appear_in_no_response_before_accept(
        self, client: httpx.AsyncClient
    ) -> None:
        world = await helpers.deal(client, startups=1)
        startup = world.startups[0]
        investor_email = world.partner.user.email
        startup_email = startup.owner.user.email
        seen: list[str] = []
        created = await ask(client, world, startup.org.id)
        assert created.status_code == 201, created.text
        intro_id = created.json()["id"]
        seen.append(created.text)
        for who in (world.partner, startup.owner):
            seen.append(
                (await client.get(f"/api/v1/intro-requests/{intro_id}", headers=who.headers)).text
            )
        h = world.partner.headers
        for rest in ("dealflow", "dealflow.csv", "watchlist", f"startups/{startup.org.id}"):
            seen.append(
                (await client.get(f"/api/v1/investors/{world.investor.id}/{rest}", headers=h)).text
            )
        for body in seen:
            assert investor_email not in body and startup_email not in body
        # Pages of both sides too.
        for person, path in (
            (world.partner, f"/investors/{world.investor.id}/intros"),
            (world.partner, f"/investors/{world.investor.id}/startups/{startup.org.id}"),
            (startup.owner, f"/startups/{startup.org.id}/interest"),
        ):
            async with httpx.AsyncClient(
                transport=client._transport, base_url="http://testserver"
            ) as browser:
                await factories.web_signin(browser, person.user)
                page = await browser.get(path)
                assert page.status_code == 200, (path, page.text[:300])
                assert investor_email not in page.text.replace(person.user.email, "")
                assert startup_email not in page.text.replace(person.user.email, "")

        accepted = await client.post(
            f"/api/v1/intro-requests/{intro_id}/accept",
            json={"message": "Happy to talk"},
            headers=startup.owner.headers,
        )
        assert accepted.status_code == 200, accepted.text
        body = accepted.json()
        assert body["status"] == "accepted"
        assert body["investor_contact"]["email"] == investor_email
        assert body["startup_contact"]["email"] == startup_email
        seen_by_investor = await client.get(f"/api/v1/intro-requests/{intro_id}", headers=h)
        assert startup_email in seen_by_investor.text
        # Accepting twice is harmless.
        again = await client.post(
            f"/api/v1/intro-requests/{intro_id}/accept", json={}, headers=startup.owner.headers
        )
        assert again.status_code == 200
        assert again.json()["reply"] == "Happy to talk"
        assert await AuditEvent.filter(action="investors.intro.accepted").count() == 1
        declined_after = await client.post(
            f"/api/v1/intro-requests/{intro_id}/decline", json={}, headers=startup.owner.headers
        )
        assert declined_after.status_code == 409
        # Both sides were told.
        assert await Notification.filter(user_id=world.partner.user.id).count() >= 2
        assert await Notification.filter(user_id=startup.owner.user.id).count() >= 2

    async def test_only_the_startup_answers(self, client: httpx.AsyncClient) -> None:
        world = await helpers.deal(client, startups=1)
        intro_id = (await ask(client, world, world.startups[0].org.id)).json()["id"]
        response = await client.post(
            f"/api/v1/intro-requests/{intro_id}/accept", json={}, headers=world.partner.headers
        )
        assert response.status_code == 404
        assert (await IntroRequest.get(id=intro_id)).status is IntroStatus.open

    async def test_decline_shares_nothing(self, client: httpx.AsyncClient) -> None:
        world = await helpers.deal(client, startups=1)
        startup = world.startups[0]
        intro_id = (await ask(client, world, startup.org.id)).json()["id"]
        response = await client.post(
            f"/api/v1/intro-requests/{intro_id}/decline",
            json={"message": "Not now"},
            headers=startup.owner.headers,
        )
        assert response.status_code == 200
        assert response.json()["investor_contact"] is None
        assert world.partner.user.email not in response.text

    async def test_the_open_request_limit_holds(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        world = await helpers.deal(client, startups=3)
        limit = app.state.settings.intro_open_limit
        app.state.settings.intro_open_limit = 2
        try:
            assert (await ask(client, world, world.startups[0].org.id)).status_code == 201
            assert (await ask(client, world, world.startups[1].org.id)).status_code == 201
            third = await ask(client, world, world.startups[2].org.id)
            assert third.status_code == 409
            assert third.json()["error"] == "IntroLimitReached"
            assert await IntroRequest.filter(investor_id=world.investor.id).count() == 2
        finally:
            app.state.settings.intro_open_limit = limit

    async def test_one_open_request_per_startup_and_the_message_is_required(
        self, client: httpx.AsyncClient
    ) -> None:
        world = await helpers.deal(client, startups=1)
        target = world.startups[0].org.id
        assert (await ask(client, world, target)).status_code == 201
        again = await ask(client, world, target)
        assert again.status_code == 409 and again.json()["error"] == "IntroAlreadyOpen"
        empty = await ask(client, world, target, message="")
        assert empty.status_code == 422 and "message" in empty.json()["fields"]

    async def test_an_unverified_investor_cannot_ask(self, client: httpx.AsyncClient) -> None:
        world = await helpers.deal(client, startups=1, verified=False)
        response = await ask(client, world, world.startups[0].org.id)
        assert response.status_code == 403
        assert not await IntroRequest.exists()

    async def test_requests_expire_after_14_days(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        world = await helpers.deal(client, startups=2)
        startup = world.startups[0]
        intro_id = (await ask(client, world, startup.org.id)).json()["id"]
        with time_machine.travel(datetime.now(UTC) + timedelta(days=13), tick=True):
            assert await tasks.expire_intros(app.state.deps) == 0
        with time_machine.travel(datetime.now(UTC) + timedelta(days=14, minutes=1), tick=True):
            # Too late to accept, even before the cron ran (tokens last 15 minutes).
            startup.owner.token = await factories.token_for(client, startup.owner.user)
            world.partner.token = await factories.token_for(client, world.partner.user)
            late = await client.post(
                f"/api/v1/intro-requests/{intro_id}/accept",
                json={},
                headers=startup.owner.headers,
            )
            assert late.status_code == 409
            shown = await client.get(
                f"/api/v1/intro-requests/{intro_id}", headers=world.partner.headers
            )
            assert shown.json()["status"] == "expired"
            other = (await ask(client, world, world.startups[1].org.id)).json()["id"]
        with time_machine.travel(datetime.now(UTC) + timedelta(days=29), tick=True):
            assert await tasks.expire_intros(app.state.deps) == 2
            assert await tasks.expire_intros(app.state.deps) == 0
        assert (await IntroRequest.get(id=intro_id)).status is IntroStatus.expired
        assert (await IntroRequest.get(id=other)).status is IntroStatus.expired
        assert startup.owner.user.email not in late.text


class TestWatchlist:
    async def test_save_note_unsave(self, client: httpx.AsyncClient) -> None:
        world = await helpers.deal(client, startups=2)
        base = f"/api/v1/investors/{world.investor.id}/watchlist"
        h = world.partner.headers
        target = world.startups[1].org.id
        assert (
            await client.put(f"{base}/{target}", json={"note": "Met at demo day"}, headers=h)
        ).status_code == 204
        listed = (await client.get(base, headers=h)).json()["items"]
        assert [(i["name"], i["note"]) for i in listed] == [("Startup 2", "Met at demo day")]
        flow = (
            await client.get(f"/api/v1/investors/{world.investor.id}/dealflow", headers=h)
        ).json()
        assert [i["watched"] for i in flow["items"]] == [False, True]
        # The note is private: another investor's list of the same startup has no trace of it.
        other_org, other = await helpers.make_investor(client, name="Other")
        await helpers.rank(other_org, [world.startups[1].org])
        seen = await client.get(
            f"/api/v1/investors/{other_org.id}/startups/{target}", headers=other.headers
        )
        assert "Met at demo day" not in seen.text
        assert (await client.delete(f"{base}/{target}", headers=h)).status_code == 204
        assert (await client.get(base, headers=h)).json()["items"] == []

    async def test_watchers_hear_of_wins_and_milestones_once(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        world = await helpers.deal(client, startups=2)
        h = world.partner.headers
        watched = world.startups[0].org
        await client.put(
            f"/api/v1/investors/{world.investor.id}/watchlist/{watched.id}", json={}, headers=h
        )
        city = await factories.make_org(kind=OrganizationKind.government, name="Valparaíso")
        await helpers.win(city, watched, delivered=1)
        await helpers.win(city, world.startups[1].org, delivered=1)  # not watched
        before = await Notification.filter(user_id=world.partner.user.id).count()
        assert await tasks.notify_watchers(app.state.deps) == 2
        assert await tasks.notify_watchers(app.state.deps) == 0
        notices = await Notification.filter(user_id=world.partner.user.id).order_by("id")
        new = [n.body for n in notices[before:]]
        assert len(new) == 2
        assert any("won the challenge" in b and "Startup 1" in b for b in new)
        assert any("delivered the milestone" in b for b in new)


class TestLists:
    async def test_each_side_lists_its_requests_and_the_startup_its_viewers(
        self, client: httpx.AsyncClient
    ) -> None:
        world = await helpers.deal(client, startups=3)
        startup = world.startups[0]
        ids = [(await ask(client, world, s.org.id)).json()["id"] for s in world.startups]
        mine = await client.get(
            f"/api/v1/investors/{world.investor.id}/intro-requests?limit=2",
            headers=world.partner.headers,
        )
        assert mine.status_code == 200
        assert [i["id"] for i in mine.json()["items"]] == [ids[2], ids[1]]
        rest = await client.get(
            f"/api/v1/investors/{world.investor.id}/intro-requests?limit=2"
            f"&cursor={mine.json()['next_cursor']}",
            headers=world.partner.headers,
        )
        assert [i["id"] for i in rest.json()["items"]] == [ids[0]]
        assert rest.json()["next_cursor"] is None
        received = await client.get(
            f"/api/v1/startups/{startup.org.id}/intro-requests", headers=startup.owner.headers
        )
        assert [i["id"] for i in received.json()["items"]] == [ids[0]]
        assert world.partner.user.email not in received.text
        # Another startup's member sees none of it.
        other = world.startups[1].owner
        refused = await client.get(
            f"/api/v1/startups/{startup.org.id}/intro-requests", headers=other.headers
        )
        assert refused.status_code == 404
        await client.get(
            f"/api/v1/investors/{world.investor.id}/startups/{startup.org.id}",
            headers=world.partner.headers,
        )
        viewers = await client.get(
            f"/api/v1/startups/{startup.org.id}/viewers", headers=startup.owner.headers
        )
        assert [(v["investor_name"], v["views"]) for v in viewers.json()["items"]] == [
            ("Seed Fund", 1)
        ]
