"""Registration, e-mail links, bearer tokens, TOTP and rate limits, through the HTTP API."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
from joserfc import jwt
from joserfc.jwk import OctKey

from service.accounts.models import OneTimeToken, User, WebSession
from service.config import Settings
from tests import factories
from tests.smtp import Mailbox

Worker = Callable[[], Awaitable[None]]


async def register(client: httpx.AsyncClient, **body: str) -> httpx.Response:
    payload = {"email": "ana@example.org", "password": factories.PASSWORD, "name": "Ana"}
    payload.update(body)
    return await client.post("/api/v1/auth/register", json=payload)


class TestRegister:
    async def test_creates_an_unverified_user_and_mails_a_link(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        response = await register(client, email="Ana@Example.org")
        assert response.status_code == 202, response.text
        user = await User.get(email="ana@example.org")
        assert user.email_verified_at is None
        await worker_burst()
        assert "/verify-email/" in mailbox.last_link("ana@example.org", "/verify-email/")

    async def test_same_email_in_other_case_creates_no_second_account(
        self, client: httpx.AsyncClient
    ) -> None:
        assert (await register(client)).status_code == 202
        again = await register(client, email="ANA@example.ORG")
        assert again.status_code == 202
        assert await User.filter(email="ana@example.org").count() == 1

    async def test_bad_input_names_the_fields_and_creates_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await register(client, email="not-an-address", name=" ")
        assert response.status_code == 422
        assert {"email", "name"} <= set(response.json()["fields"])
        for weak in ("short", "password123456", "qwertyuiopasdf"):
            response = await register(client, password=weak)
            assert response.status_code == 422, weak
            assert "password" in response.json()["fields"]
        assert await User.all().count() == 0


class TestEmailLinks:
    async def _link_token(self, mailbox: Mailbox, worker: Worker, email: str, path: str) -> str:
        await worker()
        return mailbox.last_link(email, path).rsplit("/", 1)[-1]

    async def test_verification_link_works_once(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        await register(client)
        token = await self._link_token(mailbox, worker_burst, "ana@example.org", "/verify-email/")
        first = await client.post("/api/v1/auth/verify-email", json={"token": token})
        assert first.status_code == 200 and first.json()["email_verified"] is True
        second = await client.post("/api/v1/auth/verify-email", json={"token": token})
        assert second.status_code == 400
        assert second.json()["error"] == "InvalidLink"

    async def test_forged_and_expired_links_are_refused(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        await register(client)
        token = await self._link_token(mailbox, worker_burst, "ana@example.org", "/verify-email/")
        forged = await client.post("/api/v1/auth/verify-email", json={"token": token + "x"})
        assert forged.status_code == 400
        await OneTimeToken.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        expired = await client.post("/api/v1/auth/verify-email", json={"token": token})
        assert expired.status_code == 400
        assert (await User.get(email="ana@example.org")).email_verified_at is None

    async def test_reset_answers_the_same_for_unknown_addresses(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        await factories.make_user(email="known@example.org")
        known = await client.post(
            "/api/v1/auth/password-reset", json={"email": "known@example.org"}
        )
        unknown = await client.post(
            "/api/v1/auth/password-reset", json={"email": "nobody@example.org"}
        )
        assert known.status_code == unknown.status_code == 202
        assert known.json() == unknown.json()
        await worker_burst()
        assert mailbox.to("known@example.org") and not mailbox.to("nobody@example.org")

    async def test_reset_changes_the_password_once_and_ends_sessions_and_tokens(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        user = await factories.make_user(email="reset@example.org")
        old_token = await factories.token_for(client, user)
        await client.post("/api/v1/auth/password-reset", json={"email": user.email})
        token = await self._link_token(mailbox, worker_burst, user.email, "/password-reset/")
        weak = await client.post(
            "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "123"}
        )
        assert weak.status_code == 422
        # A refused password does not use up the link.
        done = await client.post(
            "/api/v1/auth/password-reset/confirm",
            json={"token": token, "password": "a-brand-new-passphrase-7"},
        )
        assert done.status_code == 200, done.text
        again = await client.post(
            "/api/v1/auth/password-reset/confirm",
            json={"token": token, "password": "another-new-passphrase-8"},
        )
        assert again.status_code == 400
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {old_token}"})
        assert me.status_code == 401
        signin = await client.post(
            "/api/v1/auth/token",
            json={"email": user.email, "password": "a-brand-new-passphrase-7"},
        )
        assert signin.status_code == 200


class TestTokens:
    async def test_token_opens_me(self, client: httpx.AsyncClient) -> None:
        person = await factories.person(client)
        response = await client.get("/api/v1/me", headers=person.headers)
        assert response.status_code == 200
        assert response.json()["email"] == person.user.email

    async def test_wrong_password_is_401(self, client: httpx.AsyncClient) -> None:
        user = await factories.make_user()
        response = await client.post(
            "/api/v1/auth/token", json={"email": user.email, "password": "wrong-password-1"}
        )
        assert response.status_code == 401
        assert response.json()["error"] == "InvalidCredentials"

    async def test_revoke_ends_every_token(self, client: httpx.AsyncClient) -> None:
        person = await factories.person(client)
        other = await factories.token_for(client, person.user)
        assert (await client.post("/api/v1/auth/revoke", headers=person.headers)).status_code == 204
        for token in (person.token, other):
            me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 401

    async def test_forged_expired_and_unsigned_tokens_are_refused(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        user = await factories.make_user()
        now = int(time.time())
        claims = {
            "iss": "civic-challenges",
            "sub": str(user.id),
            "ver": 0,
            "iat": now,
            "exp": now + 600,
        }
        wrong_key = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(b"k" * 40))
        expired = jwt.encode(
            {"alg": "HS256"},
            {**claims, "exp": now - 5},
            OctKey.import_key(settings.secret_key.encode()),
        )
        header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}
        unsigned = f"{header}.{wrong_key.split('.')[1]}."
        for token in (wrong_key, expired, unsigned, "garbage"):
            me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 401, token


class TestTotp:
    async def test_enrol_then_sign_in_needs_the_code(self, client: httpx.AsyncClient) -> None:
        person = await factories.person(client)
        started = await client.post(
            "/api/v1/me/totp", json={"password": factories.PASSWORD}, headers=person.headers
        )
        assert started.status_code == 201
        secret = started.json()["secret"]
        assert started.json()["otpauth_uri"].startswith("otpauth://totp/")
        wrong = await client.post(
            "/api/v1/me/totp/confirm", json={"code": "000000"}, headers=person.headers
        )
        assert wrong.status_code == 422
        ok = await client.post(
            "/api/v1/me/totp/confirm",
            json={"code": pyotp.TOTP(secret).now()},
            headers=person.headers,
        )
        assert ok.status_code == 200 and ok.json()["totp_enabled"] is True
        body = {"email": person.user.email, "password": factories.PASSWORD}
        without = await client.post("/api/v1/auth/token", json=body)
        assert without.status_code == 401 and without.json()["error"] == "TotpRequired"
        bad = await client.post("/api/v1/auth/token", json={**body, "totp": "123456"})
        assert bad.status_code == 401
        # The confirming code was used up: the next one (of the coming time step) signs in.
        good = await client.post(
            "/api/v1/auth/token", json={**body, "totp": pyotp.TOTP(secret).at(time.time() + 30)}
        )
        assert good.status_code == 200


class TestRateLimits:
    async def test_the_attempt_over_the_limit_gets_429_with_retry_after(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        user = await factories.make_user()
        body = {"email": user.email, "password": "wrong-password-1"}
        for _ in range(settings.signin_free_failures):
            assert (await client.post("/api/v1/auth/token", json=body)).status_code == 401
        blocked = await client.post(
            "/api/v1/auth/token", json={**body, "password": factories.PASSWORD}
        )
        assert blocked.status_code == 429
        # A slow-down, not a lockout: seconds, at most the cap.
        assert 0 < int(blocked.headers["Retry-After"]) <= settings.signin_delay_cap
        # Another account from the same address is still allowed (per-IP budget is larger).
        other = await factories.make_user()
        assert await factories.token_for(client, other)

    async def test_sessions_table_untouched_by_api_sign_in(self, client: httpx.AsyncClient) -> None:
        await factories.person(client)
        assert await WebSession.all().count() == 0
