"""Two-factor sign-in that holds: re-authentication, other sessions, replay, recovery codes.

Each class names the OWASP ASVS 5.0 requirement it checks; everything goes through HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
from starlette.applications import Starlette

from service import db
from service.accounts import tokens
from service.accounts.actor import SESSION_COOKIE, hash_token
from service.accounts.models import ApiToken, RecoveryCode, User, WebSession
from service.audit.models import AuditEvent
from service.config import Settings
from tests import factories

OLD = timedelta(minutes=30)


async def session_for(
    client: httpx.AsyncClient, user: User, *, age: timedelta = OLD, mfa: bool = False
) -> str:
    """A session opened `age` ago (password only unless `mfa`); returns its CSRF token."""
    raw, csrf = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    async with db.transaction(None):
        session = await WebSession.create(
            user=user,
            token_hash=hash_token(raw),
            csrf_token=csrf,
            mfa=mfa,
            expires_at=datetime.now(UTC) + timedelta(days=1),
        )
        await WebSession.filter(id=session.id).update(created_at=datetime.now(UTC) - age)
    client.cookies.set(SESSION_COOKIE, raw)
    return csrf


async def code_of(user_id: int, secret: str) -> str:
    """A code of the current step, as if the previous use of the app was a step ago."""
    await User.filter(id=user_id).update(totp_last_step=None)
    return pyotp.TOTP(secret).now()


def browser(app: Starlette) -> httpx.AsyncClient:
    """Another browser of the same person."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def enable_via_api(client: httpx.AsyncClient, user: User) -> tuple[str, list[str], str]:
    """Turn two-factor on through the API; returns (secret, recovery codes, new token)."""
    token = await factories.token_for(client, user)
    started = await client.post(
        "/api/v1/me/totp", json={"password": factories.PASSWORD}, headers=bearer(token)
    )
    assert started.status_code == 201, started.text
    secret = started.json()["secret"]
    confirmed = await client.post(
        "/api/v1/me/totp/confirm",
        json={"code": pyotp.TOTP(secret).now()},
        headers=bearer(token),
    )
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    return secret, body["recovery_codes"], body["access_token"]


def sign_in_body(user: User, code: str | None = None) -> dict[str, str]:
    body = {"email": user.email, "password": factories.PASSWORD}
    if code is not None:
        body["totp"] = code
    return body


def csrf_in(page: str) -> str:
    return factories.csrf_of(page)


# --- finding: two-factor could be replaced from an old session ------------------------------


