"""Signing in with two-factor in two steps: the password, then a page that asks only the code.

The finding: after the right password the page came back red ("Please correct the fields
marked below") with the password emptied; typing only the code then failed with "This is too
short" on the password, and the code field disappeared. Everything here goes through HTTP.
"""

from __future__ import annotations

import hashlib
import time

import httpx
import pyotp
from starlette.applications import Starlette

from service.accounts.actor import SESSION_COOKIE
from service.accounts.models import User, WebSession
from service.accounts.signin_guard import DEVICE_COOKIE, PENDING_COOKIE, PENDING_TTL
from service.audit.models import AuditEvent
from service.config import Settings
from tests import factories
from tests.accounts.test_two_factor import enable_via_api

CODE_STEP = "/signin/code"
TOO_LATE = "More than 5 minutes passed since you entered your password."


async def password_step(
    client: httpx.AsyncClient, user: User, *, next_url: str = ""
) -> httpx.Response:
    csrf = factories.csrf_of((await client.get("/signin")).text)
    url = f"/signin?next={next_url}" if next_url else "/signin"
    return await client.post(
        url, data={"csrf_token": csrf, "email": user.email, "password": factories.PASSWORD}
    )


async def code_step(client: httpx.AsyncClient, code: str, url: str = CODE_STEP) -> httpx.Response:
    csrf = factories.csrf_of((await client.get("/signin")).text)
    return await client.post(url, data={"csrf_token": csrf, "code": code})


def pending_key(settings: Settings, client: httpx.AsyncClient) -> str:
    raw = client.cookies[PENDING_COOKIE]
    return f"{settings.redis_prefix}:signin-pending:{hashlib.sha256(raw.encode()).hexdigest()}"


def wrong_code_for(secret: str) -> str:
    """Six digits that are none of the codes accepted now (the current step or either side)."""
    totp = pyotp.TOTP(secret)
    valid = {totp.at(time.time() + d) for d in (-30, 0, 30)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in valid)


