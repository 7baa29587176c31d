"""One's own account: name and language, a new e-mail address, a copy of one's data, deletion.

The e-mail address changes only when a link sent to the new address is opened: the link is
signed (itsdangerous, with the app's secret) and names the account, the new address and a
digest of the current one, so it expires after a day and stops working once the address has
changed (it is single-use without a table of its own). The old address is told of the change.

Deleting an account keeps its row (proposals, comments, applications and reviews point to it
and are shown as a former member's) and erases what identifies the person in it. Money records
(the ledger, payouts, the payout accounts used for them) belong to organizations and stay:
see the README's privacy section.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from tortoise.expressions import Q
from tortoise.models import Model

from service.accounts.models import (
    ApiToken,
    Membership,
    OidcIdentity,
    OneTimeToken,
    Organization,
    RecoveryCode,
    Role,
    User,
    WebSession,
)
from service.accounts.service import InvalidLink, normalize_email
from service.audit import service as audit
from service.audit.models import AuditEvent
from service.core import i18n, personal_data, zones
from service.core.context import Context
from service.core.errors import Conflict, ValidationFailed
from service.core.i18n import N_
from service.core.personal_data import Section
from service.notifications import service as notifications
from service.notifications.models import Notification

EMAIL_CHANGE_TTL_SECONDS = 24 * 3600
_EMAIL_CHANGE_SALT = "accounts.change-email"
# How a deleted account is named wherever its contributions are shown (stored as is: the
# areas show `user.name`).
FORMER_MEMBER = N_("Former member")
# RFC 2606 reserves .invalid: mail to it can never be delivered anywhere.
DELETED_DOMAIN = "deleted.invalid"


def placeholder_email(user_id: int) -> str:
    return f"deleted-{user_id}@{DELETED_DOMAIN}"


# --- name, language, time zone ---------------------------------------------------------------


async def update_profile(
    ctx: Context,
    *,
    name: str | None = None,
    language: str | None = None,
    time_zone: str | None = None,
) -> User:
    """Change what is given (None leaves a field as it is); the schemas checked the values."""
    user = ctx.actor.user
    assert user is not None
    changed: list[str] = []
    if name is not None and name.strip() != user.name:
        user.name = name.strip()
        changed.append("name")
    if language is not None and language != user.language:
        if language not in i18n.LANGUAGES:
            raise ValidationFailed(fields={"language": i18n.gettext("Choose one of the options.")})
        user.language = language
        changed.append("language")
    if time_zone is not None:
        zone = zones.check_zone(time_zone) if time_zone else ""
        if zone != user.time_zone:
            user.time_zone = zone
            changed.append("time_zone")
    if changed:
        await user.save(update_fields=changed)
        await audit.record(
            ctx, "user.update_profile", object_type="user", object_id=user.id, fields=changed
        )
    return user


# --- the e-mail address ------------------------------------------------------------------


class EmailTaken(Conflict):
    default_detail = N_("Another account uses this e-mail address.")


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_EMAIL_CHANGE_SALT)


def _digest(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


async def _check_new_address(user: User, new_email: str) -> None:
    if new_email == user.email:
        raise ValidationFailed(
            fields={"email": i18n.gettext("This is already your e-mail address.")}
        )
    if await User.filter(email=new_email).exclude(id=user.id).exists():
        raise EmailTaken(
            fields={
                "email": i18n.gettext(
                    "Another account uses this e-mail address. Sign in to that account to"
                    " delete it or change its address first, or choose another address."
                )
            }
        )


async def request_email_change(ctx: Context, *, new_email: str) -> str:
    """Send a confirmation link to the new address (the caller re-authenticated); nothing
    changes until it is opened. Returns the normalized new address."""
    user = ctx.actor.user
    assert user is not None
    new_email = normalize_email(new_email)
    await _check_new_address(user, new_email)
    token = _serializer(ctx.settings.secret_key).dumps(
        {"u": user.id, "from": _digest(user.email), "to": new_email}
    )
    await notifications.send_email(
        new_email,
        "change_email",
        language=user.language,
        user=user,
        link=f"{ctx.settings.base_url}/account/email/confirm/{token}",
        hours=EMAIL_CHANGE_TTL_SECONDS // 3600,
    )
    await audit.record(ctx, "user.request_email_change", object_type="user", object_id=user.id)
    return new_email


async def confirm_email_change(ctx: Context, *, token: str) -> User:
    """Open the link: the address changes, and the old one is told."""
    try:
        claims = _serializer(ctx.settings.secret_key).loads(token, max_age=EMAIL_CHANGE_TTL_SECONDS)
        user_id, old_digest, new_email = int(claims["u"]), str(claims["from"]), str(claims["to"])
    except (BadSignature, SignatureExpired, KeyError, TypeError, ValueError) as exc:
        raise InvalidLink() from exc
    # The row lock makes two clicks on the link count once.
    user = await User.select_for_update().get_or_none(id=user_id, deleted_at=None)
    if user is None or _digest(user.email) != old_digest:
        raise InvalidLink()
    await _check_new_address(user, new_email)
    old_email = user.email
    user.email = new_email
    user.email_verified_at = datetime.now(UTC)
    await user.save(update_fields=["email", "email_verified_at"])
    await audit.record(ctx, "user.change_email", object_type="user", object_id=user.id)
    await notifications.send_email(
        old_email,
        "email_changed",
        language=user.language,
        user=user,
        new_email=new_email,
        link=f"{ctx.settings.base_url}/password-reset",
    )
    return user


# --- a copy of one's data ----------------------------------------------------------------


def _sections() -> list[Section]:
    # The areas' lists come from the areas themselves (service.core.personal_data), between
    # what accounts keeps of the person and the notices, sessions, tokens and audit entries.
    return [
        Section(
            "memberships",
            lambda u: Membership.filter(user_id=u.id),
            ("organization_id", "role", "created_at"),
        ),
        *(section for area in personal_data.modules() for section in area.export_sections()),
        Section(
            "notifications",
            lambda u: Notification.filter(user_id=u.id),
            ("title", "body", "link", "created_at", "read_at"),
        ),
        Section(
            "sessions",
            lambda u: WebSession.filter(user_id=u.id),
            ("created_at", "last_seen_at", "ended_at", "device", "place", "ip", "mfa"),
        ),
        Section(
            "api_tokens",
            lambda u: ApiToken.filter(user_id=u.id),
            ("created_at", "expires_at", "revoked_at", "device", "place", "ip", "mfa"),
        ),
        Section(
            "audit_entries",
            lambda u: AuditEvent.filter(
                Q(actor_id=u.id) | Q(object_type="user", object_id=str(u.id))
            ),
            (
                "action",
                "object_type",
                "object_id",
                "organization_id",
                "ip",
                "details",
                "created_at",
            ),
        ),
    ]


EXPORT_BATCH = 500


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (int, str)):
        return value.value
    return value


def _row(model: Model, names: tuple[str, ...]) -> dict[str, Any]:
    out = {"id": model.pk}
    out.update({name: _value(getattr(model, name)) for name in names})
    return out


def profile_of(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "language": user.language,
        "time_zone": user.time_zone or None,
        "email_verified_at": _value(user.email_verified_at),
        "totp_enabled": user.totp_enabled_at is not None,
        "is_operator": user.is_operator,
        "created_at": _value(user.created_at),
    }


async def export(user: User) -> AsyncIterator[bytes]:
    """The account's data as one JSON object, written as it is read: each list is read in
    batches of EXPORT_BATCH rows by id, so memory stays bounded however much there is."""
    head = {"exported_at": datetime.now(UTC).isoformat(), "profile": profile_of(user)}
    yield json.dumps(head, ensure_ascii=False)[:-1].encode()
    for section in _sections():
        yield f', "{section.name}": ['.encode()
        last = 0
        first = True
        while True:
            rows = await section.query(user).filter(id__gt=last).order_by("id").limit(EXPORT_BATCH)
            for row in rows:
                chunk = json.dumps(_row(row, section.fields), ensure_ascii=False, default=str)
                yield (chunk if first else "," + chunk).encode()
                first = False
            if len(rows) < EXPORT_BATCH:
                break
            last = rows[-1].pk
        yield b"]"
    yield b"}"


def export_sections() -> list[str]:
    return ["profile", *(section.name for section in _sections())]


# --- deletion ----------------------------------------------------------------------------


class OpenObligations(Conflict):
    default_detail = N_("This account cannot be deleted yet.")


async def _obligations_of(org: Organization) -> list[str]:
    """What an organization still owes or is owed, as each area tells (today the rewards area:
    money held in escrow or awarded but not yet paid, and milestones not paid)."""
    return [
        reason for area in personal_data.modules() for reason in await area.deletion_blockers(org)
    ]


async def deletion_blockers(user: User) -> list[str]:
    """One sentence per organization the person is the last owner of and that still has
    money obligations: deleting the account would leave nobody to settle them."""
    blockers: list[str] = []
    owned = await Membership.filter(user_id=user.id, role=Role.owner).select_related("organization")
    for membership in owned:
        org = membership.organization
        others = (
            await Membership.filter(organization_id=org.id, role=Role.owner)
            .exclude(user_id=user.id)
            .exists()
        )
        if others:
            continue
        reasons = await _obligations_of(org)
        if reasons:
            blockers.append(
                i18n.gettext(
                    "You are the last owner of %(organization)s, which still has %(reasons)s."
                    " Invite another member as an owner first (they take over its"
                    " obligations), or settle them: pay the milestones or cancel its"
                    " challenges so the escrow is refunded. Then delete your account."
                )
                % {"organization": org.name, "reasons": ", ".join(reasons)}
            )
    return blockers


async def delete_account(ctx: Context, user: User) -> None:
    """Erase the person and keep what they contributed (the caller re-authenticated)."""
    user = await User.select_for_update().get(id=user.id)
    blockers = await deletion_blockers(user)
    if blockers:
        raise OpenObligations(" ".join(blockers))
    now = datetime.now(UTC)
    placeholder = placeholder_email(user.id)
    # Recorded first, while the actor still has a name: the audit entry says who asked.
    await audit.record(ctx, "user.delete", object_type="user", object_id=user.id)
    user.email = placeholder
    user.name = FORMER_MEMBER
    user.password_hash = None
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.time_zone = ""
    user.language = "en"
    user.is_operator = False
    user.email_verified_at = None
    user.token_version += 1
    user.second_factor_changed_at = now
    user.deleted_at = now
    await user.save()
    await WebSession.filter(user_id=user.id, ended_at=None).update(ended_at=now)
    await WebSession.filter(user_id=user.id).update(ip="", user_agent="", device="", place="")
    await ApiToken.filter(user_id=user.id, revoked_at=None).update(revoked_at=now)
    await ApiToken.filter(user_id=user.id).update(ip="", user_agent="", device="", place="")
    await RecoveryCode.filter(user_id=user.id).delete()
    await OneTimeToken.filter(user_id=user.id, used_at=None).update(used_at=now)
    # An identity left linked would let single sign-on bring the account back.
    await OidcIdentity.filter(user_id=user.id).delete()
    await Membership.filter(user_id=user.id).delete()
    for area in personal_data.modules():
        await area.erase(user)
    await Notification.filter(user_id=user.id).delete()
    # The audit log keeps what happened (a security record) but no longer the address.
    await AuditEvent.filter(actor_id=user.id).update(actor_email=placeholder)
    if ctx.actor.user is not None and ctx.actor.user.id == user.id:
        ctx.actor.user = user
