"""Two-factor sign-in that holds: TOTP (RFC 6238) without replay, recovery codes, re-authentication.

Every code, wherever it is typed (the token API, the sign-in page, confirming an enrolment,
re-authenticating before a change), is checked by `check_second_factor`, under a lock on the
user's row: two requests carrying the same code cannot both pass, and a code of a time step at
or before the last accepted one is a replay.

Changing the sign-in itself (turning two-factor on, changing or removing it, new recovery
codes; the password and the e-mail address too) needs the current password and, when two-factor
is on, a current code: on pages, typed within the last five minutes (`require_recent_reauth`);
in the API, in the request's body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import pyotp
import segno
from markupsafe import Markup

from service import db
from service.accounts import passwords
from service.accounts.actor import Actor
from service.accounts.models import ApiToken, RecoveryCode, User, WebSession
from service.audit import service as audit
from service.core import i18n
from service.core.context import Context
from service.core.errors import PermissionDenied, ValidationFailed
from service.core.i18n import N_

TOTP_ISSUER = "Civic Challenges"
REAUTH_WINDOW = timedelta(minutes=5)
RECOVERY_CODE_COUNT = 10
# 120 random bits a code (24 base32 characters): above the 112 bits that let a plain SHA-256
# stand in for a salted password hash (ASVS V6.5.2).
RECOVERY_CODE_BYTES = 15
_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

# RFC 8176 authentication method references, by kind of factor.
_KNOWLEDGE = frozenset({"pwd", "pin", "kba"})
_POSSESSION = frozenset({"otp", "hwk", "swk", "sms", "tel", "sc", "pop", "mca"})
_INHERENCE = frozenset({"fpt", "face", "iris", "retina", "vbm"})


# A code works once: whoever types one twice within its 30 seconds is told why it fails.
WRONG_CODE = N_("This code is not right, or was already used: wait for the app's next code.")


class ReauthRequired(PermissionDenied):
    default_detail = N_("Confirm it is you: enter your password again, and a code if asked.")


@dataclass(frozen=True)
class SecondFactor:
    """A code that passed: which kind, and for a recovery code how many are left."""

    method: Literal["totp", "recovery_code"]
    recovery_codes_left: int | None = None
    # The time step of a TOTP code.
    step: int | None = None


def _compact(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def is_recovery_code(code: str | None) -> bool:
    compact = _compact(code or "")
    return len(compact) == RECOVERY_CODE_BYTES * 8 // 5 and set(compact) <= _BASE32


def _hash_recovery_code(code: str) -> str:
    return hashlib.sha256(_compact(code).encode()).hexdigest()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code this is: the current one, or one either side (clock drift)."""
    compact = _compact(code)
    if len(compact) != 6 or not compact.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), compact):
            return step
    return None


async def check_second_factor(
    ctx: Context, user: User, code: str, *, enrolling: bool = False
) -> SecondFactor | None:
    """Accept a code once, or answer None. The one place a second factor is checked.

    With `enrolling`, the code must come from the secret being enrolled (and recovery codes
    do not count); otherwise from the active secret, or be an unused recovery code.
    """
    async with db.transaction(None):
        # The row lock serialises concurrent uses of a code: the second one sees the step
        # the first one stored (or the recovery code it used up).
        locked = await User.select_for_update().get(id=user.id)
        if enrolling:
            if not locked.totp_pending_secret:
                return None
            step = _matching_step(locked.totp_pending_secret, code, datetime.now(UTC))
            # No code of a secret being enrolled was ever accepted: nothing to replay yet.
            # The step is stored by `confirm_enrolment` along with the secret.
            return SecondFactor("totp", step=step) if step is not None else None
        if locked.totp_enabled_at is None or not locked.totp_secret:
            return None
        if is_recovery_code(code):
            return await _use_recovery_code(ctx, locked, code)
        step = _matching_step(locked.totp_secret, code, datetime.now(UTC))
        if step is None or (locked.totp_last_step is not None and step <= locked.totp_last_step):
            return None
        await User.filter(id=locked.id).update(totp_last_step=step)
        user.totp_last_step = step
        return SecondFactor("totp", step=step)


async def _use_recovery_code(ctx: Context, user: User, code: str) -> SecondFactor | None:
    now = datetime.now(UTC)
    used = await RecoveryCode.filter(
        user_id=user.id, code_hash=_hash_recovery_code(code), used_at=None
    ).update(used_at=now)
    if not used:
        return None
    left = await recovery_codes_left(user)
    await audit.record(
        _as(ctx, user), "user.use_recovery_code", object_type="user", object_id=user.id, left=left
    )
    return SecondFactor("recovery_code", recovery_codes_left=left)


