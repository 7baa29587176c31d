"""Sign-in attempts against guessing, without locking the owner out.

- Per address (IP): a sliding window of failed attempts; successful ones are handed back.
- Per account: consecutive failures slow further attempts down (1 s doubling to a cap)
  instead of refusing them for a long time, so an attacker cannot keep the owner out.
- A device that signed in to the account before carries a signed cookie: it is slowed down
  only by its own failures, never by an attacker's, so the right password always works there.
- Every failure is audited; the owner is e-mailed when a burst reaches the alert count.

With two-factor sign-in on, the page signs in in two steps. A right password leaves a
*pending* sign-in in Redis (`hold_for_second_factor`), named by a random id in a cookie of its
own: it signs nobody in (no session row, and no page reads it but the code step), lasts five
minutes, and is used up by the first right code (`finish_pending`). Each code typed at that
step is an attempt like a password: `begin`, then `settle`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from service.accounts.actor import host_cookie
from service.accounts.models import User
from service.audit import service as audit
from service.config import Settings
from service.core import ratelimit
from service.core.errors import NotAuthenticated, ServiceError
from service.core.web import client_ip, context, transaction
from service.notifications import service as notifications

T = TypeVar("T")

DEVICE_COOKIE = "civic_device"
DEVICE_TTL = timedelta(days=365)
# A shared computer remembers the last few accounts signed in from it, not every one.
DEVICE_ACCOUNTS = 5
# Failures of one account (or one trusted device) are forgotten after a day of quiet.
FAILURE_MEMORY_SECONDS = 24 * 60 * 60
PENDING_COOKIE = "civic_signin"
# How long a right password waits for its code.
PENDING_TTL = timedelta(minutes=5)
# The cookie outlives what it names, so that a code typed too late is told why it is refused.
PENDING_COOKIE_TTL = timedelta(hours=1)


@dataclass
class Device:
    id: str
    user_ids: list[int] = field(default_factory=list)


@dataclass
class Attempt:
    email: str
    ip: str
    ip_attempt: str
    # Whose failures slow this attempt down: the account, or this device for the account.
    subject: str
    failures: int
    trusted: bool


@dataclass(frozen=True)
class Pending:
    """A right password still waiting for its second factor: nobody is signed in yet."""

    key: str
    user: User
    email: str
    next_url: str


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="civic-device")


def _ip_limit(settings: Settings) -> ratelimit.Limit:
    return ratelimit.Limit("signin-ip", settings.rate_signin_per_ip, settings.rate_signin_window)


def _backoff(settings: Settings) -> ratelimit.Backoff:
    return ratelimit.Backoff(
        "signin-slow",
        free=settings.signin_free_failures,
        base=1.0,
        cap=float(settings.signin_delay_cap),
        memory_seconds=FAILURE_MEMORY_SECONDS,
    )


def read_device(request: Request) -> Device | None:
    settings: Settings = request.app.state.settings
    raw = request.cookies.get(host_cookie(settings, DEVICE_COOKIE), "")
    if not raw:
        return None
    try:
        data = _serializer(settings).loads(raw, max_age=int(DEVICE_TTL.total_seconds()))
        return Device(id=str(data["d"]), user_ids=[int(u) for u in data["u"]])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def remember_device(request: Request, response: Response, user: User) -> None:
    """After a successful sign-in: this device is trusted for this account from now on."""
    settings: Settings = request.app.state.settings
    device = read_device(request) or Device(id=secrets.token_urlsafe(12))
    user_ids = [user.id, *(u for u in device.user_ids if u != user.id)][:DEVICE_ACCOUNTS]
    value = _serializer(settings).dumps({"d": device.id, "u": user_ids})
    response.set_cookie(
        host_cookie(settings, DEVICE_COOKIE),
        value,
        max_age=int(DEVICE_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


async def begin(request: Request, email: str) -> Attempt:
    """Let a sign-in attempt through, or raise 429 saying how long to wait."""
    email = email.strip().lower()
    settings: Settings = request.app.state.settings
    redis = request.app.state.deps.redis
    ip = client_ip(request)
    ip_attempt = await ratelimit.hit(redis, settings.redis_prefix, _ip_limit(settings), ip)
    subject, trusted = f"account:{email}", False
    device = read_device(request)
    if device is not None and device.user_ids:
        user = await User.get_or_none(email=email).only("id")
        user_id = user.id if user is not None else None
        if user_id is not None and user_id in device.user_ids:
            subject, trusted = f"device:{device.id}:{user_id}", True
    failures = await ratelimit.backoff_begin(
        redis, settings.redis_prefix, _backoff(settings), subject
    )
    return Attempt(email, ip, ip_attempt, subject, failures, trusted)


async def succeeded(request: Request, attempt: Attempt) -> None:
    settings: Settings = request.app.state.settings
    redis = request.app.state.deps.redis
    prefix = settings.redis_prefix
    await ratelimit.refund(redis, prefix, _ip_limit(settings), attempt.ip, attempt.ip_attempt)
    # The owner is in: earlier failures of the account no longer slow anyone down.
    await ratelimit.backoff_clear(redis, prefix, _backoff(settings), attempt.subject)
    await ratelimit.backoff_clear(redis, prefix, _backoff(settings), f"account:{attempt.email}")


async def second_factor_due(request: Request, attempt: Attempt) -> None:
    """The password was right and a code is still due: neither a failure nor a success."""
    settings: Settings = request.app.state.settings
    redis = request.app.state.deps.redis
    prefix = settings.redis_prefix
    await ratelimit.refund(redis, prefix, _ip_limit(settings), attempt.ip, attempt.ip_attempt)
    await ratelimit.backoff_undo(redis, prefix, _backoff(settings), attempt.subject)


async def failed(request: Request, attempt: Attempt, error: ServiceError) -> None:
    """Audit the failure; at the alert count of a burst, tell the account's owner."""
    settings: Settings = request.app.state.settings
    ctx = context(request)
    user = await User.get_or_none(email=attempt.email)
    alert = (
        user is not None
        and not attempt.trusted
        and attempt.failures == settings.signin_alert_failures
    )
    async with transaction(request):
        await audit.record(
            ctx,
            "user.sign_in_failed",
            object_type="user",
            object_id=user.id if user else "",
            email=attempt.email,
            reason=error.code,
            failures=attempt.failures,
            trusted_device=attempt.trusted,
        )
        if alert and user is not None:
            await notifications.send_email(
                user.email,
                "sign_in_failures",
                language=user.language,
                user=user,
                failures=attempt.failures,
                link=f"{settings.base_url}/password-reset",
            )


