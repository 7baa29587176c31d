"""Public search, filters, sorting, pagination and the query count of the list."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from service import db
from service.accounts.models import OrganizationKind
from service.challenges.models import ChallengeStatus
from tests import factories
from tests.challenges.factories import make_draft_challenge

S = ChallengeStatus


async def seed(count: int, **fields: Any) -> list[int]:
    org = await factories.make_org(kind=OrganizationKind.government, name="Seed City")
    now = datetime.now(UTC)
    ids = []
    async with db.transaction(None):
        for n in range(count):
            challenge = await make_draft_challenge(
                org,
                title=f"Challenge {n}",
                status=S.open,
                published_at=now - timedelta(days=n),
                opens_at=now - timedelta(days=n + 1),
                closes_at=now + timedelta(days=n + 1),
                reward_amount_minor=1000 * (n + 1),
                **fields,
            )
            ids.append(challenge.id)
    return ids


async def publish_one(org_name: str = "City", **fields: Any) -> int:
    org = await factories.make_org(kind=OrganizationKind.government, name=org_name)
    now = datetime.now(UTC)
    defaults: dict[str, Any] = {
        "status": S.open,
        "published_at": now,
        "opens_at": now - timedelta(days=1),
        "closes_at": now + timedelta(days=10),
    }
    defaults.update(fields)
    title = str(defaults.get("title", "Challenge"))
    summary = str(defaults.get("summary", "Help school buses arrive on time."))
    defaults.setdefault("search_text", f"{title} {summary}".lower())
    async with db.transaction(None):
        challenge = await make_draft_challenge(org, **defaults)
    return challenge.id


async def ids_of(client: httpx.AsyncClient, **params: Any) -> list[int]:
    response = await client.get("/api/v1/challenges", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


class TestSearchAndFilters:
    async def test_full_text_search_finds_exactly_the_matching(
        self, client: httpx.AsyncClient
    ) -> None:
        bus = await publish_one(title="Faster school buses", summary="Buses are late.")
        water = await publish_one(
            title="Water leaks",
            summary="Find leaks in old pipes.",
            problem_statement="Pipes burst every winter in the centre.",
        )
        assert await ids_of(client, q="buses") == [bus]
        assert await ids_of(client, q="leaks pipes") == [water]
        assert await ids_of(client, q="winter") == [water]
        assert await ids_of(client, q="helicopter") == []
        assert sorted(await ids_of(client)) == sorted([bus, water])

    async def test_filters(self, client: httpx.AsyncClient) -> None:
        now = datetime.now(UTC)
        a = await publish_one(
            area="water",
            sdgs=[6, 11],
            region="North",
            eligible_kinds=["startup"],
            reward_amount_minor=500_000,
            closes_at=now + timedelta(days=3),
        )
        b = await publish_one(
            area="mobility",
            sdgs=[11],
            region="South",
            eligible_kinds=["university"],
            reward_amount_minor=2_000_000,
            closes_at=now + timedelta(days=40),
        )
        c = await publish_one(
            area="water",
            sdgs=[3],
            region="north",
            status=S.closed,
            eligible_kinds=["startup", "research_center"],
            reward_amount_minor=100,
        )
        draft = await publish_one(area="water", status=S.draft, published_at=None)
        assert sorted(await ids_of(client, area="water")) == sorted([a, c])
        assert sorted(await ids_of(client, sdg=11)) == sorted([a, b])
        assert sorted(await ids_of(client, region="NORTH")) == sorted([a, c])
        assert sorted(await ids_of(client, eligible_kind="startup")) == sorted([a, c])
        # A plain number in the platform currency: EUR 5,000 (the rewards are in cents).
        assert sorted(await ids_of(client, min_reward=5_000)) == sorted([a, b])
        before = (now + timedelta(days=5)).isoformat()
        assert await ids_of(client, closing_before=before, status="open") == [a]
        assert await ids_of(client, status="closed") == [c]
        assert draft not in await ids_of(client)

    async def test_sorting(self, client: httpx.AsyncClient) -> None:
        ids = await seed(5)
        assert await ids_of(client, sort="newest") == ids
        assert await ids_of(client, sort="closing") == ids
        assert await ids_of(client, sort="reward") == list(reversed(ids))

    async def test_bad_query_names_the_field(self, client: httpx.AsyncClient) -> None:
        for params, field in (
            ({"sdg": 18}, "sdg"),
            ({"sort": "random"}, "sort"),
            ({"status": "draft"}, "status"),
            ({"cursor": "garbage"}, "cursor"),
            ({"limit": 0}, "limit"),
        ):
            response = await client.get("/api/v1/challenges", params=params)
            assert response.status_code == 422, params
            assert field in response.json()["fields"], response.json()


class TestPagination:
    @pytest.mark.parametrize("sort", ["newest", "closing", "reward"])
    async def test_never_repeats_or_skips_while_items_are_added(
        self, client: httpx.AsyncClient, sort: str
    ) -> None:
        original = await seed(25)
        seen: list[int] = []
        cursor = None
        added = []
        while True:
            params: dict[str, Any] = {"limit": 7, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/api/v1/challenges", params=params)).json()
            seen += [item["id"] for item in page["items"]]
            # A new challenge lands between two pages.
            added.append(await publish_one(title=f"Late arrival {len(added)}"))
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)), "an item was repeated"
        assert set(original) <= set(seen), "an item was skipped"


class TestQueryCount:
    async def _queries_for(
        self, client: httpx.AsyncClient, url: str, caplog: pytest.LogCaptureFixture
    ) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            response = await client.get(url)
        assert response.status_code == 200
        return len([r for r in caplog.records if r.name == "tortoise.db_client"])

    async def test_list_runs_the_same_queries_for_10_and_100_items(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        await seed(100)
        for url in ("/api/v1/challenges?limit={n}", "/challenges?limit={n}"):
            ten = await self._queries_for(client, url.format(n=10), caplog)
            hundred = await self._queries_for(client, url.format(n=100), caplog)
            assert ten == hundred, url
            assert ten >= 1
