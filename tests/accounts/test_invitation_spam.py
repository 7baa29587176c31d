"""ASVS V2.4 (anti-automation) and V2.2 (input validation): organizations and invitations
cannot be used to send spam from the platform's address.

The defect these tests reproduce: an account whose e-mail address was never confirmed
created an organization named "Win a prize at evil.example" and invited 40 addresses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from service import db
from service.accounts.models import Invitation, Organization, OrganizationKind, Role
from tests import factories
from tests.smtp import Mailbox

ORG = {"kind": "startup", "country": "ES", "region": "Madrid"}


class TestASVS_V2_4_1_ConfirmedAddressBeforeReachingOthers:
    """ASVS V2.4.1: anti-automation controls against abuse of business functions."""

    async def test_unconfirmed_account_cannot_create_an_organization(
        self, client: httpx.AsyncClient
    ) -> None:
        unconfirmed = await factories.person(client, verified=False)
        response = await client.post(
            "/api/v1/organizations", json={"name": "Prize Org", **ORG}, headers=unconfirmed.headers
        )
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "EmailNotConfirmed"
        assert "Confirm your e-mail address" in response.json()["detail"]
        assert not await Organization.filter(name="Prize Org").exists()

    async def test_unconfirmed_owner_cannot_invite(
        self, client: httpx.AsyncClient, mailbox: Mailbox
    ) -> None:
        owner = await factories.person(client, verified=False)
        org = await factories.make_org(verified=False, members={owner.user: Role.owner})
        response = await client.post(
            f"/api/v1/organizations/{org.id}/members",
            json={"email": "victim@example.net", "role": "member"},
            headers=owner.headers,
        )
        assert response.status_code == 403, response.text
        assert "Confirm your e-mail address" in response.json()["detail"]
        assert await Invitation.filter(organization_id=org.id).count() == 0

    async def test_pages_tell_an_unconfirmed_account_to_confirm(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(verified=False)
        csrf = await factories.web_signin(client, user)
        form = await client.get("/organizations/new")
        assert "Confirm your e-mail address" in form.text
        response = await client.post(
            "/organizations/new", data={"csrf_token": csrf, "name": "Page Org", **ORG}
        )
        assert response.status_code == 403
        assert "Confirm your e-mail address" in response.text
        assert 'value="Page Org"' in response.text  # nothing typed is lost
        assert not await Organization.filter(name="Page Org").exists()

        org = await factories.make_org(verified=False, members={user: Role.owner})
        page = await client.get(f"/organizations/{org.id}")
        assert "Confirm your e-mail address" in page.text
        invited = await client.post(
            f"/organizations/{org.id}/invitations",
            data={"csrf_token": csrf, "email": "victim@example.net", "role": "member"},
        )
        assert invited.status_code == 403
        assert "Confirm your e-mail address" in invited.text
        assert await Invitation.filter(organization_id=org.id).count() == 0


class TestASVS_V2_4_1_InvitationsPerDay:
    """ASVS V2.4.1: at most 20 invitations a day from an organization not yet verified."""

    async def test_the_twenty_first_invitation_waits(self, client: httpx.AsyncClient) -> None:
        owner = await factories.person(client)
        org = await factories.make_org(verified=False, members={owner.user: Role.owner})
        statuses = []
        for n in range(40):
            response = await client.post(
                f"/api/v1/organizations/{org.id}/members",
                json={"email": f"target{n}@example.net", "role": "member"},
                headers=owner.headers,
            )
            statuses.append(response.status_code)
        assert statuses == [201] * 20 + [429] * 20
        body = response.json()
        assert body["error"] == "TooManyInvitations"
        wait = int(response.headers["Retry-After"])
        assert 23 * 3600 < wait <= 24 * 3600
        assert "24 hours" in body["detail"] or "hours" in body["detail"]
        assert await Invitation.filter(organization_id=org.id).count() == 20

    async def test_invitations_older_than_a_day_do_not_count(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await factories.person(client)
        org = await factories.make_org(verified=False, members={owner.user: Role.owner})
        async with db.transaction(None):
            for n in range(20):
                await Invitation.create(
                    organization=org,
                    email=f"old{n}@example.net",
                    role=Role.member,
                    invited_by=owner.user,
                )
            await Invitation.filter(organization_id=org.id).update(
                created_at=datetime.now(UTC) - timedelta(hours=24, minutes=1)
            )
        response = await client.post(
            f"/api/v1/organizations/{org.id}/members",
            json={"email": "fresh@example.net", "role": "member"},
            headers=owner.headers,
        )
        assert response.status_code == 201, response.text

    async def test_a_verified_organization_has_no_daily_cap(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await factories.person(client)
        org = await factories.make_org(
            kind=OrganizationKind.government, members={owner.user: Role.owner}
        )
        for n in range(21):
            response = await client.post(
                f"/api/v1/organizations/{org.id}/members",
                json={"email": f"staff{n}@example.net", "role": "editor"},
                headers=owner.headers,
            )
            assert response.status_code == 201, response.text

    async def test_the_page_says_how_long_to_wait(self, client: httpx.AsyncClient) -> None:
        user = await factories.make_user()
        csrf = await factories.web_signin(client, user)
        org = await factories.make_org(verified=False, members={user: Role.owner})
        async with db.transaction(None):
            for n in range(20):
                await Invitation.create(
                    organization=org,
                    email=f"p{n}@example.net",
                    role=Role.member,
                    invited_by=user,
                )
        response = await client.post(
            f"/organizations/{org.id}/invitations",
            data={"csrf_token": csrf, "email": "one-more@example.net", "role": "member"},
        )
        assert response.status_code == 429
        assert "Try again in" in response.text
        assert 'value="one-more@example.net"' in response.text


class TestASVS_V2_2_1_NoLinksInUnverifiedNames:
    """ASVS V2.2.1: an organization's name is a name, not an advertisement with a link."""

    @pytest.mark.parametrize(
        "name",
        [
            "Win a prize at evil.example",
            "Prizes http//claim",
            "Visit https://evil.example/now",
            "www.cheap-prizes",
            "Claim at PRIZE.COM today",
            "evil.example.org",
            "Free money at xn--80ak6aa92e.com",
        ],
    )
    async def test_a_name_with_a_link_is_refused(
        self, client: httpx.AsyncClient, name: str
    ) -> None:
        owner = await factories.person(client)
        response = await client.post(
            "/api/v1/organizations", json={"name": name, **ORG}, headers=owner.headers
        )
        assert response.status_code == 422, (name, response.text)
        assert "name" in response.json()["fields"]
        assert not await Organization.filter(name=name).exists()

    @pytest.mark.parametrize(
        "name",
        ["Ciudad de São Paulo", "Acme Inc.", "St. Mary's University", "Dr. Who Labs", "Lab 4.0"],
    )
    async def test_ordinary_names_pass(self, client: httpx.AsyncClient, name: str) -> None:
        owner = await factories.person(client)
        response = await client.post(
            "/api/v1/organizations", json={"name": name, **ORG}, headers=owner.headers
        )
        assert response.status_code == 201, (name, response.text)

    async def test_the_page_names_the_field(self, client: httpx.AsyncClient) -> None:
        user = await factories.make_user()
        csrf = await factories.web_signin(client, user)
        response = await client.post(
            "/organizations/new",
            data={"csrf_token": csrf, "name": "Win a prize at evil.example", **ORG},
        )
        assert response.status_code == 422
        assert "without a web address" in response.text
        assert not await Organization.filter(name="Win a prize at evil.example").exists()
