"""Browsing proposals: search, filters, sorting, cursor pagination, constant query count."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from service import db
from service.participation.models import Proposal, ProposalStatus
from tests import factories


async def seed(count: int, **fields: object) -> list[int]:
    author = await factories.make_user()
    ids = []
    async with db.transaction(None):
        for n in range(count):
            values: dict[str, object] = {
                "title": f"Problem {n}",
                "description": "A problem of the neighbourhood that needs a solution.",
                "region": "Madrid",
                "area": "mobility",
                "sdgs": [11],
                "support_count": n,
                "search_text": f"problem {n} a problem of the neighbourhood [sdg:11]",
            }
            values.update(fields)
            proposal = await Proposal.create(author=author, **values)
            ids.append(proposal.id)
    return ids


class TestFilters:
    async def test_search_filters_and_sorts(self, client: httpx.AsyncClient) -> None:
        buses = await seed(
            2, title="Late buses", search_text="late buses on the hill", area="mobility"
        )
        water = await seed(
            1,
            title="Leaking pipes",
            search_text="leaking pipes [sdg:6]",
            area="water",
            sdgs=[6],
            region="Sevilla",
        )
        answered = await seed(
            1, title="Dark park", search_text="dark park", status=ProposalStatus.declined
        )
        hidden = await seed(
            1, title="Spam", search_text="late buses spam", hidden_at=datetime.now(UTC)
        )

        async def ids(**params: object) -> list[int]:
            response = await client.get("/api/v1/proposals", params=params)
            assert response.status_code == 200, response.text
            return [i["id"] for i in response.json()["items"]]

        assert set(await ids(q="buses")) == set(buses)
        assert await ids(region="sevilla") == water
        assert await ids(area="water") == water
        assert await ids(sdg=6) == water
        assert await ids(status="declined") == answered
        assert hidden[0] not in await ids()
        newest = await ids(sort="newest")
        assert newest == sorted(newest, reverse=True)
        supported = (await client.get("/api/v1/proposals")).json()["items"]
        counts = [i["supporters"] for i in supported]
        assert counts == sorted(counts, reverse=True)
        bad = await client.get("/api/v1/proposals", params={"sort": "random", "sdg": 40})
        assert bad.status_code == 422
        assert {"sort", "sdg"} <= set(bad.json()["fields"])
        page = await client.get("/proposals", params={"q": "pipes"})
        assert "Leaking pipes" in page.text
        assert "Late buses" not in page.text

    async def test_pages_follow_the_cursor_without_repeats(self, client: httpx.AsyncClient) -> None:
        ids = await seed(25, support_count=3)
        seen: list[int] = []
        cursor = None
        for _ in range(10):
            params: dict[str, object] = {"limit": 10}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/api/v1/proposals", params=params)).json()
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(ids)
        assert len(seen) == len(set(seen))
        assert (
            await client.get("/api/v1/proposals", params={"cursor": "nonsense"})
        ).status_code == 422
        html = await client.get("/proposals")
        assert "More proposals" in html.text


class TestQueryCount:
    async def _queries(
        self, client: httpx.AsyncClient, url: str, caplog: pytest.LogCaptureFixture
    ) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            response = await client.get(url)
        assert response.status_code == 200
        return len([r for r in caplog.records if r.name == "tortoise.db_client"])

    async def test_lists_run_the_same_queries_for_5_and_60_items(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        await seed(5, threshold_reached_at=datetime.now(UTC) - timedelta(days=2))
        few_api = await self._queries(client, "/api/v1/proposals?limit=100", caplog)
        few_page = await self._queries(client, "/proposals", caplog)
        few_home = await self._queries(client, "/", caplog)
        await seed(55, threshold_reached_at=datetime.now(UTC) - timedelta(days=2))
        assert await self._queries(client, "/api/v1/proposals?limit=100", caplog) == few_api
        assert await self._queries(client, "/proposals", caplog) == few_page
        assert await self._queries(client, "/", caplog) == few_home
        assert few_api >= 1


async def test_a_proposed_problem_is_found_by_its_goal_and_words(client: httpx.AsyncClient) -> None:
    from tests.participation.helpers import propose

    created = await propose(client, await factories.person(client), sdgs=[7, 1])
    await propose(
        client,
        await factories.person(client),
        title="Noisy bars at night",
        sdgs=[17],
        description="The bars of the square play music until four in the morning.",
    )

    async def ids(**params: object) -> list[int]:
        return [
            i["id"] for i in (await client.get("/api/v1/proposals", params=params)).json()["items"]
        ]

    assert await ids(sdg=7) == [created["id"]]
    assert await ids(sdg=1) == [created["id"]]
    assert await ids(q="calle mayor") == [created["id"]]
