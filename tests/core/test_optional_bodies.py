"""An operation whose body fields are all optional takes no body at all, as an operation
without a body model does; one with a required field still asks for JSON."""

from __future__ import annotations

import httpx
import pytest

from service.investors.models import IntroRequest, IntroStatus, Watch
from tests import factories
from tests.investors import helpers


async def _intro(client: httpx.AsyncClient) -> tuple[helpers.Deal, int]:
    world = await helpers.deal(client, startups=1)
    created = await client.post(
        "/api/v1/intro-requests",
        json={
            "investor_organization_id": world.investor.id,
            "startup_organization_id": world.startups[0].org.id,
            "message": "Let us talk",
        },
        headers=world.partner.headers,
    )
    assert created.status_code == 201, created.text
    return world, int(created.json()["id"])


class TestOptionalBodies:
    @pytest.mark.parametrize(
        "extra",
        [
            {},  # no body, no Content-Type
            {"headers": {"Content-Type": "application/json"}},  # JSON announced, nothing sent
            {"headers": {"Content-Type": "text/plain"}},  # an empty body of any type
        ],
        ids=["no-content-type", "json-empty", "text-empty"],
    )
    async def test_intro_accept_without_a_body(
        self, client: httpx.AsyncClient, extra: dict[str, dict[str, str]]
    ) -> None:
        world, intro_id = await _intro(client)
        owner = world.startups[0].owner
        headers = {**owner.headers, **extra.get("headers", {})}
        accepted = await client.post(f"/api/v1/intro-requests/{intro_id}/accept", headers=headers)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "accepted"
        assert accepted.json()["reply"] == ""
        assert (await IntroRequest.get(id=intro_id)).status is IntroStatus.accepted

    async def test_a_body_that_is_not_json_is_still_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        world, intro_id = await _intro(client)
        headers = {**world.startups[0].owner.headers, "Content-Type": "text/plain"}
        refused = await client.post(
            f"/api/v1/intro-requests/{intro_id}/accept", content=b"yes please", headers=headers
        )
        assert refused.status_code == 415
        assert (await IntroRequest.get(id=intro_id)).status is IntroStatus.open

    async def test_watch_and_mark_read_without_a_body(self, client: httpx.AsyncClient) -> None:
        world = await helpers.deal(client, startups=1)
        startup = world.startups[0].org
        watched = await client.put(
            f"/api/v1/investors/{world.investor.id}/watchlist/{startup.id}",
            headers=world.partner.headers,
        )
        assert watched.status_code == 204, watched.text
        assert await Watch.filter(investor_id=world.investor.id, startup_id=startup.id).exists()
        read = await client.post("/api/v1/me/notifications/read", headers=world.partner.headers)
        assert read.status_code < 300, read.text

    async def test_a_required_field_still_needs_a_json_body(
        self, client: httpx.AsyncClient
    ) -> None:
        person = await factories.person(client)
        refused = await client.post("/api/v1/proposals", headers=person.headers)
        assert refused.status_code == 415
        assert refused.json()["error"] == "UnsupportedMediaType"

    async def test_the_document_says_which_bodies_may_be_left_out(
        self, client: httpx.AsyncClient
    ) -> None:
        paths = (await client.get("/api/openapi.json")).json()["paths"]
        accept = paths["/api/v1/intro-requests/{intro_request_id}/accept"]["post"]
        assert accept["requestBody"]["required"] is False
        assert paths["/api/v1/me/notifications/read"]["post"]["requestBody"]["required"] is False
        assert paths["/api/v1/proposals"]["post"]["requestBody"]["required"] is True
