"""The deal flow's search box and region filter ignore accents and case: "cadiz" finds
"Movilidad Cádiz", by name or by the words of its profile."""

from __future__ import annotations

import httpx

from tests import factories
from tests.investors import helpers


class TestDealflowSearch:
    async def test_words_and_region_ignore_accents_and_case(
        self, client: httpx.AsyncClient
    ) -> None:
        investor, partner = await helpers.make_investor(client)
        wanted = await helpers.make_startup(
            client, name="Movilidad Cádiz", region="Andalucía", with_token=False
        )
        other = await helpers.make_startup(
            client, name="Seed Robotics", region="Madrid", with_token=False
        )
        await helpers.rank(investor, [other.org, wanted.org])
        url = f"/api/v1/investors/{investor.id}/dealflow"

        async def names(**params: str) -> list[str]:
            response = await client.get(url, params=params, headers=partner.headers)
            assert response.status_code == 200, response.text
            return [item["name"] for item in response.json()["items"]]

        for q in ("cadiz", "CÁDIZ", "movilidad cadiz", "MOVILIDAD"):
            assert await names(q=q) == ["Movilidad Cádiz"], q
        # The profile's words count too ("... builds things for cities.").
        assert await names(q="Things") == ["Seed Robotics", "Movilidad Cádiz"]
        assert await names(q="cadiz robotics") == []
        assert await names(region="ANDALUCIA") == ["Movilidad Cádiz"]
        too_long = await client.get(url, params={"q": "x" * 201}, headers=partner.headers)
        assert too_long.status_code == 422
        assert "q" in too_long.json()["fields"]

        await factories.web_signin(client, partner.user)
        page = await client.get(f"/investors/{investor.id}/dealflow", params={"q": "cadiz"})
        assert page.status_code == 200
        assert 'name="q"' in page.text
        assert "Movilidad Cádiz" in page.text and "Seed Robotics" not in page.text
        csv = await client.get(f"/investors/{investor.id}/dealflow.csv", params={"q": "cadiz"})
        assert "Movilidad Cádiz" in csv.text and "Seed Robotics" not in csv.text
