"""Supports: once per person, withdrawable, counted once under concurrent clicks; the
threshold a city sets per region and the clock of its formal answer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import time_machine

from service import db
from service.audit.models import AuditEvent
from service.notifications.models import Notification
from service.participation.models import Proposal, Support
from tests import factories
from tests.participation.helpers import city, propose, support


class TestSupport:
    async def test_one_support_per_person_and_withdrawing_it(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await propose(client, await factories.person(client))
        url = f"/api/v1/proposals/{created['id']}/supports"
        fan = await factories.person(client)
        assert (await client.post(url)).status_code == 401
        assert await support(client, fan, created["id"]) == 1
        assert await support(client, fan, created["id"]) == 1
        mine = await client.get(f"/api/v1/proposals/{created['id']}", headers=fan.headers)
        assert mine.json()["supported_by_me"] is True
        withdrawn = await client.delete(url, headers=fan.headers)
        assert withdrawn.status_code == 200
        assert withdrawn.json() == {
            "proposal_id": created["id"],
            "supporters": 0,
            "supported": False,
        }
        assert await Support.all().count() == 0
        assert await AuditEvent.filter(action="proposal.support").count() == 1
        assert await AuditEvent.filter(action="proposal.unsupport").count() == 1

    async def test_unconfirmed_accounts_cannot_support(self, client: httpx.AsyncClient) -> None:
        created = await propose(client, await factories.person(client))
        unconfirmed = await factories.person(client, verified=False)
        response = await client.post(
            f"/api/v1/proposals/{created['id']}/supports", headers=unconfirmed.headers
        )
        assert response.status_code == 403
        assert (await Proposal.get(id=created["id"])).support_count == 0

    async def test_concurrent_clicks_are_counted_once(self, client: httpx.AsyncClient) -> None:
        created = await propose(client, await factories.person(client))
        url = f"/api/v1/proposals/{created['id']}/supports"
        people = [await factories.person(client) for _ in range(4)]
        # Each person clicks five times at once, all twenty requests in flight together.
        responses = await asyncio.gather(
            *[client.post(url, headers=p.headers) for p in people for _ in range(5)]
        )
        assert {r.status_code for r in responses} == {200}
        assert await Support.filter(proposal_id=created["id"]).count() == 4
        assert (await Proposal.get(id=created["id"])).support_count == 4
        assert await AuditEvent.filter(action="proposal.support").count() == 4

    async def test_supports_are_rate_limited(self, client: httpx.AsyncClient) -> None:
        created = await propose(client, await factories.person(client))
        url = f"/api/v1/proposals/{created['id']}/supports"
        fan = await factories.person(client)
        statuses = [(await client.post(url, headers=fan.headers)).status_code for _ in range(31)]
        assert statuses[:30] == [200] * 30
        assert statuses[30] == 429

    async def test_the_page_form_supports_and_withdraws(self, client: httpx.AsyncClient) -> None:
        created = await propose(client, await factories.person(client))
        fan = await factories.make_user()
        csrf = await factories.web_signin(client, fan)
        done = await client.post(f"/proposals/{created['id']}/support", data={"csrf_token": csrf})
        assert done.status_code == 303
        page = await client.get(f"/proposals/{created['id']}")
        assert "1 supporter" in page.text
        assert "Withdraw my support" in page.text
        await client.post(f"/proposals/{created['id']}/unsupport", data={"csrf_token": csrf})
        assert (await Proposal.get(id=created["id"])).support_count == 0


class TestThreshold:
    async def test_the_answer_clock_starts_at_the_threshold_and_stops_at_the_answer(
        self, client: httpx.AsyncClient
    ) -> None:
        the_city = await city(client)
        threshold = await client.put(
            f"/api/v1/organizations/{the_city.org.id}/proposal-threshold",
            json={"supports": 2},
            headers=the_city.manager.headers,
        )
        assert threshold.status_code == 200
        assert threshold.json() == {"region": "madrid", "supports": 2}
        refused = await client.put(
            f"/api/v1/organizations/{the_city.org.id}/proposal-threshold",
            json={"supports": 0},
            headers=the_city.manager.headers,
        )
        assert refused.status_code == 422
        assert "supports" in refused.json()["fields"]
        created = await propose(client, await factories.person(client))
        assert created["threshold"] == 2
        await support(client, await factories.person(client), created["id"])
        assert (await Proposal.get(id=created["id"])).threshold_reached_at is None
        await support(client, await factories.person(client), created["id"])
        reached = (await Proposal.get(id=created["id"])).threshold_reached_at
        assert reached is not None
        told = await Notification.filter(user_id=the_city.manager.user.id).values_list(
            "title", flat=True
        )
        assert told == ["A proposal of your region needs a formal answer"]
        assert await Notification.filter(user_id=the_city.editor.user.id).count() == 0
        with time_machine.travel(datetime.now(UTC) + timedelta(days=5, hours=1), tick=False):
            detail = (await client.get(f"/api/v1/proposals/{created['id']}")).json()
            assert detail["waiting_days"] == 5
            page = await client.get(f"/proposals/{created['id']}")
            assert "waiting 5 days for the city" in page.text
            waiting = (await client.get("/api/v1/proposals", params={"sort": "waiting"})).json()
            assert [i["id"] for i in waiting["items"]] == [created["id"]]
        # Five days have passed (tokens would have expired in between: move the clock's start).
        async with db.transaction(None):
            await Proposal.filter(id=created["id"]).update(
                threshold_reached_at=reached - timedelta(days=5, hours=1)
            )
        answered = await client.post(
            f"/api/v1/proposals/{created['id']}/response",
            json={"status": "under_study", "text": "The lighting office will survey it."},
            headers=the_city.manager.headers,
        )
        assert answered.status_code == 200, answered.text
        with time_machine.travel(datetime.now(UTC) + timedelta(days=30), tick=False):
            detail = (await client.get(f"/api/v1/proposals/{created['id']}")).json()
            # The clock stopped at the answer.
            assert detail["waiting_days"] == 5
            assert detail["status"] == "under_study"
            waiting = (await client.get("/api/v1/proposals", params={"sort": "waiting"})).json()
            assert waiting["items"] == []

    async def test_a_declined_answer_needs_a_reason_and_is_final(
        self, client: httpx.AsyncClient
    ) -> None:
        the_city = await city(client)
        created = await propose(client, await factories.person(client))
        url = f"/api/v1/proposals/{created['id']}/response"
        citizen = await factories.person(client)
        assert (
            await client.post(
                url, json={"status": "declined", "text": "No way."}, headers=citizen.headers
            )
        ).status_code == 403
        assert (
            await client.post(
                url, json={"status": "declined", "text": ""}, headers=the_city.manager.headers
            )
        ).status_code == 422
        declined = await client.post(
            url,
            json={"status": "declined", "text": "The street is private: the city cannot act."},
            headers=the_city.manager.headers,
        )
        assert declined.status_code == 200
        assert declined.json()["response"] == "The street is private: the city cannot act."
        again = await client.post(
            url,
            json={"status": "under_study", "text": "Second thoughts."},
            headers=the_city.manager.headers,
        )
        assert again.status_code == 409
