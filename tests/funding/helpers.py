"""A city with challenge drafts and a funding round open for voting: for the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from service import db
from service.accounts import tokens
from service.accounts.models import OrganizationKind, Role
from service.config import Settings
from service.funding.models import FundingRound
from tests import factories
from tests.challenges.factories import make_draft_challenge
from tests.challenges.helpers import City


async def person(settings: Settings, *, verified: bool = True) -> factories.Person:
    """A user with a bearer token issued directly (no password check: tests stay fast)."""
    user = await factories.make_user(verified=verified)
    token = tokens.issue(
        settings.secret_key, user_id=user.id, version=user.token_version, mfa=False
    )
    return factories.Person(user=user, token=token)


async def make_city(settings: Settings) -> City:
    people = {r: await person(settings) for r in ("owner", "manager", "editor", "finance")}
    org = await factories.make_org(
        kind=OrganizationKind.government,
        verified=True,
        members={people[r].user: Role(r) for r in people},
    )
    return City(org=org, **people)


@dataclass
class Round:
    city: City
    round_id: int
    # Candidate ids in ballot order, and the challenge drafts behind them.
    candidates: list[int]
    challenges: list[int]


def round_body(city: City, challenge_ids: list[int], **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "organization_id": city.org.id,
        "title": "Innovation budget 2027",
        "description": "Which problems should become funded challenges?",
        "region": city.org.region,
        "budget_minor": 100_00,
        "currency": "EUR",
        "opens_at": (now - timedelta(minutes=5)).isoformat(),
        "closes_at": (now + timedelta(days=7)).isoformat(),
        "challenge_ids": challenge_ids,
    }
    body.update(changes)
    return body


async def open_round(
    client: httpx.AsyncClient,
    settings: Settings,
    costs: tuple[int, ...] = (50_00, 50_00, 50_00),
    **changes: Any,
) -> Round:
    """A published round of the city's drafts costing `costs` (minor units), voting open."""
    city = await make_city(settings)
    async with db.transaction(None):
        drafts = [
            await make_draft_challenge(city.org, title=f"Challenge {k + 1}", reward_amount_minor=c)
            for k, c in enumerate(costs)
        ]
    body = round_body(city, [d.id for d in drafts], **changes)
    created = await client.post("/api/v1/funding-rounds", json=body, headers=city.manager.headers)
    assert created.status_code == 201, created.text
    round_id = int(created.json()["id"])
    published = await client.post(
        f"/api/v1/funding-rounds/{round_id}/publish", headers=city.manager.headers
    )
    assert published.status_code == 200, published.text
    candidates = [int(c["id"]) for c in published.json()["candidates"]]
    return Round(city, round_id, candidates, [d.id for d in drafts])


async def vote(
    client: httpx.AsyncClient, r: Round, person: factories.Person, picks: list[int]
) -> dict[str, Any]:
    response = await client.put(
        f"/api/v1/funding-rounds/{r.round_id}/ballot",
        json={"candidate_ids": [r.candidates[k] for k in picks], "resident": True},
        headers=person.headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def close(r: Round) -> None:
    """Move the round's close into the past (as if the days went by)."""
    async with db.transaction(None):
        await FundingRound.filter(id=r.round_id).update(
            closes_at=datetime.now(UTC) - timedelta(seconds=1)
        )


async def web_session(client: httpx.AsyncClient, user: Any) -> str:
    """Sign the client in as `user` with a session row of its own; returns its CSRF token."""
    import secrets

    from service.accounts.actor import SESSION_COOKIE, hash_token
    from service.accounts.models import WebSession

    raw, csrf = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    async with db.transaction(None):
        await WebSession.create(
            user=user,
            token_hash=hash_token(raw),
            csrf_token=csrf,
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
    client.cookies.set(SESSION_COOKIE, raw)
    return csrf
