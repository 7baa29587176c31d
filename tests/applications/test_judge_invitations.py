"""Judges invited by e-mail before they have an account: mail, sign-up, answer, revoke."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from service.accounts.models import User
from service.applications.models import JudgeAssignment, JudgeInvitation, JudgeInvitationStatus
from service.audit.models import AuditEvent
from service.challenges.models import Challenge, ChallengeStatus
from tests import factories
from tests.challenges.helpers import City, make_city
from tests.challenges.test_applications import open_challenge
from tests.challenges.test_judging_awards import closed_with_applications
from tests.smtp import Mailbox

Worker = Callable[[], Awaitable[None]]
EXPERT = "expert@example.org"


async def invite(
    client: httpx.AsyncClient, city: City, challenge_id: int, email: str = EXPERT
) -> httpx.Response:
    return await client.post(
        f"/api/v1/challenges/{challenge_id}/judges",
        json={"email": email},
        headers=city.manager.headers,
    )


async def sign_up(
    client: httpx.AsyncClient, mailbox: Mailbox, worker: Worker, *, email: str = EXPERT
) -> factories.Person:
    """Register through the API and confirm the address with the mailed link."""
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": factories.PASSWORD, "name": "Eva Expert"},
    )
    assert registered.status_code == 202, registered.text
    await worker()
    token = mailbox.last_link(email, "/verify-email/").rsplit("/", 1)[-1]
    verified = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200, verified.text
    user = await User.get(email=email)
    return factories.Person(user=user, token=await factories.token_for(client, user))


class TestInviteByEmail:
    async def test_invitee_registers_verifies_accepts_and_judges(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        city, challenge_id, _ = await closed_with_applications(client, count=1)
        invited = await invite(client, city, challenge_id, "  Expert@Example.ORG ")
        assert invited.status_code == 202, invited.text
        body = invited.json()
        assert body == {
            "invitation_id": body["invitation_id"],
            "challenge_id": challenge_id,
            "email": EXPERT,
            "status": "pending",
        }
        await worker_burst()
        [message] = mailbox.to(EXPERT)
        assert message["Subject"] == "You are invited to judge a challenge"
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert "Cut school-bus delays" in text and city.manager.user.name in text
        assert mailbox.last_link(EXPERT, "/register").endswith("/register")
        assert mailbox.last_link(EXPERT, "/invitations").endswith("/invitations")

        # Registered but not confirmed: the invitation is neither shown nor answerable.
        registered = await client.post(
            "/api/v1/auth/register",
            json={"email": EXPERT, "password": factories.PASSWORD, "name": "Eva Expert"},
        )
        assert registered.status_code == 202
        user = await User.get(email=EXPERT)
        unconfirmed = factories.Person(user=user, token=await factories.token_for(client, user))
        mine = await client.get("/api/v1/me/judge-invitations", headers=unconfirmed.headers)
        assert mine.json()["items"] == []
        accept = f"/api/v1/judge-invitations/{body['invitation_id']}/accept"
        assert (await client.post(accept, headers=unconfirmed.headers)).status_code == 404

        await worker_burst()
        token = mailbox.last_link(EXPERT, "/verify-email/").rsplit("/", 1)[-1]
        assert (
            await client.post("/api/v1/auth/verify-email", json={"token": token})
        ).status_code == 200
        mine = await client.get("/api/v1/me/judge-invitations", headers=unconfirmed.headers)
        [item] = mine.json()["items"]
        assert item["challenge_id"] == challenge_id and item["status"] == "pending"
        assert item["challenge_title"] == "Cut school-bus delays"

        accepted = await client.post(accept, headers=unconfirmed.headers)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "accepted"
        assignment = await JudgeAssignment.get(challenge_id=challenge_id, user_id=user.id)
        assert assignment.assigned_by_id == city.manager.user.id
        # The first judge of a closed challenge starts its judging; the judge is told.
        assert (await Challenge.get(id=challenge_id)).status is ChallengeStatus.judging
        await worker_burst()
        assert mailbox.last_link(EXPERT, f"/judging/{challenge_id}")
        judging = await client.get(
            f"/api/v1/challenges/{challenge_id}/judging", headers=unconfirmed.headers
        )
        assert judging.status_code == 200 and judging.json()["total"] == 1
        await factories.web_signin(client, user)
        assert (await client.get(f"/judging/{challenge_id}")).status_code == 200

        again = await client.post(accept, headers=unconfirmed.headers)
        assert again.status_code == 409 and again.json()["error"] == "InvitationAnswered"
        assert await JudgeAssignment.filter(challenge_id=challenge_id).count() == 1
        actions = [
            e.action for e in await AuditEvent.filter(object_type="judge_invitation").order_by("id")
        ]
        assert actions == ["challenge.invite_judge", "judge_invitation.accept"]
        inviter_notices = await client.get("/api/v1/me/notifications", headers=city.manager.headers)
        assert any("accepted" in n["title"] for n in inviter_notices.json()["items"])

    async def test_decline(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        city, challenge_id = await open_challenge(client)
        invitation_id = (await invite(client, city, challenge_id)).json()["invitation_id"]
        expert = await sign_up(client, mailbox, worker_burst)
        declined = await client.post(
            f"/api/v1/judge-invitations/{invitation_id}/decline", headers=expert.headers
        )
        assert declined.status_code == 200 and declined.json()["status"] == "declined"
        assert await JudgeAssignment.filter(challenge_id=challenge_id).count() == 0
        again = await client.post(
            f"/api/v1/judge-invitations/{invitation_id}/accept", headers=expert.headers
        )
        assert again.status_code == 409
        mine = await client.get("/api/v1/me/judge-invitations", headers=expert.headers)
        assert mine.json()["items"] == []
        assert await AuditEvent.filter(action="judge_invitation.decline").count() == 1

    async def test_manager_revokes(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        city, challenge_id = await open_challenge(client)
        invitation_id = (await invite(client, city, challenge_id)).json()["invitation_id"]
        revoke = f"/api/v1/judge-invitations/{invitation_id}/revoke"
        assert (await client.post(revoke, headers=city.editor.headers)).status_code == 403
        citizen = await factories.person(client)
        other = await make_city(client)
        assert (await client.post(revoke, headers=other.owner.headers)).status_code == 404
        assert (await client.post(revoke, headers=citizen.headers)).status_code == 404
        revoked = await client.post(revoke, headers=city.manager.headers)
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
        assert (await client.post(revoke, headers=city.manager.headers)).status_code == 409

        # Revoked, the address may be invited again; the old invitation stays closed.
        again = await invite(client, city, challenge_id)
        assert again.status_code == 202
        expert = await sign_up(client, mailbox, worker_burst)
        mine = await client.get("/api/v1/me/judge-invitations", headers=expert.headers)
        assert [i["id"] for i in mine.json()["items"]] == [again.json()["invitation_id"]]
        late = await client.post(
            f"/api/v1/judge-invitations/{invitation_id}/accept", headers=expert.headers
        )
        assert late.status_code == 409 and late.json()["error"] == "InvitationRevoked"
        assert await JudgeAssignment.filter(challenge_id=challenge_id).count() == 0
        assert await AuditEvent.filter(action="judge_invitation.revoke").count() == 1

    async def test_someone_else_gets_404(self, client: httpx.AsyncClient) -> None:
        city, challenge_id = await open_challenge(client)
        invitation_id = (await invite(client, city, challenge_id)).json()["invitation_id"]
        stranger = await factories.person(client)
        for answer in ("accept", "decline"):
            response = await client.post(
                f"/api/v1/judge-invitations/{invitation_id}/{answer}", headers=stranger.headers
            )
            assert response.status_code == 404
        assert (await JudgeInvitation.get(id=invitation_id)).status is JudgeInvitationStatus.pending

    async def test_second_pending_invitation_is_refused(self, client: httpx.AsyncClient) -> None:
        city, challenge_id = await open_challenge(client)
        assert (await invite(client, city, challenge_id)).status_code == 202
        twice = await invite(client, city, challenge_id, "EXPERT@example.org")
        assert twice.status_code == 422
        assert "pending invitation" in twice.json()["fields"]["email"]
        bad = await invite(client, city, challenge_id, "not-an-address")
        assert bad.status_code == 422 and "email" in bad.json()["fields"]
        assert await JudgeInvitation.all().count() == 1
        # Another challenge may invite the same address.
        other_city, other_id = await open_challenge(client)
        assert (await invite(client, other_city, other_id, EXPERT)).status_code == 202

    async def test_an_address_with_an_account_is_assigned_at_once(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        expert = await factories.person(client)
        assigned = await invite(client, city, challenge_id, expert.user.email.upper())
        assert assigned.status_code == 201, assigned.text
        assert assigned.json()["user_id"] == expert.user.id
        assert await JudgeInvitation.all().count() == 0
        unknown = await client.post(
            f"/api/v1/challenges/{challenge_id}/judges",
            json={"user_id": 2**31 - 1},
            headers=city.manager.headers,
        )
        assert unknown.status_code == 422 and "user_id" in unknown.json()["fields"]


class TestPages:
    async def test_judges_page_invites_lists_and_withdraws(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        city, challenge_id = await open_challenge(client)
        csrf = await factories.web_signin(client, city.manager.user)
        sent = await client.post(
            f"/challenges/{challenge_id}/judges", data={"csrf_token": csrf, "email": EXPERT}
        )
        assert sent.status_code == 303, sent.text
        page = (await client.get(f"/challenges/{challenge_id}/judges")).text
        assert "an invitation was sent" in page and EXPERT in page
        invitation = await JudgeInvitation.get(email=EXPERT)
        assert f'action="/judge-invitations/{invitation.id}/revoke"' in page
        await worker_burst()
        assert len(mailbox.to(EXPERT)) == 1

        twice = await client.post(
            f"/challenges/{challenge_id}/judges", data={"csrf_token": csrf, "email": EXPERT}
        )
        assert twice.status_code == 422
        assert "already has a pending invitation" in twice.text
        assert f'value="{EXPERT}"' in twice.text

        withdrawn = await client.post(
            f"/judge-invitations/{invitation.id}/revoke", data={"csrf_token": csrf}
        )
        assert withdrawn.status_code == 303
        page = (await client.get(f"/challenges/{challenge_id}/judges")).text
        assert f"The invitation to {EXPERT} was withdrawn." in page
        assert f"/judge-invitations/{invitation.id}/revoke" not in page

    async def test_invitations_page_shows_and_accepts(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        city, challenge_id = await open_challenge(client)
        invitation_id = (await invite(client, city, challenge_id)).json()["invitation_id"]
        registered = await client.post(
            "/api/v1/auth/register",
            json={"email": EXPERT, "password": factories.PASSWORD, "name": "Eva Expert"},
        )
        assert registered.status_code == 202
        user = await User.get(email=EXPERT)
        csrf = await factories.web_signin(client, user)
        waiting = (await client.get("/invitations")).text
        assert "Invitations to judge are waiting for this address" in waiting
        assert "Cut school-bus delays" not in waiting
        await worker_burst()
        token = mailbox.last_link(EXPERT, "/verify-email/").rsplit("/", 1)[-1]
        await client.post("/api/v1/auth/verify-email", json={"token": token})
        page = (await client.get("/invitations")).text
        assert "Invitations to judge" in page and "Cut school-bus delays" in page
        assert f'action="/judge-invitations/{invitation_id}/accept"' in page
        accepted = await client.post(
            f"/judge-invitations/{invitation_id}/accept", data={"csrf_token": csrf}
        )
        assert accepted.status_code == 303
        assert accepted.headers["location"] == f"/judging/{challenge_id}"
        judging = await client.get(f"/judging/{challenge_id}")
        assert judging.status_code == 200 and "You are a judge of this challenge." in judging.text
        assert await JudgeAssignment.filter(challenge_id=challenge_id, user_id=user.id).exists()
        assert "You have no pending invitations." in (await client.get("/invitations")).text
