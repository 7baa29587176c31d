"""Sessions through HTTP (ASVS 5.0 V7.3, V7.5, V6.2.3, V3.3.1).

The defects these tests reproduce: a session lived 14 days however long it sat unused; its
owner could neither see where they were signed in nor sign one browser out; the password
could only be changed through the e-mailed reset link; cookies were named and flagged for
https only when the environment was "production", whatever the site's address.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from starlette.applications import Starlette

from service.accounts.actor import SESSION_COOKIE
from service.accounts.models import ApiToken, Role, User, WebSession
from service.app import create_app
from service.audit.models import AuditEvent
from service.config import Settings
from tests import factories

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "Gx7#pq-velvet-harbor-2"


@pytest.fixture
async def second(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser, on another network."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.23", 5000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"User-Agent": IPHONE}
    ) as http:
        yield http


async def _age(user: User, **ago: float) -> None:
    """Every session of the user was last used this long ago."""
    await WebSession.filter(user_id=user.id).update(
        last_seen_at=datetime.now(UTC) - timedelta(**ago)
    )


class TestASVS_V7_3_1_IdleTimeout:
    """ASVS V7.3.1: a session unused for too long ends (by risk: shorter for money and admin)."""

    async def test_a_citizens_session_ends_after_a_week_unused(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        await factories.web_signin(client, user)
        await _age(user, days=6)
        assert (await client.get("/account")).status_code == 200
        await _age(user, days=7, minutes=1)
        assert (await client.get("/account")).status_code == 401
        session = await WebSession.get(user_id=user.id)
        assert session.ended_at is not None
        event = await AuditEvent.get(action="user.session_end", object_id=str(session.id))
        assert event.details["reason"] == "idle"

    @pytest.mark.parametrize("who", ["operator", "finance", "city owner"])
    async def test_operators_and_finance_sessions_end_after_two_hours(
        self, client: httpx.AsyncClient, who: str
    ) -> None:
        user = await factories.make_user(operator=who == "operator")
        if who != "operator":
            role = Role.finance if who == "finance" else Role.owner
            from service.accounts.models import OrganizationKind

            await factories.make_org(kind=OrganizationKind.government, members={user: role})
        await factories.web_signin(client, user)
        await _age(user, hours=1, minutes=50)
        assert (await client.get("/account")).status_code == 200
        await _age(user, hours=2, minutes=1)
        assert (await client.get("/account")).status_code == 401

    async def test_a_startup_owner_keeps_the_week(self, client: httpx.AsyncClient) -> None:
        user = await factories.make_user()
        await factories.make_org(members={user: Role.owner})
        await factories.web_signin(client, user)
        await _age(user, hours=3)
        assert (await client.get("/account")).status_code == 200

    async def test_last_seen_is_written_at_most_once_a_minute(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        await factories.web_signin(client, user)
        await _age(user, seconds=30)
        before = (await WebSession.get(user_id=user.id)).last_seen_at
        for _ in range(3):
            await client.get("/account")
        assert (await WebSession.get(user_id=user.id)).last_seen_at == before
        await _age(user, minutes=2)
        await client.get("/account")
        seen = (await WebSession.get(user_id=user.id)).last_seen_at
        assert seen is not None and datetime.now(UTC) - seen < timedelta(seconds=10)

    async def test_the_absolute_limit_still_holds(self, client: httpx.AsyncClient) -> None:
        user = await factories.make_user()
        await factories.web_signin(client, user)
        await WebSession.filter(user_id=user.id).update(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)
        )
        assert (await client.get("/account")).status_code == 401


class TestASVS_V7_5_2_SessionsAreListedAndCanBeEnded:
    """ASVS V7.5.2: users see their active sessions and can end any or all of them."""

    async def test_the_account_page_lists_browsers_and_tokens(
        self, client: httpx.AsyncClient, second: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        client.headers.update({"User-Agent": FIREFOX, "Accept-Language": "es-AR,es;q=0.9"})
        await factories.web_signin(client, user)
        await factories.web_signin(second, user)
        await factories.token_for(client, user)
        page = (await client.get("/account?lang=en")).text
        section = page.split('id="sessions"')[1]
        assert "Firefox 128 on Windows" in section and "this browser" in section
        assert "Mobile Safari 17 on iOS (iPhone)" in section
        assert "Argentina" in section and "198.51.100.0/24" in section
        assert "API tokens" in section
        assert section.count('action="/account/sessions/') == 3  # two browsers + "everywhere"
        assert section.count('action="/account/tokens/') == 1

    async def test_ending_one_session_signs_only_that_browser_out(
        self, client: httpx.AsyncClient, second: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        csrf = await factories.web_signin(client, user)
        await factories.web_signin(second, user)
        other = await WebSession.filter(user_id=user.id).order_by("-id").first()
        assert other is not None
        ended = await client.post(f"/account/sessions/{other.id}/end", data={"csrf_token": csrf})
        assert ended.status_code == 303
        assert (await second.get("/account")).status_code == 401
        assert (await client.get("/account")).status_code == 200
        assert await AuditEvent.filter(action="user.session_end", object_id=str(other.id)).exists()
        # Somebody else's session is not found, and stays.
        stranger = await factories.make_user()
        await factories.web_signin(second, stranger)
        theirs = await WebSession.get(user_id=stranger.id, ended_at=None)
        refused = await client.post(f"/account/sessions/{theirs.id}/end", data={"csrf_token": csrf})
        assert refused.status_code == 404
        assert (await second.get("/account")).status_code == 200

    async def test_sign_out_everywhere_else_ends_other_sessions_and_tokens(
        self, client: httpx.AsyncClient, second: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        csrf = await factories.web_signin(client, user)
        await factories.web_signin(second, user)
        token = await factories.token_for(client, user)
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200
        done = await client.post("/account/sessions/end-others", data={"csrf_token": csrf})
        assert done.status_code == 303
        assert (await second.get("/account")).status_code == 401
        assert (await client.get("/api/v1/me", headers=bearer)).status_code == 401
        page = await client.get("/account")
        assert page.status_code == 200
        assert page.text.split('id="sessions"')[1].count('action="/account/tokens/') == 0
        event = await AuditEvent.get(action="user.session_end_others")
        assert event.details["sessions"] == 1 and event.details["tokens"] == 1

    async def test_revoking_one_token_leaves_the_others(self, client: httpx.AsyncClient) -> None:
        user = await factories.make_user()
        csrf = await factories.web_signin(client, user)
        first = await factories.token_for(client, user)
        kept = await factories.token_for(client, user)
        row = await ApiToken.filter(user_id=user.id).order_by("id").first()
        assert row is not None
        revoked = await client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf})
        assert revoked.status_code == 303
        for token, status in ((first, 401), (kept, 200)):
            me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == status


class TestASVS_V6_2_3_ChangingThePasswordNeedsTheCurrentOne:
    """ASVS V6.2.2 and V6.2.3: users change their password with the current one and a new one."""

    async def test_wrong_current_password_changes_nothing(self, client: httpx.AsyncClient) -> None:
        user = await factories.make_user()
        csrf = await factories.web_signin(client, user)
        assert "Your current password" in (await client.get("/account/password")).text
        wrong = await client.post(
            "/account/password",
            data={"csrf_token": csrf, "password": "not-my-password", "new_password": NEW_PASSWORD},
        )
        assert wrong.status_code == 422
        assert "This password is not right." in wrong.text
        weak = await client.post(
            "/account/password",
            data={
                "csrf_token": csrf,
                "password": factories.PASSWORD,
                "new_password": "CivicChallenges2024!",
            },
        )
        assert weak.status_code == 422 and "too easy to guess" in weak.text
        assert (await User.get(id=user.id)).password_hash == user.password_hash

    async def test_the_new_password_works_and_other_sign_ins_end(
        self, client: httpx.AsyncClient, second: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        csrf = await factories.web_signin(client, user)
        await factories.web_signin(second, user)
        changed = await client.post(
            "/account/password",
            data={
                "csrf_token": csrf,
                "password": factories.PASSWORD,
                "new_password": NEW_PASSWORD,
            },
        )
        assert changed.status_code == 303, changed.text
        assert (await client.get("/account")).status_code == 200
        assert (await second.get("/account")).status_code == 401
        old = {"email": user.email, "password": factories.PASSWORD}
        assert (await client.post("/api/v1/auth/token", json=old)).status_code == 401
        new = {**old, "password": NEW_PASSWORD}
        assert (await client.post("/api/v1/auth/token", json=new)).status_code == 200
        assert await AuditEvent.filter(action="user.change_password", actor_id=user.id).exists()

    async def test_with_two_factor_on_a_current_code_is_needed(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(totp=True)
        csrf = await factories.web_signin(client, user)
        body = {"csrf_token": csrf, "password": factories.PASSWORD, "new_password": NEW_PASSWORD}
        without = await client.post("/account/password", data=body)
        assert without.status_code == 422 and 'name="code"' in without.text
        assert (await User.get(id=user.id)).password_hash == user.password_hash
        # The sign-in used this step's code: the next step's is a fresh one.
        code = pyotp.TOTP(user.totp_secret or "").at(time.time() + 30)
        done = await client.post("/account/password", data={**body, "code": code})
        assert done.status_code == 303, done.text


class TestASVS_V3_3_1_HostPrefixedSecureCookies:
    """ASVS V3.3.1: over https, cookies are Secure and `__Host-` prefixed, in any environment."""

    async def test_https_address_gives_host_cookies(
        self, app: Starlette, settings: Settings
    ) -> None:
        https = create_app(settings.with_overrides(base_url="https://testserver"))
        # Same database and Redis as the suite's app (the lifespan would open them again).
        https.state.deps = app.state.deps
        user = await factories.make_user()
        transport = httpx.ASGITransport(app=https)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as web:
            page = await web.get("/signin")
            flow = page.headers["set-cookie"]
            assert flow.startswith("__Host-civic_flow=") and "secure" in flow.lower()
            signed_in = await web.post(
                "/signin",
                data={
                    "csrf_token": factories.csrf_of(page.text),
                    "email": user.email,
                    "password": factories.PASSWORD,
                },
            )
            assert signed_in.status_code == 303, signed_in.text
            cookies = signed_in.headers.get_list("set-cookie")
            named = {c.split("=", 1)[0]: c.lower() for c in cookies}
            for name in ("__Host-civic_session", "__Host-civic_device"):
                assert name in named, cookies
                assert "secure" in named[name] and "path=/" in named[name]
                assert "domain=" not in named[name]
            assert (await web.get("/account")).status_code == 200
            # The plain name is not read over https: a cookie set by an http page is ignored.
            raw = web.cookies["__Host-civic_session"]
            web.cookies.clear()
            web.cookies.set(SESSION_COOKIE, raw)
            assert (await web.get("/account")).status_code == 401
