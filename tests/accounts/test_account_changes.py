"""One's own account through HTTP: name and language, a new e-mail address, a copy of one's
data, deletion.

The defects these tests reproduce: nobody could change their name or language, nor their
e-mail address; there was no way to take one's data away or to delete one's account.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from service import db
from service.accounts import account_changes
from service.accounts.actor import SESSION_COOKIE, hash_token
from service.accounts.models import (
    ApiToken,
    Membership,
    OidcIdentity,
    OrganizationKind,
    Role,
    User,
    WebSession,
)
from service.applications.models import Application, ApplicationStatus, Award
from service.audit.models import AuditEvent
from service.config import Settings
from service.participation.models import Comment, Proposal
from service.rewards import ledger
from service.rewards.models import AccountKind, Milestone, MilestoneStatus, TransactionKind
from tests import factories
from tests.challenges.factories import make_draft_challenge
from tests.smtp import Mailbox

Worker = Callable[[], Awaitable[None]]
NEW = "ana.new@example.org"


def _snapshot(user: User) -> tuple[object, ...]:
    return (
        user.email,
        user.name,
        user.language,
        user.time_zone,
        user.password_hash,
        user.totp_secret,
        user.deleted_at,
    )


async def _fresh(user: User) -> User:
    return await User.get(id=user.id)


class TestProfile:
    async def test_name_language_and_time_zone_change_through_the_api(
        self, client: httpx.AsyncClient
    ) -> None:
        me = await factories.person(client)
        response = await client.patch(
            "/api/v1/me",
            json={"name": "  Ana Ruiz ", "language": "pt", "time_zone": "Europe/Lisbon"},
            headers=me.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["name"], body["language"], body["time_zone"]) == (
            "Ana Ruiz",
            "pt",
            "Europe/Lisbon",
        )
        user = await _fresh(me.user)
        assert (user.name, user.language, user.time_zone) == ("Ana Ruiz", "pt", "Europe/Lisbon")
        # A field left out stays as it is.
        response = await client.patch("/api/v1/me", json={"language": "es"}, headers=me.headers)
        assert response.status_code == 200
        user = await _fresh(me.user)
        assert (user.name, user.language, user.time_zone) == ("Ana Ruiz", "es", "Europe/Lisbon")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"language": "fr"}, "language"),
            ({"name": "   "}, "name"),
            ({"name": "x" * 121}, "name"),
            ({"time_zone": "Mars/Olympus"}, "time_zone"),
            ({"time_zone": ""}, "time_zone"),
            ({"name": "Ana", "language": "es", "email": "other@example.org"}, "email"),
        ],
    )
    async def test_bad_input_is_refused_and_changes_nothing(
        self, client: httpx.AsyncClient, body: dict[str, str], field: str
    ) -> None:
        me = await factories.person(client)
        before = _snapshot(await _fresh(me.user))
        response = await client.patch("/api/v1/me", json=body, headers=me.headers)
        assert response.status_code == 422, response.text
        assert field in response.json()["fields"]
        assert _snapshot(await _fresh(me.user)) == before

    async def test_the_page_then_speaks_the_language_chosen(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(name="Ana")
        csrf = await factories.web_signin(client, user)
        page = await client.get("/account")
        assert '<html lang="en">' in page.text and 'id="profile"' in page.text
        response = await client.post(
            "/account/profile", data={"csrf_token": csrf, "name": "Ana Ruiz", "language": "es"}
        )
        assert response.status_code == 303
        assert response.cookies.get("lang") == "es"
        page = await client.get("/account")
        assert '<html lang="es">' in page.text
        assert "Ana Ruiz" in page.text
        user = await _fresh(user)
        assert (user.name, user.language) == ("Ana Ruiz", "es")

    async def test_the_form_with_a_blank_name_is_shown_again_and_nothing_changes(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(name="Ana")
        csrf = await factories.web_signin(client, user)
        response = await client.post(
            "/account/profile", data={"csrf_token": csrf, "name": " ", "language": "xx"}
        )
        assert response.status_code == 422
        assert "Enter your name." in response.text
        assert 'aria-invalid="true"' in response.text
        user = await _fresh(user)
        assert (user.name, user.language) == ("Ana", "en")


class TestEmailChange:
    async def test_the_address_changes_only_when_the_link_is_opened(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        me = await factories.person(client, email="ana@example.org")
        response = await client.post(
            "/api/v1/me/email",
            json={"email": "Ana.New@Example.org", "password": factories.PASSWORD},
            headers=me.headers,
        )
        assert response.status_code == 202, response.text
        await worker_burst()
        link = mailbox.last_link(NEW, "/account/email/confirm/")
        assert (await _fresh(me.user)).email == "ana@example.org"
        assert mailbox.to("ana@example.org") == []
        token = link.rsplit("/", 1)[-1]
        response = await client.post("/api/v1/me/email/confirm", json={"token": token})
        assert response.status_code == 200, response.text
        assert response.json()["email"] == NEW
        user = await _fresh(me.user)
        assert user.email == NEW and user.email_verified_at is not None
        await worker_burst()
        notice = mailbox.to("ana@example.org")
        assert len(notice) == 1 and isinstance(notice[0], EmailMessage)
        assert NEW in notice[0].get_content()
        # The link works once.
        again = await client.post("/api/v1/me/email/confirm", json={"token": token})
        assert again.status_code == 400
        assert await AuditEvent.filter(action="user.change_email", object_id=str(user.id)).exists()

    async def test_a_wrong_password_sends_nothing(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        me = await factories.person(client, email="ana@example.org")
        response = await client.post(
            "/api/v1/me/email",
            json={"email": NEW, "password": "not-the-password"},
            headers=me.headers,
        )
        assert response.status_code == 422
        assert "password" in response.json()["fields"]
        await worker_burst()
        assert mailbox.to(NEW) == []

    async def test_with_two_factor_a_code_is_needed(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        me = await factories.person(client, totp=True)
        body = {"email": NEW, "password": factories.PASSWORD}
        response = await client.post("/api/v1/me/email", json=body, headers=me.headers)
        assert response.status_code == 422
        assert "code" in response.json()["fields"]
        body["code"] = await factories.totp_code(me.user)
        response = await client.post("/api/v1/me/email", json=body, headers=me.headers)
        assert response.status_code == 202, response.text
        await worker_burst()
        assert mailbox.last_link(NEW, "/account/email/confirm/")

    async def test_an_address_of_another_account_is_refused(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        await factories.make_user(email=NEW)
        me = await factories.person(client, email="ana@example.org")
        response = await client.post(
            "/api/v1/me/email",
            json={"email": NEW.upper(), "password": factories.PASSWORD},
            headers=me.headers,
        )
        assert response.status_code == 409
        assert response.json()["fields"]["email"].startswith("Another account uses")
        await worker_burst()
        assert mailbox.to(NEW) == []

    async def test_an_address_taken_meanwhile_is_refused_when_the_link_is_opened(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        me = await factories.person(client, email="ana@example.org")
        await client.post(
            "/api/v1/me/email",
            json={"email": NEW, "password": factories.PASSWORD},
            headers=me.headers,
        )
        await worker_burst()
        token = mailbox.last_link(NEW, "/account/email/confirm/").rsplit("/", 1)[-1]
        await factories.make_user(email=NEW)
        response = await client.post("/api/v1/me/email/confirm", json={"token": token})
        assert response.status_code == 409
        assert (await _fresh(me.user)).email == "ana@example.org"

    @pytest.mark.parametrize("kind", ["expired", "forged", "other salt"])
    async def test_a_bad_link_changes_nothing(
        self, client: httpx.AsyncClient, settings: Settings, kind: str
    ) -> None:
        user = await factories.make_user(email="ana@example.org")

        class DayOld(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(time.time()) - account_changes.EMAIL_CHANGE_TTL_SECONDS - 60

        claims = {"u": user.id, "from": account_changes._digest(user.email), "to": NEW}
        if kind == "expired":
            token = URLSafeTimedSerializer(
                settings.secret_key, salt=account_changes._EMAIL_CHANGE_SALT, signer=DayOld
            ).dumps(claims)
        elif kind == "forged":
            token = URLSafeTimedSerializer(
                "not-the-secret", salt=account_changes._EMAIL_CHANGE_SALT
            ).dumps(claims)
        else:
            token = URLSafeTimedSerializer(settings.secret_key, salt="other").dumps(claims)
        response = await client.post("/api/v1/me/email/confirm", json={"token": token})
        assert response.status_code == 400
        assert (await _fresh(user)).email == "ana@example.org"

    async def test_through_the_pages(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        user = await factories.make_user(email="ana@example.org")
        csrf = await factories.web_signin(client, user)
        assert (await client.get("/account/email")).status_code == 200
        wrong = await client.post(
            "/account/email", data={"csrf_token": csrf, "email": NEW, "password": "nope"}
        )
        assert wrong.status_code == 422 and "This password is not right." in wrong.text
        # What was typed stays in the form (the password never does).
        assert f'value="{NEW}"' in wrong.text
        bad = await client.post(
            "/account/email",
            data={"csrf_token": csrf, "email": "not an address", "password": factories.PASSWORD},
        )
        assert bad.status_code == 422 and "Enter a valid e-mail address." in bad.text
        sent = await client.post(
            "/account/email",
            data={"csrf_token": csrf, "email": NEW, "password": factories.PASSWORD},
        )
        assert sent.status_code == 303
        await worker_burst()
        token = mailbox.last_link(NEW, "/account/email/confirm/").rsplit("/", 1)[-1]
        path = f"/account/email/confirm/{token}"
        shown = await client.get(path)
        assert shown.status_code == 200 and (await _fresh(user)).email == "ana@example.org"
        done = await client.post(path, data={"csrf_token": csrf})
        assert done.status_code == 303
        assert (await _fresh(user)).email == NEW


async def _contributions(user: User) -> tuple[Proposal, Comment]:
    async with db.transaction(None):
        proposal = await Proposal.create(
            author=user,
            title="Shade at the bus stops",
            description="The stops on Calle Mayor have no shade in summer.",
            region="Madrid",
        )
        comment = await Comment.create(proposal=proposal, author=user, text="Please, yes.")
    return proposal, comment


class TestExport:
    async def test_everything_about_the_person_and_nothing_about_others(
        self, client: httpx.AsyncClient
    ) -> None:
        me = await factories.person(client, name="Ana Ruiz")
        other = await factories.make_user(name="Bea Other")
        await _contributions(me.user)
        await _contributions(other)
        await factories.make_org(members={me.user: Role.owner})
        await client.patch("/api/v1/me", json={"language": "es"}, headers=me.headers)
        response = await client.get("/api/v1/me/export", headers=me.headers)
        assert response.status_code == 200
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["content-type"].startswith("application/json")
        data = response.json()
        assert set(data) == {"exported_at", *account_changes.export_sections()}
        assert data["profile"]["name"] == "Ana Ruiz"
        assert [p["title"] for p in data["proposals"]] == ["Shade at the bus stops"]
        assert [c["text"] for c in data["comments"]] == ["Please, yes."]
        assert len(data["memberships"]) == 1 and data["memberships"][0]["role"] == "owner"
        assert len(data["api_tokens"]) == 1
        assert any(e["action"] == "user.update_profile" for e in data["audit_entries"])
        assert "Bea Other" not in response.text

    async def test_the_export_is_read_in_batches(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        me = await factories.person(client)
        proposal, _ = await _contributions(me.user)
        async with db.transaction(None):
            for n in range(4):
                await Comment.create(proposal=proposal, author=me.user, text=f"More {n}")
        monkeypatch.setattr(account_changes, "EXPORT_BATCH", 2)
        data = (await client.get("/api/v1/me/export", headers=me.headers)).json()
        assert [c["text"] for c in data["comments"]] == [
            "Please, yes.",
            "More 0",
            "More 1",
            "More 2",
            "More 3",
        ]

    async def test_the_account_page_offers_the_download(self, client: httpx.AsyncClient) -> None:
        user = await factories.make_user(name="Ana Ruiz")
        await factories.web_signin(client, user)
        response = await client.get("/account/export")
        assert response.status_code == 200
        assert "attachment" in response.headers["content-disposition"]
        data = json.loads(response.text)
        assert data["profile"]["email"] == user.email
        assert len(data["sessions"]) == 1


async def _award_with_unpaid_milestone(city_owner: User) -> str:
    city = await factories.make_org(
        kind=OrganizationKind.government, name="City of Teruel", members={city_owner: Role.owner}
    )
    startup = await factories.make_org(name="Startup S")
    challenge = await make_draft_challenge(city)
    async with db.transaction(None):
        application = await Application.create(
            challenge=challenge,
            organization=startup,
            title="Route planner",
            summary="Plan bus routes.",
            status=ApplicationStatus.awarded,
        )
        award = await Award.create(
            challenge=challenge,
            application=application,
            amount_minor=100_000,
            currency="EUR",
            rationale="Best plan.",
            created_by_id=city_owner.id,
        )
        await Milestone.create(
            award=award,
            title="Pilot",
            amount_minor=100_000,
            currency="EUR",
            due_at=datetime.now(UTC) + timedelta(days=30),
            status=MilestoneStatus.approved,
        )
    return city.name


class TestDeletion:
    async def test_personal_data_is_erased_and_contributions_stay(
        self, client: httpx.AsyncClient
    ) -> None:
        me = await factories.person(client, name="Ana Ruiz", email="ana@example.org", totp=True)
        proposal, comment = await _contributions(me.user)
        await factories.make_org(members={me.user: Role.member})
        async with db.transaction(None):
            await OidcIdentity.create(user=me.user, issuer="https://idp.example", subject="ana")
        response = await client.post(
            "/api/v1/me/delete",
            json={"password": factories.PASSWORD, "code": await factories.totp_code(me.user)},
            headers=me.headers,
        )
        assert response.status_code == 204, response.text
        user = await _fresh(me.user)
        assert user.email == f"deleted-{user.id}@deleted.invalid"
        assert user.name == "Former member"
        assert user.password_hash is None and user.totp_secret is None
        assert user.totp_enabled_at is None and user.deleted_at is not None
        assert not await Membership.filter(user_id=user.id).exists()
        assert not await OidcIdentity.filter(user_id=user.id).exists()
        assert not await ApiToken.filter(user_id=user.id, revoked_at=None).exists()
        assert not await AuditEvent.filter(actor_email="ana@example.org").exists()
        # The token of the request no longer works, nor does signing in.
        assert (await client.get("/api/v1/me", headers=me.headers)).status_code == 401
        signin = await client.post(
            "/api/v1/auth/token", json={"email": "ana@example.org", "password": factories.PASSWORD}
        )
        assert signin.status_code == 401
        # What they wrote stays, as a former member's.
        assert await Proposal.filter(id=proposal.id).exists()
        assert await Comment.filter(id=comment.id).exists()
        page = await client.get(f"/proposals/{proposal.id}?lang=en")
        assert page.status_code == 200
        assert "Former member" in page.text and "Ana Ruiz" not in page.text
        # The address is free again.
        again = await client.post(
            "/api/v1/auth/register",
            json={"email": "ana@example.org", "password": "another-long-pass-77", "name": "Ana"},
        )
        assert again.status_code == 202
        assert await User.filter(email="ana@example.org").count() == 1

    @pytest.mark.parametrize(
        "body",
        [{"password": "not-the-password"}, {"password": ""}, {"code": "123456"}],
    )
    async def test_without_the_password_nothing_changes(
        self, client: httpx.AsyncClient, body: dict[str, str]
    ) -> None:
        me = await factories.person(client)
        before = _snapshot(await _fresh(me.user))
        response = await client.post("/api/v1/me/delete", json=body, headers=me.headers)
        assert response.status_code == 422
        assert _snapshot(await _fresh(me.user)) == before
        assert (await client.get("/api/v1/me", headers=me.headers)).status_code == 200

    async def test_the_last_owner_of_an_organization_owed_money_is_told_what_to_do(
        self, client: httpx.AsyncClient
    ) -> None:
        me = await factories.person(client)
        city = await _award_with_unpaid_milestone(me.user)
        before = _snapshot(await _fresh(me.user))
        response = await client.post(
            "/api/v1/me/delete", json={"password": factories.PASSWORD}, headers=me.headers
        )
        assert response.status_code == 409
        detail = response.json()["detail"]
        assert city in detail and "milestones not paid" in detail
        assert "Invite another member as an owner" in detail
        assert _snapshot(await _fresh(me.user)) == before
        # With a second owner, the obligations have someone to settle them.
        other = await factories.make_user()
        org_id = (await Membership.get(user_id=me.user.id)).organization_id
        async with db.transaction(None):
            await Membership.create(user=other, organization_id=org_id, role=Role.owner)
        response = await client.post(
            "/api/v1/me/delete", json={"password": factories.PASSWORD}, headers=me.headers
        )
        assert response.status_code == 204

    async def test_escrow_held_for_a_citys_challenge_blocks_until_refunded(
        self, client: httpx.AsyncClient
    ) -> None:
        me = await factories.person(client)
        city = await factories.make_org(
            kind=OrganizationKind.government, name="City of Soria", members={me.user: Role.owner}
        )
        challenge = await make_draft_challenge(city)
        ids: dict[str, Any] = {
            "challenge_id": challenge.id,
            "city_id": city.id,
            "counterpart_id": city.id,
        }
        async with db.transaction(None):
            source = await ledger.account(
                AccountKind.funding_source, "EUR", organization_id=city.id
            )
            escrow = await ledger.account(AccountKind.escrow, "EUR", challenge_id=challenge.id)
            await ledger.move("test-fund", TransactionKind.fund, source, escrow, 500_000, **ids)
        body = {"password": factories.PASSWORD}
        refused = await client.post("/api/v1/me/delete", json=body, headers=me.headers)
        assert refused.status_code == 409
        assert "City of Soria" in refused.json()["detail"]
        assert "money held in escrow" in refused.json()["detail"]
        assert (await _fresh(me.user)).deleted_at is None
        async with db.transaction(None):
            back = await ledger.account(AccountKind.refunded, "EUR", organization_id=city.id)
            await ledger.move("test-refund", TransactionKind.refund, escrow, back, 500_000, **ids)
        done = await client.post("/api/v1/me/delete", json=body, headers=me.headers)
        assert done.status_code == 204, done.text

    async def test_through_the_page_the_browser_is_signed_out(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(name="Ana Ruiz")
        csrf = await factories.web_signin(client, user)
        page = await client.get("/account/delete")
        assert page.status_code == 200 and "This cannot be undone." in page.text
        wrong = await client.post("/account/delete", data={"csrf_token": csrf, "password": "x"})
        assert wrong.status_code == 422 and (await _fresh(user)).deleted_at is None
        done = await client.post(
            "/account/delete", data={"csrf_token": csrf, "password": factories.PASSWORD}
        )
        assert done.status_code == 303
        assert (await _fresh(user)).deleted_at is not None
        assert not await WebSession.filter(user_id=user.id, ended_at=None).exists()
        assert (await client.get("/account")).status_code == 401

    async def test_single_sign_on_people_delete_within_five_minutes_of_signing_in(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(name="Ana Ruiz")
        await User.filter(id=user.id).update(password_hash=None)
        raw, csrf = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        async with db.transaction(None):
            session = await WebSession.create(
                user=user,
                token_hash=hash_token(raw),
                csrf_token=csrf,
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        client.cookies.set(SESSION_COOKIE, raw)
        await WebSession.filter(id=session.id).update(
            created_at=datetime.now(UTC) - timedelta(minutes=10)
        )
        stale = await client.post("/account/delete", data={"csrf_token": csrf})
        assert stale.status_code == 403 and "Sign in again" in stale.text
        assert (await _fresh(user)).deleted_at is None
        await WebSession.filter(id=session.id).update(reauth_at=datetime.now(UTC))
        page = await client.get("/account/delete")
        assert 'name="password"' not in page.text
        done = await client.post("/account/delete", data={"csrf_token": csrf})
        assert done.status_code == 303
        assert (await _fresh(user)).deleted_at is not None

    async def test_the_page_names_the_obligation_before_the_password_is_typed(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        city = await _award_with_unpaid_milestone(user)
        await factories.web_signin(client, user)
        page = await client.get("/account/delete?lang=en")
        assert page.status_code == 200
        assert city in page.text and "cannot be deleted yet" in page.text
        assert 'action="/account/delete"' not in page.text
