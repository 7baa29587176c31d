"""How long a proposal over its threshold has waited for the city's answer, in words: no
"waiting 0 days", and one day in the singular."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import time_machine

from tests import factories
from tests.challenges.helpers import City
from tests.participation.helpers import city, propose, support


async def _over_the_threshold(client: httpx.AsyncClient) -> tuple[dict[str, Any], City]:
    the_city = await city(client)
    answer = await client.put(
        f"/api/v1/organizations/{the_city.org.id}/proposal-threshold",
        json={"supports": 1},
        headers=the_city.manager.headers,
    )
    assert answer.status_code == 200, answer.text
    created = await propose(client, await factories.person(client))
    await support(client, await factories.person(client), int(created["id"]))
    return created, the_city


class TestWaitingDays:
    async def test_the_first_day_reads_since_today_then_one_day(
        self, client: httpx.AsyncClient
    ) -> None:
        created, _ = await _over_the_threshold(client)
        detail = await client.get(f"/proposals/{created['id']}")
        listed = await client.get("/proposals")
        for page in (detail, listed):
            assert page.status_code == 200
            assert "0 days" not in page.text
            assert "waiting since today" in page.text
        assert "Over the threshold: waiting since today for the city" in detail.text
        with time_machine.travel(datetime.now(UTC) + timedelta(days=1, hours=1), tick=False):
            detail = await client.get(f"/proposals/{created['id']}")
            listed = await client.get("/proposals")
        for page in (detail, listed):
            assert "waiting 1 day for the city" in page.text
            assert "1 days" not in page.text
            assert "since today" not in page.text
        with time_machine.travel(datetime.now(UTC) + timedelta(days=2, hours=1), tick=False):
            listed = await client.get("/proposals")
        assert "waiting 2 days for the city" in listed.text

    async def test_an_answer_the_same_day_says_so(self, client: httpx.AsyncClient) -> None:
        created, the_city = await _over_the_threshold(client)
        answered = await client.post(
            f"/api/v1/proposals/{created['id']}/response",
            json={"status": "under_study", "text": "The lighting office will survey it."},
            headers=the_city.manager.headers,
        )
        assert answered.status_code == 200, answered.text
        page = await client.get(f"/proposals/{created['id']}")
        assert "The city answered the same day." in page.text
        assert "after 0 days" not in page.text