async def test_after_the_password_the_code_alone_finishes_the_sign_in(
    client: httpx.AsyncClient,
) -> None:
    user = await factories.make_user(totp=True)
    form = await client.get("/signin")
    csrf = factories.csrf_of(form.text)
    first = await client.post(
        "/signin", data={"csrf_token": csrf, "email": user.email, "password": factories.PASSWORD}
    )
    assert "Please correct the fields marked below." not in first.text
    assert first.status_code == 303, first.text
    # The page a person sees next: one field, for the code, and no password to type again.
    step = await client.get(first.headers["location"])
    assert step.status_code == 200
    assert 'name="code"' in step.text and 'name="password"' not in step.text
    done = await client.post(
        first.headers["location"],
        data={"csrf_token": factories.csrf_of(step.text), "code": await factories.totp_code(user)},
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/"
    assert (await client.get("/account")).status_code == 200


class TestTwoStepSignIn:
    async def test_the_next_page_and_the_device_survive_the_second_step(
        self, client: httpx.AsyncClient, app: Starlette, settings: Settings
    ) -> None:
        user = await factories.make_user(totp=True)
        first = await password_step(client, user, next_url="/challenges?area=water")
        assert first.status_code == 303
        assert first.headers["location"].startswith(CODE_STEP)
        # Nothing signed in yet: no session, no device remembered.
        assert SESSION_COOKIE not in client.cookies and DEVICE_COOKIE not in client.cookies
        assert not await WebSession.filter(user_id=user.id).exists()
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        ttl = await app.state.deps.redis.ttl(pending_key(settings, client))
        assert PENDING_TTL.total_seconds() - 5 <= ttl <= PENDING_TTL.total_seconds()

        done = await code_step(client, await factories.totp_code(user), first.headers["location"])
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/challenges?area=water"
        session = await WebSession.get(user_id=user.id, ended_at=None)
        assert session.mfa is True
        assert DEVICE_COOKIE in client.cookies and PENDING_COOKIE not in client.cookies
        assert await AuditEvent.filter(action="user.sign_in", object_id=str(user.id)).exists()

    async def test_a_user_without_two_factor_signs_in_in_one_step(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        done = await password_step(client, user, next_url="/challenges")
        assert done.status_code == 303 and done.headers["location"] == "/challenges"
        assert PENDING_COOKIE not in client.cookies
        assert (await WebSession.get(user_id=user.id, ended_at=None)).mfa is False

    async def test_a_wrong_code_keeps_the_code_step_and_the_right_one_then_works(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(totp=True)
        assert user.totp_secret
        first = await password_step(client, user, next_url="/invitations")
        wrong = await code_step(client, wrong_code_for(user.totp_secret))
        assert wrong.status_code == 401
        assert 'id="f-code-error"' in wrong.text and "This code is not right" in wrong.text
        assert 'name="password"' not in wrong.text and 'name="code"' in wrong.text
        assert not await WebSession.filter(user_id=user.id).exists()
        empty = await code_step(client, "  ")
        assert empty.status_code == 422 and 'id="f-code-error"' in empty.text
        # The failure is audited like a wrong password.
        failed = await AuditEvent.get(action="user.sign_in_failed", object_id=str(user.id))
        assert failed.details["reason"] == "InvalidCredentials"
        done = await code_step(client, await factories.totp_code(user), first.headers["location"])
        assert done.status_code == 303 and done.headers["location"] == "/invitations"

    async def test_wrong_codes_are_slowed_down_like_wrong_passwords(
        self, client: httpx.AsyncClient, app: Starlette, settings: Settings
    ) -> None:
        user = await factories.make_user(totp=True)
        assert user.totp_secret
        await password_step(client, user)
        for _ in range(settings.signin_free_failures):
            assert (await code_step(client, wrong_code_for(user.totp_secret))).status_code == 401
        slow = f"{settings.redis_prefix}:rl:signin-slow:account:{user.email}"
        await app.state.deps.redis.hset(slow, mapping={"t": time.time()})
        waiting = await code_step(client, await factories.totp_code(user))
        assert waiting.status_code == 429
        assert int(waiting.headers["Retry-After"]) >= 1
        assert "Try again in" in waiting.text and 'name="code"' in waiting.text
        # The password is not asked again: once the wait is over the right code works.
        await app.state.deps.redis.hset(slow, mapping={"t": 0})
        done = await code_step(client, await factories.totp_code(user))
        assert done.status_code == 303, done.text

    async def test_after_five_minutes_the_password_is_asked_again(
        self, client: httpx.AsyncClient, app: Starlette, settings: Settings
    ) -> None:
        user = await factories.make_user(totp=True)
        first = await password_step(client, user, next_url="/challenges")
        # Five minutes later: the pending sign-in has expired on the server.
        await app.state.deps.redis.delete(pending_key(settings, client))
        late = await code_step(client, await factories.totp_code(user), first.headers["location"])
        assert late.status_code == 303
        assert late.headers["location"] == "/signin?next=/challenges"
        assert PENDING_COOKIE not in client.cookies
        page = await client.get(late.headers["location"])
        assert TOO_LATE in page.text and 'name="password"' in page.text
        assert not await WebSession.filter(user_id=user.id).exists()
        again = await client.get(CODE_STEP)
        assert again.status_code == 303 and again.headers["location"].startswith("/signin")

    async def test_a_recovery_code_works_on_the_code_step_and_says_how_many_are_left(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        _, codes, _ = await enable_via_api(client, user)
        await password_step(client, user)
        done = await code_step(client, codes[3].upper())
        assert done.status_code == 303, done.text
        account = await client.get("/account")
        assert "You signed in with a recovery code. 9 recovery codes are left." in account.text
        assert (await WebSession.get(user_id=user.id, ended_at=None)).mfa is True

    async def test_the_code_step_without_a_password_first_goes_to_the_password_page(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(totp=True)
        shown = await client.get(f"{CODE_STEP}?next=/challenges")
        assert shown.status_code == 303
        assert shown.headers["location"] == "/signin?next=/challenges"
        posted = await code_step(client, await factories.totp_code(user))
        assert posted.status_code == 303 and posted.headers["location"].startswith("/signin")
        page = await client.get(posted.headers["location"])
        assert "Enter your e-mail address and password first." in page.text
        # A made-up pending id is worth nothing either.
        client.cookies.set(PENDING_COOKIE, "made-up-value")
        forged = await code_step(client, await factories.totp_code(user))
        assert forged.status_code == 303 and forged.headers["location"].startswith("/signin")
        assert not await WebSession.filter(user_id=user.id).exists()

    async def test_the_pending_sign_in_grants_nothing_and_is_used_once(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(totp=True)
        await password_step(client, user)
        pending = client.cookies[PENDING_COOKIE]
        for path in ("/account", "/invitations", "/organizations/new", "/notifications"):
            response = await client.get(path)
            assert response.status_code == 401, (path, response.status_code)
        csrf = factories.csrf_of((await client.get("/signin")).text)
        refused = await client.post("/account/revoke-tokens", data={"csrf_token": csrf})
        assert refused.status_code == 401
        assert (await client.get("/api/v1/me")).status_code == 401
        assert not await WebSession.filter(user_id=user.id).exists()

        assert (await code_step(client, await factories.totp_code(user))).status_code == 303
        # The same pending id again, with another good code, does not sign in a second time.
        client.cookies.delete(SESSION_COOKIE)
        client.cookies.set(PENDING_COOKIE, pending)
        replay = await code_step(client, await factories.totp_code(user))
        assert replay.status_code == 303 and replay.headers["location"].startswith("/signin")
        assert await WebSession.filter(user_id=user.id).count() == 1

    async def test_a_password_change_meanwhile_voids_the_pending_sign_in(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user(totp=True)
        await password_step(client, user)
        # The owner, elsewhere, signs out everywhere (or changes the password).
        await User.filter(id=user.id).update(token_version=user.token_version + 1)
        late = await code_step(client, await factories.totp_code(user))
        assert late.status_code == 303 and late.headers["location"].startswith("/signin")
        assert not await WebSession.filter(user_id=user.id).exists()
