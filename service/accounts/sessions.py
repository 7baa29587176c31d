"""A user's own sign-ins: the sessions and API tokens still alive, ending them, the password.

The owner sees every browser and API client signed in to the account (ASVS 7.5.2) and can
end one, or all but the one in use; changing the password needs the current one (and a code
when two-factor sign-in is on) and signs every other session and token out.
"""

from __future__ import annotations

from datetime import UTC, datetime

from service.accounts import passwords
from service.accounts.actor import Actor
from service.accounts.models import ApiToken, User, WebSession
from service.accounts.service import check_new_password
from service.audit import service as audit
from service.core import i18n
from service.core.context import Context
from service.core.errors import NotFound, ValidationFailed


def _last_seen(session: WebSession) -> datetime:
    return session.last_seen_at or session.created_at


async def active_sessions(actor: Actor) -> list[WebSession]:
    """Sessions that would still sign in, most recently used first."""
    assert actor.user is not None
    now = datetime.now(UTC)
    rows = await WebSession.filter(user_id=actor.user.id, ended_at=None, expires_at__gt=now).limit(
        200
    )
    # A session idle past the limit ends at its next use: it is not listed as alive.
    alive = [s for s in rows if now - _last_seen(s) <= actor.idle_limit]
    return sorted(alive, key=_last_seen, reverse=True)


async def active_tokens(user: User) -> list[ApiToken]:
    now = datetime.now(UTC)
    rows = await ApiToken.filter(
        user_id=user.id, revoked_at=None, expires_at__gt=now, version=user.token_version
    ).order_by("-id")
    return list(rows)


async def end_session(ctx: Context, session_id: int) -> WebSession:
    """End one of the user's own sessions (another user's is not found)."""
    assert ctx.actor.user is not None
    session = await WebSession.get_or_none(id=session_id, user_id=ctx.actor.user.id, ended_at=None)
    if session is None:
        raise NotFound()
    session.ended_at = datetime.now(UTC)
    await session.save(update_fields=["ended_at"])
    await audit.record(
        ctx, "user.session_end", object_type="session", object_id=session.id, reason="by owner"
    )
    return session


async def revoke_token(ctx: Context, token_id: int) -> ApiToken:
    assert ctx.actor.user is not None
    token = await ApiToken.get_or_none(id=token_id, user_id=ctx.actor.user.id, revoked_at=None)
    if token is None:
        raise NotFound()
    token.revoked_at = datetime.now(UTC)
    await token.save(update_fields=["revoked_at"])
    await audit.record(ctx, "user.revoke_token", object_type="token", object_id=token.id)
    return token


async def end_other_sign_ins(ctx: Context, *, reason: str) -> int:
    """Every session but the current one ends, and every API token; returns how many."""
    user = ctx.actor.user
    assert user is not None
    now = datetime.now(UTC)
    others = WebSession.filter(user_id=user.id, ended_at=None)
    if ctx.actor.session is not None:
        others = others.exclude(id=ctx.actor.session.id)
    ended = await others.update(ended_at=now)
    revoked = await ApiToken.filter(user_id=user.id, revoked_at=None, expires_at__gt=now).update(
        revoked_at=now
    )
    # Tokens issued without a row (none should be) end with the version too.
    user.token_version += 1
    await User.filter(id=user.id).update(token_version=user.token_version)
    await audit.record(
        ctx,
        "user.session_end_others",
        object_type="user",
        object_id=user.id,
        reason=reason,
        sessions=ended,
        tokens=revoked,
    )
    return int(ended) + int(revoked)


async def new_password_hash(user: User, password: str) -> str:
    """Check and hash a new password, outside any transaction (argon2 is slow on purpose)."""
    try:
        await check_new_password(user, password)
    except ValidationFailed as exc:
        # The form's field for the new password; `password` is the current one.
        raise ValidationFailed(fields={"new_password": exc.fields.get("password", "")}) from exc
    if await passwords.verify_password_async(user.password_hash, password):
        raise ValidationFailed(
            fields={"new_password": i18n.gettext("Choose a password other than the current one.")}
        )
    return await passwords.hash_password_async(password)


async def change_password(ctx: Context, password_hash: str) -> None:
    """Set the new password (the caller checked the current one) and sign out elsewhere."""
    user = ctx.actor.user
    assert user is not None
    user.password_hash = password_hash
    await User.filter(id=user.id).update(password_hash=password_hash)
    await audit.record(ctx, "user.change_password", object_type="user", object_id=user.id)
    await end_other_sign_ins(ctx, reason="password changed")