async def settle(request: Request, attempt: Attempt, check: Awaitable[T]) -> T:
    """Await the credentials check and count its outcome."""
    from service.accounts.service import TotpRequired

    try:
        result = await check
    except TotpRequired:
        await second_factor_due(request, attempt)
        raise
    except NotAuthenticated as exc:
        await failed(request, attempt, exc)
        raise
    await succeeded(request, attempt)
    return result


# --- the pending sign-in between the password and the code ------------------------------------


def _pending_key(settings: Settings, raw: str) -> str:
    # Stored under a hash of the cookie: whoever reads Redis cannot finish anyone's sign-in.
    return f"{settings.redis_prefix}:signin-pending:{hashlib.sha256(raw.encode()).hexdigest()}"


def _fingerprint(user: User) -> str:
    """Changes with the password, the authenticator and every "sign out everywhere": a pending
    sign-in made before such a change (or before the account was deleted) is void."""
    parts = f"{user.password_hash}|{user.totp_secret}|{user.token_version}"
    return hashlib.sha256(parts.encode()).hexdigest()


async def hold_for_second_factor(
    request: Request, response: Response, user: User, *, next_url: str
) -> None:
    """After the right password of a user with two-factor on: wait five minutes for a code."""
    settings: Settings = request.app.state.settings
    redis = request.app.state.deps.redis
    earlier = request.cookies.get(host_cookie(settings, PENDING_COOKIE), "")
    if earlier:
        # One pending sign-in per browser: starting again drops the one before.
        await redis.delete(_pending_key(settings, earlier))
    raw = secrets.token_urlsafe(32)
    state = {"u": user.id, "e": user.email, "n": next_url, "f": _fingerprint(user)}
    await redis.set(
        _pending_key(settings, raw), json.dumps(state), ex=int(PENDING_TTL.total_seconds())
    )
    response.set_cookie(
        host_cookie(settings, PENDING_COOKIE),
        raw,
        max_age=int(PENDING_COOKIE_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def has_pending_cookie(request: Request) -> bool:
    """Whether the browser started a two-step sign-in (that may since have expired)."""
    return bool(request.cookies.get(host_cookie(request.app.state.settings, PENDING_COOKIE)))


async def pending(request: Request) -> Pending | None:
    """The browser's pending sign-in, or None when there is none, it expired or is void."""
    settings: Settings = request.app.state.settings
    raw = request.cookies.get(host_cookie(settings, PENDING_COOKIE), "")
    if not raw or len(raw) > 100:
        return None
    key = _pending_key(settings, raw)
    stored = await request.app.state.deps.redis.get(key)
    if stored is None:
        return None
    try:
        state = json.loads(stored)
        user = await User.get_or_none(id=int(state["u"]))
        fingerprint, email, next_url = str(state["f"]), str(state["e"]), str(state["n"])
    except (KeyError, TypeError, ValueError):
        return None
    if (
        user is None
        or user.totp_enabled_at is None
        or not secrets.compare_digest(fingerprint, _fingerprint(user))
    ):
        await request.app.state.deps.redis.delete(key)
        return None
    return Pending(key=key, user=user, email=email, next_url=next_url)


async def finish_pending(request: Request, held: Pending) -> bool:
    """Use the pending sign-in up: True for the one request that does (a second one racing
    with another right code, or a recovery code, finds it gone)."""
    return bool(await request.app.state.deps.redis.delete(held.key))


def forget_pending(request: Request, response: Response) -> None:
    settings: Settings = request.app.state.settings
    response.delete_cookie(
        host_cookie(settings, PENDING_COOKIE), path="/", secure=settings.secure_cookies
    )
