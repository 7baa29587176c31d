"""Organizations, invitations, verification and the audit log, through the API."""

from __future__ import annotations

import httpx

from service.accounts.models import OrganizationKind, Role
from service.audit.models import AuditEvent
from service.notifications.models import Notification
from tests import factories


async def test_creator_owns_a_new_unverified_organization(client: httpx.AsyncClient) -> None:
    person = await factories.person(client)
    response = await client.post(
        "/api/v1/organizations",
        json={"name": "Ciudad Norte", "kind": "government", "country": "es", "region": "Norte"},
        headers=person.headers,
    )
    assert response.status_code == 201, response.text
    org = response.json()
    assert org["verified"] is False and org["country"] == "ES"
    me = (await client.get("/api/v1/me", headers=person.headers)).json()
    assert me["memberships"] == [
        {
            "organization_id": org["id"],
            "organization_name": "Ciudad Norte",
            "kind": "government",
            "role": "owner",
        }
    ]
    event = await AuditEvent.get(action="organization.create")
    assert event.actor_id == person.user.id and event.object_id == str(org["id"])


async def test_bad_organization_input_names_fields(client: httpx.AsyncClient) -> None:
    person = await factories.person(client)
    response = await client.post(
        "/api/v1/organizations",
        json={"name": "X", "kind": "club", "country": "XX", "region": ""},
        headers=person.headers,
    )
    assert response.status_code == 422
    assert {"name", "kind", "country", "region"} <= set(response.json()["fields"])


async def test_invitation_round_trip(client: httpx.AsyncClient) -> None:
    owner = await factories.person(client)
    invitee = await factories.person(client)
    org = await factories.make_org(
        kind=OrganizationKind.government, members={owner.user: Role.owner}
    )
    invited = await client.post(
        f"/api/v1/organizations/{org.id}/members",
        json={"email": invitee.user.email.upper(), "role": "finance"},
        headers=owner.headers,
    )
    assert invited.status_code == 201, invited.text
    invitation_id = invited.json()["id"]
    assert await Notification.filter(user_id=invitee.user.id).count() == 1
    twice = await client.post(
        f"/api/v1/organizations/{org.id}/members",
        json={"email": invitee.user.email, "role": "finance"},
        headers=owner.headers,
    )
    assert twice.status_code == 409
    mine = (await client.get("/api/v1/me/invitations", headers=invitee.headers)).json()
    assert [i["id"] for i in mine["items"]] == [invitation_id]
    # Only the invitee can answer; for anyone else it does not exist.
    stranger = await factories.person(client)
    refused = await client.post(
        f"/api/v1/invitations/{invitation_id}/accept", headers=stranger.headers
    )
    assert refused.status_code == 404
    accepted = await client.post(
        f"/api/v1/invitations/{invitation_id}/accept", headers=invitee.headers
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    again = await client.post(
        f"/api/v1/invitations/{invitation_id}/decline", headers=invitee.headers
    )
    assert again.status_code == 409
    members = (
        await client.get(f"/api/v1/organizations/{org.id}/members", headers=invitee.headers)
    ).json()["items"]
    assert {(m["email"], m["role"]) for m in members} == {
        (owner.user.email, "owner"),
        (invitee.user.email, "finance"),
    }


async def test_role_must_fit_the_organization_kind(client: httpx.AsyncClient) -> None:
    owner = await factories.person(client)
    org = await factories.make_org(kind=OrganizationKind.startup, members={owner.user: Role.owner})
    response = await client.post(
        f"/api/v1/organizations/{org.id}/members",
        json={"email": "x@example.org", "role": "finance"},
        headers=owner.headers,
    )
    assert response.status_code == 422 and "role" in response.json()["fields"]


async def test_operator_verifies_only_with_two_factor(client: httpx.AsyncClient) -> None:
    org = await factories.make_org(verified=False)
    plain = await factories.person(client, operator=True)
    refused = await client.post(f"/api/v1/organizations/{org.id}/verify", headers=plain.headers)
    assert refused.status_code == 403 and refused.json()["error"] == "TwoFactorRequired"
    strong = await factories.person(client, operator=True, totp=True)
    done = await client.post(f"/api/v1/organizations/{org.id}/verify", headers=strong.headers)
    assert done.status_code == 200 and done.json()["verified"] is True
    log = await client.get(
        "/api/v1/audit", params={"action": "organization."}, headers=strong.headers
    )
    assert log.status_code == 200
    assert [e["action"] for e in log.json()["items"]] == ["organization.verify"]
    assert log.json()["items"][0]["actor_email"] == strong.user.email


async def test_operator_makes_another_operator(client: httpx.AsyncClient) -> None:
    operator = await factories.person(client, operator=True, totp=True)
    someone = await factories.person(client)
    response = await client.post(
        f"/api/v1/users/{someone.user.id}/operator",
        json={"is_operator": True},
        headers=operator.headers,
    )
    assert response.status_code == 200 and response.json()["is_operator"] is True
    self_demote = await client.post(
        f"/api/v1/users/{operator.user.id}/operator",
        json={"is_operator": False},
        headers=operator.headers,
    )
    assert self_demote.status_code == 422


async def test_audit_log_pages_with_a_cursor(client: httpx.AsyncClient) -> None:
    operator = await factories.person(client, operator=True, totp=True)
    for _ in range(5):
        await client.post(
            "/api/v1/organizations",
            headers=operator.headers,
            json={"name": "Org", "kind": "startup", "country": "ES", "region": "M"},
        )
    first = (
        await client.get(
            "/api/v1/audit", params={"limit": 3, "action": "organization"}, headers=operator.headers
        )
    ).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = (
        await client.get(
            "/api/v1/audit",
            headers=operator.headers,
            params={"limit": 3, "action": "organization", "cursor": first["next_cursor"]},
        )
    ).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    ids = [e["id"] for e in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