def _as(ctx: Context, user: User) -> Context:
    """The context with `user` acting (at sign-in nobody is signed in yet)."""
    if ctx.actor.user is not None:
        return ctx
    return replace(ctx, actor=Actor(user=user))


async def recovery_codes_left(user: User) -> int:
    return await RecoveryCode.filter(user_id=user.id, used_at=None).count()


# --- re-authentication ---------------------------------------------------------------------


def recent_reauth(session: WebSession | None, now: datetime | None = None) -> bool:
    """Whether the session's user typed their credentials within the last five minutes."""
    if session is None:
        return False
    last = max(session.created_at, session.reauth_at or session.created_at)
    return (now or datetime.now(UTC)) - last <= REAUTH_WINDOW


def require_recent_reauth(ctx: Context) -> None:
    """For pages that change the sign-in: refuse unless `reauthenticate` passed recently."""
    if not recent_reauth(ctx.actor.session):
        raise ReauthRequired()


async def reauthenticate(ctx: Context, user: User, *, password: str, code: str) -> None:
    """Check the current password and, with two-factor on, a current code.

    On a page, the session remembers the time: the next five minutes need no new typing.
    Refusals name the field (422). Hashing the password is slow: call this outside the
    request's transaction.
    """
    fields: dict[str, str] = {}
    if user.password_hash is None:
        raise ReauthRequired(
            i18n.gettext("Sign in again with single sign-on, then make this change.")
        )
    if not password:
        fields["password"] = i18n.gettext("Enter your current password.")
    if user.totp_enabled_at is not None and not code.strip():
        fields["code"] = i18n.gettext(
            "Enter the 6-digit code from your authenticator app, or a recovery code."
        )
    if fields:
        raise ValidationFailed(fields=fields)
    wrong = ""
    if not await passwords.verify_password_async(user.password_hash, password):
        wrong = "password"
    else:
        async with db.transaction(None):
            passed = user.totp_enabled_at is None or (
                await check_second_factor(ctx, user, code) is not None
            )
            if not passed:
                wrong = "code"
            elif ctx.actor.session is not None:
                ctx.actor.session.reauth_at = datetime.now(UTC)
                await WebSession.filter(id=ctx.actor.session.id).update(
                    reauth_at=ctx.actor.session.reauth_at
                )
    if wrong:
        # Recorded after the transaction: a signed-in browser guessing is worth keeping.
        await audit.record(
            ctx, "user.reauth_failed", object_type="user", object_id=user.id, field=wrong
        )
        message = {
            "password": i18n.gettext("This password is not right."),
            "code": i18n.gettext(WRONG_CODE),
        }[wrong]
        raise ValidationFailed(fields={wrong: message})