class TestChangingTwoFactorNeedsReauthentication:
    """ASVS V7.5.1: changing the two-factor settings needs the password and a current code."""

    async def test_password_only_session_cannot_swap_the_secret(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(totp=True)
        csrf = await session_for(client, user)
        swapped = await client.post("/account/totp", data={"csrf_token": csrf})
        # The session is asked to confirm who it is; nothing changed.
        assert swapped.status_code == 200
        assert 'name="password"' in swapped.text and 'name="code"' in swapped.text
        again = await User.get(id=user.id)
        assert again.totp_secret == user.totp_secret
        assert again.totp_enabled_at is not None and again.totp_pending_secret is None
        # A token still needs the code, and confirming anything is refused.
        token = await client.post("/api/v1/auth/token", json=sign_in_body(user))
        assert token.status_code == 401
        confirm = await client.post(
            "/account/totp/confirm", data={"csrf_token": csrf, "code": "123456"}
        )
        assert confirm.status_code == 303
        assert (await User.get(id=user.id)).totp_secret == user.totp_secret

    async def test_the_password_alone_is_not_enough_when_two_factor_is_on(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(totp=True)
        csrf = await session_for(client, user)
        for path in ("/account/totp", "/account/totp/disable", "/account/recovery-codes"):
            page = await client.post(
                path, data={"csrf_token": csrf, "password": factories.PASSWORD}
            )
            assert page.status_code == 422, path
            assert 'id="f-code-error"' in page.text, path
            wrong = await client.post(
                path, data={"csrf_token": csrf, "password": "not-it-at-all", "code": "123456"}
            )
            assert wrong.status_code == 422 and 'id="f-password-error"' in wrong.text, path
        again = await User.get(id=user.id)
        assert again.totp_secret == user.totp_secret
        assert again.totp_enabled_at == user.totp_enabled_at
        assert await RecoveryCode.filter(user_id=user.id).count() == 0
        failed = await AuditEvent.filter(action="user.reauth_failed", actor_id=user.id)
        assert sorted(e.details["field"] for e in failed) == ["password"] * 3

    async def test_reauthentication_lasts_five_minutes_on_the_session(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(totp=True)
        assert user.totp_secret
        csrf = await session_for(client, user)
        code = await code_of(user.id, user.totp_secret)
        started = await client.post(
            "/account/totp",
            data={"csrf_token": csrf, "password": factories.PASSWORD, "code": code},
        )
        assert started.status_code == 200, started.text
        assert "<svg" in started.text
        pending = (await User.get(id=user.id)).totp_pending_secret
        assert pending and pending in started.text
        # The active secret still signs in until the new one is confirmed.
        assert (await User.get(id=user.id)).totp_secret == user.totp_secret
        # Within five minutes the session needs no new typing...
        again = await client.post("/account/totp", data={"csrf_token": csrf})
        assert again.status_code == 200 and "<svg" in again.text
        # ...after them, it does.
        session = await WebSession.get(user_id=user.id, ended_at=None)
        await WebSession.filter(id=session.id).update(
            reauth_at=datetime.now(UTC) - timedelta(minutes=6)
        )
        later = await client.post("/account/totp", data={"csrf_token": csrf})
        assert later.status_code == 200 and 'name="password"' in later.text
        assert "<svg" not in later.text

    async def test_api_changes_need_the_password_and_a_current_code(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(totp=True)
        assert user.totp_secret
        token = await factories.token_for(client, user)
        routes = ("/api/v1/me/totp", "/api/v1/me/totp/disable", "/api/v1/me/recovery-codes")
        for path in routes:
            no_code = await client.post(
                path, json={"password": factories.PASSWORD}, headers=bearer(token)
            )
            assert no_code.status_code == 422 and "code" in no_code.json()["fields"], path
            wrong = await client.post(
                path, json={"password": "not-it-at-all", "code": "000000"}, headers=bearer(token)
            )
            assert wrong.status_code == 422 and "password" in wrong.json()["fields"], path
            missing = await client.post(path, json={}, headers=bearer(token))
            assert missing.status_code == 422, path
        again = await User.get(id=user.id)
        assert again.totp_secret == user.totp_secret and again.totp_pending_secret is None

    async def test_turning_it_off_needs_the_code_and_ends_other_sign_ins(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(totp=True)
        assert user.totp_secret
        token = await factories.token_for(client, user)
        other = browser(app)
        async with other:
            await session_for(other, user, mfa=True)
            csrf = await session_for(client, user, mfa=True)
            code = await code_of(user.id, user.totp_secret)
            off = await client.post(
                "/account/totp/disable",
                data={"csrf_token": csrf, "password": factories.PASSWORD, "code": code},
            )
            assert off.status_code == 303, off.text
            assert (await other.get("/account")).status_code in (303, 401)
        assert (await client.get("/account")).status_code == 200
        assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 401
        again = await User.get(id=user.id)
        assert again.totp_enabled_at is None and again.totp_secret is None
        signed_in = await client.post("/api/v1/auth/token", json=sign_in_body(user))
        assert signed_in.status_code == 200
        assert await AuditEvent.filter(action="user.disable_totp", actor_id=user.id).exists()


class TestEnablingEndsOtherSessions:
    """ASVS V7.4.3: turning two-factor on ends every other session and every token."""

    async def test_enabling_from_one_session_ends_the_others_and_the_tokens(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        token = await factories.token_for(client, user)
        other = browser(app)
        async with other:
            await session_for(other, user)
            assert (await other.get("/account")).status_code == 200
            # A fresh sign-in counts as a re-authentication for five minutes.
            csrf = await session_for(client, user, age=timedelta(seconds=5))
            started = await client.post("/account/totp", data={"csrf_token": csrf})
            assert started.status_code == 200 and "<svg" in started.text
            secret = (await User.get(id=user.id)).totp_pending_secret
            assert secret
            done = await client.post(
                "/account/totp/confirm",
                data={"csrf_token": csrf, "code": pyotp.TOTP(secret).now()},
            )
            assert done.status_code == 200, done.text
            codes = re.findall(r"<code>([a-z2-7-]{29})</code>", done.text)
            assert len(codes) == 10
            # The older session and the token are over, even if a row were left open.
            assert (await other.get("/account")).status_code in (303, 401)
            await WebSession.filter(user_id=user.id).update(ended_at=None)
            assert (await other.get("/account")).status_code in (303, 401)
        assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 401
        # This browser goes on, now with the second factor.
        account = await client.get("/account")
        assert account.status_code == 200
        live = await WebSession.filter(user_id=user.id, ended_at=None, mfa=True)
        assert len(live) == 1
        assert await AuditEvent.filter(action="user.enable_totp", actor_id=user.id).exists()

    async def test_confirming_through_the_api_replaces_the_callers_token(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        user = await factories.make_user()
        old = await factories.token_for(client, user)
        _, codes, new = await enable_via_api(client, user)
        assert len(codes) == 10
        assert (await client.get("/api/v1/me", headers=bearer(old))).status_code == 401
        # The owner's list of tokens agrees: only the new one is live.
        assert await ApiToken.filter(user_id=user.id, revoked_at=None).count() == 1
        me = await client.get("/api/v1/me", headers=bearer(new))
        assert me.status_code == 200 and me.json()["totp_enabled"] is True
        assert tokens.verify(settings.secret_key, new).mfa is True


class TestChangingTheAuthenticator:
    """ASVS V7.5.1: a new secret replaces the old one only once a code from it is confirmed."""

    async def test_change_keeps_the_old_secret_until_the_new_one_is_confirmed(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        old_secret, _, token = await enable_via_api(client, user)
        code = await code_of(user.id, old_secret)
        started = await client.post(
            "/api/v1/me/totp",
            json={"password": factories.PASSWORD, "code": code},
            headers=bearer(token),
        )
        assert started.status_code == 201, started.text
        new_secret = started.json()["secret"]
        assert new_secret != old_secret
        # Until confirmed, the old app signs in and the new one does not.
        fresh = await code_of(user.id, old_secret)
        assert (
            await client.post("/api/v1/auth/token", json=sign_in_body(user, fresh))
        ).status_code == 200
        new_code = pyotp.TOTP(new_secret).now()
        if new_code != fresh:
            refused = await client.post("/api/v1/auth/token", json=sign_in_body(user, new_code))
            assert refused.status_code == 401
        confirmed = await client.post(
            "/api/v1/me/totp/confirm",
            json={"code": pyotp.TOTP(new_secret).now()},
            headers=bearer(token),
        )
        assert confirmed.status_code == 200, confirmed.text
        assert (await User.get(id=user.id)).totp_secret == new_secret
        assert await AuditEvent.filter(action="user.change_totp", actor_id=user.id).exists()


# --- finding: a TOTP code could be used twice -------------------------------------------------


class TestTotpReplay:
    """ASVS V6.5.1: a time-based one-time code is usable once, and never after a newer one."""

    async def test_the_same_code_signs_in_once(self, client: httpx.AsyncClient) -> None:
        user = await factories.make_user(totp=True)
        assert user.totp_secret
        totp = pyotp.TOTP(user.totp_secret)
        step = totp.timecode(datetime.now(UTC))
        code = totp.generate_otp(step)
        first = await client.post("/api/v1/auth/token", json=sign_in_body(user, code))
        assert first.status_code == 200
        second = await client.post("/api/v1/auth/token", json=sign_in_body(user, code))
        assert second.status_code == 401 and "totp" in second.json()["fields"]
        # The accepted step is kept in the database, not in one process's memory.
        assert (await User.get(id=user.id)).totp_last_step == step

    async def test_the_previous_steps_code_is_refused_after_a_newer_one(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(totp=True)
        assert user.totp_secret
        totp = pyotp.TOTP(user.totp_secret)
        now = time.time()
        newer = await client.post("/api/v1/auth/token", json=sign_in_body(user, totp.at(now + 30)))
        assert newer.status_code == 200
        for earlier in (totp.at(now), totp.at(now - 30)):
            older = await client.post("/api/v1/auth/token", json=sign_in_body(user, earlier))
            assert older.status_code == 401

    async def test_a_code_used_on_the_page_is_refused_by_the_api(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(totp=True)
        assert user.totp_secret
        code = pyotp.TOTP(user.totp_secret).now()
        page = await client.get("/signin")
        body = {"csrf_token": csrf_in(page.text), **sign_in_body(user)}
        assert (await client.post("/signin", data=body)).status_code == 303
        step = {"csrf_token": csrf_in(page.text), "code": code}
        assert (await client.post("/signin/code", data=step)).status_code == 303
        api = await client.post("/api/v1/auth/token", json=sign_in_body(user, code))
        assert api.status_code == 401
        # Nor can it confirm who one is for a change.
        csrf = csrf_in((await client.get("/account")).text)
        session = await WebSession.get(user_id=user.id, ended_at=None)
        await WebSession.filter(id=session.id).update(created_at=datetime.now(UTC) - OLD)
        again = await client.post(
            "/account/totp",
            data={"csrf_token": csrf, "password": factories.PASSWORD, "code": code},
        )
        assert again.status_code == 422 and 'id="f-code-error"' in again.text

    async def test_concurrent_requests_with_one_code_let_one_in(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(totp=True)
        assert user.totp_secret
        code = pyotp.TOTP(user.totp_secret).now()

        async def attempt() -> int:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                response = await http.post("/api/v1/auth/token", json=sign_in_body(user, code))
                return response.status_code

        statuses = await asyncio.gather(*(attempt() for _ in range(6)))
        # One gets in; the others are refused (or slowed down by the sign-in throttle).
        assert statuses.count(200) == 1, statuses
        assert set(statuses) <= {200, 401, 429}, statuses


# --- finding: no recovery codes, no QR code ---------------------------------------------------


class TestRecoveryCodes:
    """ASVS V6.5.2 and V6.5.1: ten single-use lookup secrets of 120 bits, stored hashed."""

    async def test_confirming_issues_ten_codes_stored_only_as_hashes(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        _, codes, _ = await enable_via_api(client, user)
        assert len(set(codes)) == 10
        for code in codes:
            assert re.fullmatch(r"([a-z2-7]{4}-){5}[a-z2-7]{4}", code), code
        rows = await RecoveryCode.filter(user_id=user.id)
        expected = {hashlib.sha256(c.replace("-", "").upper().encode()).hexdigest() for c in codes}
        assert {row.code_hash for row in rows} == expected
        assert not any(c in row.code_hash for row in rows for c in codes)

    async def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        user = await factories.make_user()
        _, codes, _ = await enable_via_api(client, user)
        body = {**sign_in_body(user), "recovery_code": codes[0]}
        used = await client.post("/api/v1/auth/token", json=body)
        assert used.status_code == 200, used.text
        assert used.json()["recovery_codes_left"] == 9
        assert tokens.verify(settings.secret_key, used.json()["access_token"]).mfa is True
        again = await client.post("/api/v1/auth/token", json=body)
        assert again.status_code == 401
        # Accepted in the code field too, however it is typed.
        typed = codes[1].upper().replace("-", " ")
        second = await client.post("/api/v1/auth/token", json=sign_in_body(user, typed))
        assert second.status_code == 200 and second.json()["recovery_codes_left"] == 8
        events = await AuditEvent.filter(
            action="user.use_recovery_code", actor_id=user.id
        ).order_by("id")
        assert [e.details["left"] for e in events] == [9, 8]

    async def test_the_sign_in_page_takes_a_recovery_code_and_tells_the_count(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        _, codes, _ = await enable_via_api(client, user)
        page = await client.get("/signin")
        body = {"csrf_token": csrf_in(page.text), **sign_in_body(user)}
        asked = await client.post("/signin", data=body)
        assert asked.status_code == 303 and asked.headers["location"].startswith("/signin/code?")
        step = {"csrf_token": csrf_in(page.text), "code": codes[3]}
        done = await client.post("/signin/code", data=step)
        assert done.status_code == 303, done.text
        account = await client.get("/account")
        assert "9 recovery codes are left" in account.text
        assert "You have 9 unused recovery codes." in account.text
        session = await WebSession.get(user_id=user.id, ended_at=None)
        assert session.mfa is True

    async def test_new_codes_need_reauthentication_and_retire_the_old_ones(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        secret, old_codes, token = await enable_via_api(client, user)
        code = await code_of(user.id, secret)
        fresh = await client.post(
            "/api/v1/me/recovery-codes",
            json={"password": factories.PASSWORD, "code": code},
            headers=bearer(token),
        )
        assert fresh.status_code == 200, fresh.text
        new_codes = fresh.json()["recovery_codes"]
        assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
        stale = {**sign_in_body(user), "recovery_code": old_codes[0]}
        assert (await client.post("/api/v1/auth/token", json=stale)).status_code == 401
        good = {**sign_in_body(user), "recovery_code": new_codes[0]}
        assert (await client.post("/api/v1/auth/token", json=good)).status_code == 200
        assert await AuditEvent.filter(
            action="user.regenerate_recovery_codes", actor_id=user.id
        ).exists()

    async def test_the_page_regenerates_them_after_reauthentication_with_a_recovery_code(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        _, codes, _ = await enable_via_api(client, user)
        # Two-factor was turned on an hour ago, and this session opened half an hour ago.
        await User.filter(id=user.id).update(
            second_factor_changed_at=datetime.now(UTC) - timedelta(hours=1)
        )
        csrf = await session_for(client, user, mfa=True)
        asked = await client.post("/account/recovery-codes", data={"csrf_token": csrf})
        assert asked.status_code == 200 and 'name="password"' in asked.text
        shown = await client.post(
            "/account/recovery-codes",
            data={"csrf_token": csrf, "password": factories.PASSWORD, "code": codes[0]},
        )
        assert shown.status_code == 200, shown.text
        new_codes = re.findall(r"<code>([a-z2-7-]{29})</code>", shown.text)
        assert len(new_codes) == 10 and not set(new_codes) & set(codes)


class TestEnrolmentPage:
    """ASVS V6.5.3: the secret comes from a CSPRNG and is shown as a QR code and as text."""

    async def test_the_page_shows_an_inline_svg_qr_code_and_the_secret(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        csrf = await session_for(client, user, age=timedelta(seconds=1))
        page = await client.post("/account/totp", data={"csrf_token": csrf})
        assert page.status_code == 200
        secret = (await User.get(id=user.id)).totp_pending_secret
        assert secret and len(secret) == 32
        svg = re.search(r"<svg.*?</svg>", page.text, re.S)
        assert svg is not None and "<path" in svg.group(0) and "<title>" in svg.group(0)
        assert f'<code class="secret">{secret}</code>' in page.text
        assert "<script" not in svg.group(0)
        # Until confirmed, sign-in is unchanged.
        assert (await User.get(id=user.id)).totp_enabled_at is None
