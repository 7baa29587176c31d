"""The demo's deal flow: what an investor sees after `make run`."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from service.accounts.models import Organization, User
from service.config import Settings
from service.investors.models import CityPick, IntroRequest, IntroStatus
from service.matching.models import Match, StartupProfile


class TestDemoDealFlow:
    async def test_investors_see_a_ranked_list_with_reasons_and_picks(
        self, app: Starlette, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        from service.demo import seed

        await seed(settings)
        andes = await Organization.get(name="Andes Impact Ventures")
        pampa = await Organization.get(name="Pampa Climate Fund")
        assert await Match.filter(investor_id=andes.id).count() >= 3
        assert await Match.filter(investor_id=pampa.id).count() >= 3
        assert await CityPick.exists()
        assert await IntroRequest.filter(status=IntroStatus.accepted).exists()
        hidden = await StartupProfile.filter(dealflow_opt_in=False).values_list(
            "organization__name", flat=True
        )
        owner = await User.get(email="andes@demo.civic")
        issued = await client.post(
            "/api/v1/auth/token", json={"email": owner.email, "password": "civic-demo-2026"}
        )
        token = issued.json()["access_token"]
        body = (
            await client.get(
                f"/api/v1/investors/{andes.id}/dealflow",
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()
        names = [item["name"] for item in body["items"]]
        assert names and all(item["reasons"] for item in body["items"][:3])
        assert all(item["reasons"][0]["text"] for item in body["items"][:3])
        assert not set(hidden) & set(names)
        assert body["city_picks"]