# --- enrolment, change, removal ------------------------------------------------------------


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def qr_svg(uri: str, *, title: str) -> Markup:
    """The enrolment link as an inline SVG QR code, drawn on the server (no script needed)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=title
    )
    # segno escapes the title and writes only shapes (no style attribute for the CSP to
    # refuse): safe to place in the page as it is. role="img" lets readers announce the title.
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704


async def start_enrolment(ctx: Context, user: User) -> tuple[str, str]:
    """A new secret, kept aside until a code from it is confirmed: an active one stays."""
    secret = pyotp.random_base32()
    user.totp_pending_secret = secret
    await user.save(update_fields=["totp_pending_secret"])
    return secret, provisioning_uri(user, secret)


def _new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, len(raw), 4)))
    return codes


async def _replace_recovery_codes(user: User) -> list[str]:
    # The previous codes are credentials, not records: they go when new ones are issued.
    await RecoveryCode.filter(user_id=user.id).delete()
    codes = _new_recovery_codes()
    await RecoveryCode.bulk_create(
        [RecoveryCode(user_id=user.id, code_hash=_hash_recovery_code(c)) for c in codes]
    )
    return codes


async def _end_other_sign_ins(ctx: Context, user: User, now: datetime) -> None:
    """Every other session and every bearer token ends; the caller keeps (or renews) its own."""
    user.second_factor_changed_at = now
    user.token_version += 1
    sessions = WebSession.filter(user_id=user.id, ended_at=None)
    if ctx.actor.session is not None:
        sessions = sessions.exclude(id=ctx.actor.session.id)
    await sessions.update(ended_at=now)
    # The version above already refuses them; the rows say so in the owner's list of tokens.
    await ApiToken.filter(user_id=user.id, revoked_at=None).update(revoked_at=now)


# What turning two-factor on, changing or off writes on the user's row (with the other sign-ins
# it ends: `second_factor_changed_at` and `token_version`).
SECOND_FACTOR_FIELDS = [
    "totp_secret",
    "totp_pending_secret",
    "totp_enabled_at",
    "totp_last_step",
    "second_factor_changed_at",
    "token_version",
]


async def confirm_enrolment(ctx: Context, user: User, *, code: str) -> list[str]:
    """Make the enrolled secret the active one; returns 10 new recovery codes (shown once)."""
    if not user.totp_pending_secret:
        raise ValidationFailed(fields={"code": i18n.gettext("Start two-factor sign-in first.")})
    now = datetime.now(UTC)
    async with db.transaction(None):
        passed = await check_second_factor(ctx, user, code, enrolling=True)
        if passed is None or passed.step is None:
            raise ValidationFailed(fields={"code": i18n.gettext(WRONG_CODE)})
        step = passed.step
        user = await User.select_for_update().get(id=user.id)
        assert user.totp_pending_secret is not None
        changed = user.totp_enabled_at is not None
        user.totp_secret = user.totp_pending_secret
        user.totp_pending_secret = None
        user.totp_enabled_at = now
        # Never lower the stored step: the confirming code cannot be used again either.
        user.totp_last_step = max(step, user.totp_last_step or step)
        await _end_other_sign_ins(ctx, user, now)
        await user.save(update_fields=SECOND_FACTOR_FIELDS)
        codes = await _replace_recovery_codes(user)
        await audit.record(
            ctx,
            "user.change_totp" if changed else "user.enable_totp",
            object_type="user",
            object_id=user.id,
        )
    _copy(user, into=ctx.actor.user)
    return codes


async def disable(ctx: Context, user: User) -> None:
    """Turn two-factor sign-in off (after `reauthenticate`); other sign-ins end."""
    if user.totp_enabled_at is None:
        raise ValidationFailed(fields={"code": i18n.gettext("Two-factor sign-in is already off.")})
    now = datetime.now(UTC)
    async with db.transaction(None):
        user = await User.select_for_update().get(id=user.id)
        user.totp_secret = None
        user.totp_pending_secret = None
        user.totp_enabled_at = None
        user.totp_last_step = None
        await _end_other_sign_ins(ctx, user, now)
        await user.save(update_fields=SECOND_FACTOR_FIELDS)
        await RecoveryCode.filter(user_id=user.id).delete()
        await audit.record(ctx, "user.disable_totp", object_type="user", object_id=user.id)
    _copy(user, into=ctx.actor.user)


async def regenerate_recovery_codes(ctx: Context, user: User) -> list[str]:
    """Ten new recovery codes (after `reauthenticate`); the old ones stop working."""
    if user.totp_enabled_at is None:
        raise ValidationFailed(fields={"code": i18n.gettext("Turn on two-factor sign-in first.")})
    async with db.transaction(None):
        await User.select_for_update().get(id=user.id)
        codes = await _replace_recovery_codes(user)
        await audit.record(
            ctx, "user.regenerate_recovery_codes", object_type="user", object_id=user.id
        )
    return codes


def _copy(source: User, *, into: User | None) -> None:
    """Keep the request's user object in step with the row just saved."""
    if into is None or into is source or into.id != source.id:
        return
    for name in (
        "totp_secret",
        "totp_pending_secret",
        "totp_enabled_at",
        "totp_last_step",
        "second_factor_changed_at",
        "token_version",
    ):
        setattr(into, name, getattr(source, name))


# --- single sign-on ------------------------------------------------------------------------


def mfa_from_amr(amr: object) -> bool:
    """Whether an ID token's `amr` (RFC 8176) says the provider checked a second factor.

    "mfa" says so outright; otherwise two different kinds of factor must appear (a password
    and a one-time code, a hardware key and a fingerprint...). Without `amr`, the weakest
    sign-in is assumed: one factor.
    """
    if not isinstance(amr, list):
        return False
    methods = {str(m).lower() for m in amr if isinstance(m, str)}
    if "mfa" in methods:
        return True
    kinds: Iterable[frozenset[str]] = (_KNOWLEDGE, _POSSESSION, _INHERENCE)
    return sum(1 for kind in kinds if methods & kind) >= 2
