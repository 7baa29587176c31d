"""An awarded challenge with its milestones, for the rewards tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from service import db
from service.accounts.models import Membership, OrganizationKind, Role
from service.challenges import service as challenges_service
from service.challenges.models import Challenge
from tests import factories
from tests.challenges.helpers import City, treasurer
from tests.challenges.test_applications import applicant, draft, open_challenge
from tests.challenges.test_judging_awards import judge


@dataclass
class Awarded:
    city: City
    # A second finance member, signed in with two-factor: the one who releases.
    treasurer: factories.Person
    challenge_id: int
    award_id: int
    milestone_ids: list[int]
    winner: factories.Person
    winner_org: int
    partner: factories.Person | None
    partner_org: int | None


async def fund(client: httpx.AsyncClient, city: City, challenge_id: int, amount: int) -> None:
    response = await client.post(
        f"/api/v1/challenges/{challenge_id}/funding",
        json={"amount_minor": amount, "method": "bank_transfer", "reference": "TR-77"},
        headers=(await treasurer(client, city)).headers,
    )
    assert response.status_code == 201, response.text


async def awarded(
    client: httpx.AsyncClient,
    *,
    amounts: tuple[int, ...] = (1_000_000, 1_500_000, 500_000),
    partner_share: int | None = None,
    funded: int | None = None,
) -> Awarded:
    """A challenge funded by bank transfer, one application (with a university partner holding
    `partner_share` percent when given), judged, awarded with one milestone per amount."""
    city, challenge_id = await open_challenge(client)
    challenge = await Challenge.get(id=challenge_id)
    await fund(client, city, challenge_id, funded or challenge.reward_amount_minor)
    winner, winner_org = await applicant(client)
    partner = partner_org = None
    partners = []
    if partner_share is not None:
        partner, partner_org = await applicant(client, kind=OrganizationKind.university)
        partners = [
            {"organization_id": partner_org, "role": "research partner", "share_pct": partner_share}
        ]
    app_id = (await draft(client, challenge_id, winner, winner_org, partners=partners)).json()["id"]
    if partner is not None:
        accepted = await client.post(
            f"/api/v1/applications/{app_id}/partners/{partner_org}/accept",
            headers=partner.headers,
        )
        assert accepted.status_code == 200, accepted.text
    submitted = await client.post(f"/api/v1/applications/{app_id}/submit", headers=winner.headers)
    assert submitted.status_code == 200, submitted.text
    async with db.transaction(None):
        await Challenge.filter(id=challenge_id).update(
            closes_at=datetime.now(UTC) - timedelta(seconds=1)
        )
        await challenges_service.advance_all(now=datetime.now(UTC))
    await judge(client, city, challenge_id)
    due = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    response = await client.post(
        f"/api/v1/challenges/{challenge_id}/awards",
        json={
            "application_id": app_id,
            "amount_minor": sum(amounts),
            "rationale": "The best plan by far.",
            "milestones": [
                {"title": f"Milestone {n + 1}", "amount_minor": a, "due_at": due}
                for n, a in enumerate(amounts)
            ],
        },
        headers=city.manager.headers,
    )
    assert response.status_code == 201, response.text
    treasurer = await factories.person(client, totp=True)
    async with db.transaction(None):
        await Membership.create(user=treasurer.user, organization=city.org, role=Role.finance)
    body = response.json()
    return Awarded(
        city=city,
        treasurer=treasurer,
        challenge_id=challenge_id,
        award_id=body["id"],
        milestone_ids=[m["id"] for m in body["milestones"]],
        winner=winner,
        winner_org=winner_org,
        partner=partner,
        partner_org=partner_org,
    )


async def bank_account(client: httpx.AsyncClient, person: factories.Person, org_id: int) -> None:
    response = await client.post(
        f"/api/v1/organizations/{org_id}/payout-account",
        json={
            "rail": "bank_transfer",
            "holder": "Startup SL",
            "iban": "ES91 2100 0418 4502 0005 1332",
            "bic": "CAIXESBBXXX",
        },
        headers=person.headers,
    )
    assert response.status_code == 200, response.text


async def approved(client: httpx.AsyncClient, a: Awarded, milestone_id: int) -> None:
    submitted = await client.post(
        f"/api/v1/milestones/{milestone_id}/submit",
        json={"evidence": "Baseline report published on the city's site."},
        headers=a.winner.headers,
    )
    assert submitted.status_code == 200, submitted.text
    approval = await client.post(
        f"/api/v1/milestones/{milestone_id}/approve", headers=a.city.manager.headers
    )
    assert approval.status_code == 200, approval.text
