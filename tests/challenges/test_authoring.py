"""Drafting and amending: bad input is refused with the field named, nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from service.accounts.models import Role
from service.challenges.models import Amendment, Challenge, Criterion
from service.notifications.models import Notification
from tests import factories
from tests.challenges.factories import challenge_body
from tests.challenges.helpers import make_city

NOW = datetime.now(UTC)
BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"summary": ""}, "summary"),
    ({"summary": "x" * 201}, "summary"),
    ({"title": None}, "title"),
    ({"problem_statement": "short"}, "problem_statement"),
    ({"area": "space"}, "area"),
    ({"sdgs": [0, 18]}, "sdgs"),
    ({"eligible_kinds": ["investor"]}, "eligible_kinds"),
    ({"eligible_kinds": []}, "eligible_kinds"),
    ({"reward": {"amount_minor": 10.5, "currency": "EUR"}}, "reward.amount_minor"),
    ({"reward": {"amount_minor": -1, "currency": "EUR"}}, "reward.amount_minor"),
    ({"reward": {"amount_minor": 100, "currency": "XYZ"}}, "reward.currency"),
    ({"criteria": [{"name": "Impact", "weight": 50}, {"name": "Cost", "weight": 30}]}, "criteria"),
    (
        {"criteria": [{"name": "Impact", "weight": 50}, {"name": "impact", "weight": 50}]},
        "criteria",
    ),
    ({"criteria": []}, "criteria"),
    (
        {
            "opens_at": (NOW + timedelta(days=5)).isoformat(),
            "closes_at": (NOW + timedelta(days=2)).isoformat(),
        },
        "closes_at",
    ),
    ({"opens_at": "2026-01-01T10:00:00"}, "opens_at"),
    ({"judging_ends_at": (NOW + timedelta(days=2)).isoformat()}, "judging_ends_at"),
]


@pytest.mark.parametrize(("change", "field"), BAD_INPUT, ids=[f for _, f in BAD_INPUT])
async def test_bad_input_names_the_field_and_stores_nothing(
    client: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    city = await make_city(client)
    response = await client.post(
        "/api/v1/challenges", json=challenge_body(city.org, **change), headers=city.editor.headers
    )
    assert response.status_code == 422, response.text
    assert field in response.json()["fields"], response.json()
    assert await Challenge.all().count() == 0 and await Criterion.all().count() == 0


async def test_only_governments_post_challenges(client: httpx.AsyncClient) -> None:
    owner = await factories.person(client)
    startup = await factories.make_org(members={owner.user: Role.owner})
    response = await client.post(
        "/api/v1/challenges", json=challenge_body(startup), headers=owner.headers
    )
    assert response.status_code == 422
    assert "organization_id" in response.json()["fields"]


async def test_draft_shows_readability_and_edits_freely(client: httpx.AsyncClient) -> None:
    city = await make_city(client)
    hard = (
        "Notwithstanding aforementioned considerations, comprehensive multimodal "
        "infrastructural optimization initiatives necessitate interdepartmental coordination."
    )
    created = await client.post(
        "/api/v1/challenges",
        json=challenge_body(city.org, problem_statement=hard),
        headers=city.editor.headers,
    )
    readability = {r["field"]: r for r in created.json()["readability"]}
    assert readability["problem_statement"]["hard"] is True
    assert readability["summary"]["hard"] is False
    body = challenge_body(city.org, reward={"amount_minor": 1000, "currency": "EUR"})
    edited = await client.patch(
        f"/api/v1/challenges/{created.json()['id']}", json=body, headers=city.editor.headers
    )
    assert edited.status_code == 200
    assert edited.json()["reward"]["amount_minor"] == 1000
    assert await Amendment.all().count() == 0


async def test_published_terms_change_only_by_public_amendment(
    client: httpx.AsyncClient,
) -> None:
    city = await make_city(client)
    created = await client.post(
        "/api/v1/challenges", json=challenge_body(city.org), headers=city.editor.headers
    )
    challenge_id = created.json()["id"]
    await client.post(f"/api/v1/challenges/{challenge_id}/publish", headers=city.manager.headers)
    follower = await factories.person(client)
    await client.post(f"/api/v1/challenges/{challenge_id}/follow", headers=follower.headers)
    lower = challenge_body(city.org, reward={"amount_minor": 1_000_000, "currency": "EUR"})
    refused = await client.patch(
        f"/api/v1/challenges/{challenge_id}", json=lower, headers=city.editor.headers
    )
    assert refused.status_code == 422
    assert "amendment_reason" in refused.json()["fields"]
    assert (await Challenge.get(id=challenge_id)).reward_amount_minor == 5_000_000
    amended = await client.patch(
        f"/api/v1/challenges/{challenge_id}",
        json={**lower, "amendment_reason": "Part of the budget went to flood relief."},
        headers=city.editor.headers,
    )
    assert amended.status_code == 200, amended.text
    amendment = amended.json()["amendments"][0]
    assert amendment["reason"] == "Part of the budget went to flood relief."
    assert amendment["changes"]["reward"] == {
        "before": {"amount_minor": 5_000_000, "currency": "EUR"},
        "after": {"amount_minor": 1_000_000, "currency": "EUR"},
    }
    public = await client.get(f"/api/v1/challenges/{challenge_id}")
    assert public.json()["amendments"][0]["reason"].startswith("Part of the budget")
    assert await Notification.filter(user_id=follower.user.id).count() == 1
    # Wording changes need no amendment.
    wording = {**lower, "summary": "Help school buses arrive on time, every single day."}
    assert (
        await client.patch(
            f"/api/v1/challenges/{challenge_id}", json=wording, headers=city.editor.headers
        )
    ).status_code == 200
    assert await Amendment.all().count() == 1


async def test_drafts_are_invisible_outside_the_city(client: httpx.AsyncClient) -> None:
    city = await make_city(client)
    created = await client.post(
        "/api/v1/challenges", json=challenge_body(city.org), headers=city.editor.headers
    )
    challenge_id = created.json()["id"]
    stranger = await factories.person(client)
    assert (await client.get(f"/api/v1/challenges/{challenge_id}")).status_code == 404
    assert (
        await client.get(f"/api/v1/challenges/{challenge_id}", headers=stranger.headers)
    ).status_code == 404
    assert (await client.get(f"/challenges/{challenge_id}")).status_code == 404
    assert (
        await client.get(f"/api/v1/challenges/{challenge_id}", headers=city.finance.headers)
    ).status_code == 200
