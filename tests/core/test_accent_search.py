"""Every search box ignores accents and case: "tuberias" finds "Tuberías", "CADIZ" finds
"Cádiz" (service.core.search), for challenges, proposals and the words of their translations.
On PostgreSQL here; tests/core/test_embedded_run.py runs the same searches on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from service import db
from service.accounts.models import OrganizationKind
from service.challenges.models import ChallengeStatus
from service.participation.models import Proposal
from service.translation.models import TranslatedText, Translation
from service.translation.service import text_hash
from tests import factories
from tests.challenges.factories import make_draft_challenge
from tests.participation.helpers import propose


async def _published_challenge(title: str, summary: str, region: str) -> int:
    city = await factories.make_org(kind=OrganizationKind.government, name="Ayuntamiento")
    now = datetime.now(UTC)
    async with db.transaction(None):
        challenge = await make_draft_challenge(
            city,
            title=title,
            summary=summary,
            region=region,
            status=ChallengeStatus.open,
            published_at=now - timedelta(days=1),
            opens_at=now - timedelta(days=1),
            search_text=f"{title} {summary}".lower(),
        )
    return challenge.id


async def _found(client: httpx.AsyncClient, path: str, **params: str) -> list[int]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


class TestChallengeSearch:
    @pytest.mark.parametrize("q", ["tuberias", "TUBERÍAS", "Tuberías", "tuberías agua"])
    async def test_accents_and_case_do_not_count(self, client: httpx.AsyncClient, q: str) -> None:
        wanted = await _published_challenge(
            "Tuberías sin fugas", "Detectar fugas en la red de AGUA potable.", "Andalucía"
        )
        await _published_challenge("Cut school-bus delays", "Buses arrive on time.", "North")
        assert await _found(client, "/api/v1/challenges", q=q) == [wanted]
        page = await client.get("/challenges", params={"q": q})
        assert page.status_code == 200
        assert "Tuberías sin fugas" in page.text
        assert "Cut school-bus delays" not in page.text

    async def test_the_region_filter_ignores_accents(self, client: httpx.AsyncClient) -> None:
        wanted = await _published_challenge("Sombra", "Árboles en las plazas.", "Andalucía")
        await _published_challenge("Buses", "Buses arrive on time.", "North")
        assert await _found(client, "/api/v1/challenges", region="ANDALUCIA") == [wanted]
        assert await _found(client, "/api/v1/challenges", region="andalucía") == [wanted]

    async def test_translated_words_are_found_without_accents(
        self, client: httpx.AsyncClient
    ) -> None:
        wanted = await _published_challenge("Cleaner pipes", "Leaks in the network.", "North")
        original = "Leaks in the network."
        async with db.transaction(None):
            await TranslatedText.create(
                kind="challenge",
                object_id=wanted,
                field="summary",
                text=original,
                text_hash=text_hash(original),
                language="en",
            )
            await Translation.create(
                text_hash=text_hash(original),
                source="en",
                target="es",
                text="Fugas en la tubería principal.",
                provider="test",
            )
        assert await _found(client, "/api/v1/challenges", q="tuberia") == [wanted]


class TestProposalSearch:
    async def test_accents_and_case_do_not_count(self, client: httpx.AsyncClient) -> None:
        author = await factories.person(client)
        wanted = await propose(
            client,
            author,
            title="Tuberías rotas en la Plaza Mayor",
            description="El agua se pierde en la plaza desde marzo y nadie la arregla.",
        )
        await propose(client, await factories.person(client))
        for q in ("tuberias", "TUBERÍAS rotas", "tuberías"):
            assert await _found(client, "/api/v1/proposals", q=q) == [wanted["id"]], q
        page = await client.get("/proposals", params={"q": "tuberias"})
        assert "Tuberías rotas en la Plaza Mayor" in page.text

    async def test_translated_words_and_region_ignore_accents(
        self, client: httpx.AsyncClient
    ) -> None:
        author = await factories.make_user()
        async with db.transaction(None):
            proposal = await Proposal.create(
                author=author,
                title="Broken benches",
                description="The benches of the park are broken.",
                region="Cádiz",
                area="mobility",
                sdgs=[11],
                search_text="broken benches the benches of the park are broken. [sdg:11]",
            )
            await TranslatedText.create(
                kind="proposal",
                object_id=proposal.id,
                field="title",
                text="Broken benches",
                text_hash=text_hash("Broken benches"),
                language="en",
            )
            await Translation.create(
                text_hash=text_hash("Broken benches"),
                source="en",
                target="es",
                text="Bancos rotos del jardín",
                provider="test",
            )
        assert await _found(client, "/api/v1/proposals", q="JARDIN") == [proposal.id]
        assert await _found(client, "/api/v1/proposals", region="cadiz") == [proposal.id]
