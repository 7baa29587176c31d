"""Applications and consortia through the API: drafting, eligibility, deadlines, partners."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import time_machine

from service import db
from service.accounts.models import OrganizationKind, Role
from service.applications.models import Application, ApplicationStatus
from service.challenges.models import Challenge
from tests import factories
from tests.challenges.factories import challenge_body
from tests.challenges.helpers import City, make_city


async def open_challenge(client: httpx.AsyncClient, **changes: Any) -> tuple[City, int]:
    city = await make_city(client)
    now = datetime.now(UTC)
    body = challenge_body(city.org, opens_at=(now - timedelta(hours=1)).isoformat(), **changes)
    challenge_id = (
        await client.post("/api/v1/challenges", json=body, headers=city.editor.headers)
    ).json()["id"]
    published = await client.post(
        f"/api/v1/challenges/{challenge_id}/publish", headers=city.manager.headers
    )
    assert published.json()["status"] == "open", published.text
    return city, int(challenge_id)


async def applicant(
    client: httpx.AsyncClient,
    *,
    kind: OrganizationKind = OrganizationKind.startup,
    verified: bool = True,
    region: str = "Madrid",
) -> tuple[factories.Person, int]:
    person = await factories.person(client)
    org = await factories.make_org(kind=kind, verified=verified, members={person.user: Role.owner})
    if region != "Madrid":
        async with db.transaction(None):
            org.region = region
            await org.save()
    return person, org.id


def application_body(org_id: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organization_id": org_id,
        "title": "Route planner for school buses",
        "summary": "We plan bus routes around traffic with live data from the buses.",
        "proposal": "Three phases: data, pilot, rollout.",
        "team": "Five engineers.",
        "budget_minor": 4_000_000,
        "partners": [],
    }
    body.update(changes)
    return body


async def draft(
    client: httpx.AsyncClient,
    challenge_id: int,
    person: factories.Person,
    org_id: int,
    **changes: Any,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/challenges/{challenge_id}/applications",
        json=application_body(org_id, **changes),
        headers=person.headers,
    )


class TestDraftAndSubmit:
    async def test_draft_edit_submit_receipt(self, client: httpx.AsyncClient) -> None:
        _, challenge_id = await open_challenge(client)
        person, org_id = await applicant(client)
        created = await draft(client, challenge_id, person, org_id)
        assert created.status_code == 201, created.text
        app_id = created.json()["id"]
        assert created.json()["status"] == "draft"
        edited = await client.patch(
            f"/api/v1/applications/{app_id}",
            json={"budget_minor": 3_500_000},
            headers=person.headers,
        )
        assert edited.json()["budget_minor"] == 3_500_000
        submitted = await client.post(
            f"/api/v1/applications/{app_id}/submit", headers=person.headers
        )
        assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
        # Still editable until the deadline.
        again = await client.patch(
            f"/api/v1/applications/{app_id}",
            json={"team": "Six engineers."},
            headers=person.headers,
        )
        assert again.status_code == 200 and again.json()["team"] == "Six engineers."
        me = (await client.get("/api/v1/me/notifications", headers=person.headers)).json()
        assert any("received" in n["title"] for n in me["items"])

    async def test_eligibility_failures_are_named(self, client: httpx.AsyncClient) -> None:
        _, challenge_id = await open_challenge(
            client, eligible_kinds=["startup"], eligible_regions=["Madrid"]
        )
        person, org_id = await applicant(
            client, kind=OrganizationKind.university, verified=False, region="Lisboa"
        )
        app_id = (await draft(client, challenge_id, person, org_id)).json()["id"]
        refused = await client.post(f"/api/v1/applications/{app_id}/submit", headers=person.headers)
        assert refused.status_code == 422
        assert {"organization_kind", "organization_region", "organization_verified"} <= set(
            refused.json()["fields"]
        )
        assert (await Application.get(id=app_id)).status is ApplicationStatus.draft

    async def test_deadline_to_the_second(self, client: httpx.AsyncClient) -> None:
        closes = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        _, challenge_id = await open_challenge(client, closes_at=closes)
        person, org_id = await applicant(client)
        app_id = (await draft(client, challenge_id, person, org_id)).json()["id"]
        closes_at = (await Challenge.get(id=challenge_id)).closes_at
        with time_machine.travel(closes_at - timedelta(seconds=1), tick=False):
            ok = await client.patch(
                f"/api/v1/applications/{app_id}", json={"team": "A"}, headers=person.headers
            )
            assert ok.status_code == 200
        with time_machine.travel(closes_at, tick=False):
            late = await client.post(
                f"/api/v1/applications/{app_id}/submit", headers=person.headers
            )
            assert late.status_code == 409 and late.json()["error"] == "DeadlinePassed"
            edit = await client.patch(
                f"/api/v1/applications/{app_id}", json={"team": "B"}, headers=person.headers
            )
            assert edit.status_code == 409
        assert (await Application.get(id=app_id)).team == "A"

    async def test_withdraw_any_time_before_the_award(self, client: httpx.AsyncClient) -> None:
        _, challenge_id = await open_challenge(client)
        person, org_id = await applicant(client)
        app_id = (await draft(client, challenge_id, person, org_id)).json()["id"]
        await client.post(f"/api/v1/applications/{app_id}/submit", headers=person.headers)
        withdrawn = await client.post(
            f"/api/v1/applications/{app_id}/withdraw", headers=person.headers
        )
        assert withdrawn.json()["status"] == "withdrawn"
        again = await client.post(f"/api/v1/applications/{app_id}/submit", headers=person.headers)
        assert again.status_code == 409

    async def test_bad_input_and_investors_cannot_apply(self, client: httpx.AsyncClient) -> None:
        _, challenge_id = await open_challenge(client)
        person, org_id = await applicant(client)
        bad = await draft(client, challenge_id, person, org_id, summary="short", budget_minor=-5)
        assert bad.status_code == 422 and {"summary", "budget_minor"} <= set(bad.json()["fields"])
        investor, fund_id = await applicant(client, kind=OrganizationKind.investor)
        refused = await draft(client, challenge_id, investor, fund_id)
        assert refused.status_code == 422
        assert await Application.all().count() == 0


class TestConsortium:
    async def test_partner_accepts_and_shares_must_add_up(self, client: httpx.AsyncClient) -> None:
        _, challenge_id = await open_challenge(client)
        lead, lead_org = await applicant(client)
        partner, partner_org = await applicant(client, kind=OrganizationKind.university)
        partners = [{"organization_id": partner_org, "role": "research partner", "share_pct": 30}]
        app_id = (await draft(client, challenge_id, lead, lead_org, partners=partners)).json()["id"]
        # The partner sees it; a stranger does not.
        assert (
            await client.get(f"/api/v1/applications/{app_id}", headers=partner.headers)
        ).status_code == 200
        stranger, _ = await applicant(client)
        assert (
            await client.get(f"/api/v1/applications/{app_id}", headers=stranger.headers)
        ).status_code == 404
        pending = await client.post(f"/api/v1/applications/{app_id}/submit", headers=lead.headers)
        assert pending.status_code == 422 and "partners" in pending.json()["fields"]
        accepted = await client.post(
            f"/api/v1/applications/{app_id}/partners/{partner_org}/accept", headers=partner.headers
        )
        assert accepted.status_code == 200
        assert accepted.json()["lead_share_pct"] == 70
        submitted = await client.post(f"/api/v1/applications/{app_id}/submit", headers=lead.headers)
        assert submitted.status_code == 200, submitted.text

    async def test_partner_who_declined_leaves_shares_short(
        self, client: httpx.AsyncClient
    ) -> None:
        _, challenge_id = await open_challenge(client)
        lead, lead_org = await applicant(client)
        partner, partner_org = await applicant(client, kind=OrganizationKind.research_center)
        partners = [{"organization_id": partner_org, "role": "lab", "share_pct": 40}]
        app_id = (await draft(client, challenge_id, lead, lead_org, partners=partners)).json()["id"]
        await client.post(
            f"/api/v1/applications/{app_id}/partners/{partner_org}/decline", headers=partner.headers
        )
        refused = await client.post(f"/api/v1/applications/{app_id}/submit", headers=lead.headers)
        assert refused.status_code == 422 and "shares" in refused.json()["fields"]
        # Dropping the partner gives the lead the whole share back.
        fixed = await client.patch(
            f"/api/v1/applications/{app_id}", json={"partners": []}, headers=lead.headers
        )
        assert fixed.json()["lead_share_pct"] == 100
        assert (
            await client.post(f"/api/v1/applications/{app_id}/submit", headers=lead.headers)
        ).status_code == 200
        # A declined partner no longer sees the application.
        assert (
            await client.get(f"/api/v1/applications/{app_id}", headers=partner.headers)
        ).status_code == 404

    async def test_shares_over_100_refused(self, client: httpx.AsyncClient) -> None:
        _, challenge_id = await open_challenge(client)
        lead, lead_org = await applicant(client)
        _, p1 = await applicant(client, kind=OrganizationKind.university)
        _, p2 = await applicant(client, kind=OrganizationKind.university)
        partners = [
            {"organization_id": p1, "role": "alpha", "share_pct": 60},
            {"organization_id": p2, "role": "beta", "share_pct": 50},
        ]
        response = await draft(client, challenge_id, lead, lead_org, partners=partners)
        assert response.status_code == 422 and "partners" in response.json()["fields"]
