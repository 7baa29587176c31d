"""Accounts in the platform's words: register, verify, sign in, organizations, invitations."""

from __future__ import annotations

import math
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from service.accounts import devices, passwords, tokens, two_factor
from service.accounts.actor import hash_token
from service.accounts.models import (
    ApiToken,
    Invitation,
    InvitationStatus,
    Membership,
    OidcIdentity,
    OneTimeToken,
    Organization,
    OrganizationKind,
    Role,
    TokenPurpose,
    User,
    WebSession,
    roles_for,
)
from service.audit import service as audit
from service.audit.models import AuditEvent
from service.core import events, i18n, zones
from service.core.context import Context
from service.core.errors import (
    Conflict,
    NotAuthenticated,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from service.core.i18n import N_
from service.notifications import service as notifications

VERIFY_TTL = timedelta(hours=48)
RESET_TTL = timedelta(hours=1)
SESSION_TTL = timedelta(days=14)


class InvalidCredentials(NotAuthenticated):
    default_detail = N_("The e-mail address or the password is not right.")


class TotpRequired(NotAuthenticated):
    default_detail = N_("Enter the 6-digit code from your authenticator app.")


class InvalidLink(ValidationFailed):
    status_code = 400
    default_detail = N_("This link is not valid: it was already used, has expired or is wrong.")


def normalize_email(email: str) -> str:
    return email.strip().lower()


# --- users -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAccount:
    """A registration checked and hashed, ready to be stored."""

    email: str
    name: str
    password_hash: str


async def prepare_registration(*, email: str, password: str, name: str) -> NewAccount:
    """Check the password and hash it, before any transaction: argon2 is slow on purpose, and
    a write transaction held open meanwhile would make every other writer wait (on SQLite,
    the other process too)."""
    email = normalize_email(email)
    problem = passwords.password_problem(password, email=email, name=name)
    if problem:
        raise ValidationFailed(fields={"password": i18n.gettext(problem)})
    # Hashed before looking: both answers take the same time.
    password_hash = await passwords.hash_password_async(password)
    return NewAccount(email=email, name=name.strip(), password_hash=password_hash)


async def register(ctx: Context, account: NewAccount) -> User | None:
    """A new account, or None when the address has one: its owner is told by e-mail.

    Callers answer the same in both cases, so the form cannot tell who has an account.
    """
    existing = await User.get_or_none(email=account.email)
    if existing is not None:
        await _tell_owner_of_registration(ctx, existing)
        return None
    user = await User.create(
        email=account.email,
        name=account.name,
        password_hash=account.password_hash,
        language=ctx.language if ctx.language in i18n.LANGUAGES else "en",
    )
    ctx.actor.user = ctx.actor.user or user
    await audit.record(ctx, "user.register", object_type="user", object_id=user.id)
    await send_verification(ctx, user)
    return user


REGISTER_ALERT_EVERY = timedelta(hours=1)


async def _tell_owner_of_registration(ctx: Context, user: User) -> None:
    # One message an hour at most: the form must not become a way to flood an inbox.
    recent = await AuditEvent.filter(
        action="user.register_existing",
        object_id=str(user.id),
        created_at__gte=datetime.now(UTC) - REGISTER_ALERT_EVERY,
    ).exists()
    await audit.record(
        ctx, "user.register_existing", object_type="user", object_id=user.id, mailed=not recent
    )
    if not recent:
        await notifications.send_email(
            user.email,
            "register_existing",
            language=user.language,
            user=user,
            link=f"{ctx.settings.base_url}/password-reset",
        )


async def _new_link(user: User, purpose: TokenPurpose, ttl: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    await OneTimeToken.create(
        user=user,
        purpose=purpose,
        token_hash=hash_token(token),
        expires_at=datetime.now(UTC) + ttl,
    )
    return token


async def send_verification(ctx: Context, user: User) -> None:
    token = await _new_link(user, TokenPurpose.verify_email, VERIFY_TTL)
    link = f"{ctx.settings.base_url}/verify-email/{token}"
    await notifications.send_email(
        user.email, "verify_email", language=user.language, user=user, link=link
    )


async def _use_link(token: str, purpose: TokenPurpose) -> OneTimeToken:
    """Consume a single-use link; the row lock makes a double click count once."""
    link = (
        await OneTimeToken.select_for_update()
        .filter(token_hash=hash_token(token), purpose=purpose)
        .first()
    )
    now = datetime.now(UTC)
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise InvalidLink()
    link.used_at = now
    await link.save(update_fields=["used_at"])
    return link


async def verify_email(ctx: Context, *, token: str) -> User:
    link = await _use_link(token, TokenPurpose.verify_email)
    user = await User.get(id=link.user_id)
    if user.email_verified_at is None:
        user.email_verified_at = datetime.now(UTC)
        await user.save(update_fields=["email_verified_at"])
    await audit.record(ctx, "user.verify_email", object_type="user", object_id=user.id)
    return user


async def request_password_reset(ctx: Context, *, email: str) -> None:
    """Sends a link when the account exists; the caller answers the same either way."""
    user = await User.get_or_none(email=normalize_email(email))
    if user is None:
        return
    token = await _new_link(user, TokenPurpose.reset_password, RESET_TTL)
    link = f"{ctx.settings.base_url}/password-reset/{token}"
    await notifications.send_email(
        user.email, "reset_password", language=user.language, user=user, link=link
    )
    await audit.record(ctx, "user.request_reset", object_type="user", object_id=user.id)


async def reset_password(ctx: Context, *, token: str, password: str) -> User:
    link = await _use_link(token, TokenPurpose.reset_password)
    user = await User.get(id=link.user_id)
    await check_new_password(user, password)
    user.password_hash = await passwords.hash_password_async(password)
    # A reset ends every session and token: whoever knew the old password is out.
    user.token_version += 1
    await user.save(update_fields=["password_hash", "token_version"])
    await WebSession.filter(user_id=user.id, ended_at=None).update(ended_at=datetime.now(UTC))
    await audit.record(ctx, "user.reset_password", object_type="user", object_id=user.id)
    return user


async def check_new_password(user: User, password: str) -> None:
    """Refuse a weak password; the names of the user's organizations count as known words."""
    names = await Organization.filter(memberships__user_id=user.id).values_list("name", flat=True)
    problem = passwords.password_problem(
        password, email=user.email, name=user.name, words=[str(n) for n in names]
    )
    if problem:
        raise ValidationFailed(fields={"password": i18n.gettext(problem)})


async def authenticate(
    *, email: str, password: str, totp: str | None, ctx: Context
) -> tuple[User, bool]:
    """Check a password (and the second factor when the user has one); returns (user, mfa).

    `totp` is a code from the authenticator app or a recovery code (used up).
    """
    user = await User.get_or_none(email=normalize_email(email))
    if not await passwords.verify_password_async(user.password_hash if user else None, password):
        raise InvalidCredentials()
    assert user is not None
    if user.totp_enabled_at is not None:
        if not totp:
            raise TotpRequired(
                fields={"totp": i18n.gettext("Enter the 6-digit code from your authenticator app.")}
            )
        if await two_factor.check_second_factor(ctx, user, totp) is None:
            raise InvalidCredentials(fields={"totp": i18n.gettext(two_factor.WRONG_CODE)})
        return user, True
    return user, False


async def issue_token(ctx: Context, user: User, *, mfa: bool) -> str:
    """A bearer token, with a row that lets its owner see it and revoke it alone."""
    now = datetime.now(UTC)
    # Rows of tokens expired a day ago only fill the table: the audit log keeps the issuance.
    await ApiToken.filter(user_id=user.id, expires_at__lt=now - timedelta(days=1)).delete()
    row = await ApiToken.create(
        user=user,
        jti=tokens.new_jti(),
        expires_at=now + timedelta(seconds=tokens.TOKEN_TTL_SECONDS),
        version=user.token_version,
        mfa=mfa,
        **_client_fields(ctx),
    )
    await audit.record(
        ctx, "user.issue_token", object_type="token", object_id=row.id, user_id=user.id, mfa=mfa
    )
    return tokens.issue(
        ctx.settings.secret_key, user_id=user.id, version=user.token_version, mfa=mfa, jti=row.jti
    )


def _client_fields(ctx: Context) -> dict[str, Any]:
    """What a session or token row records about the client that opened it."""
    user_agent = ctx.extra.get("user_agent", "")
    return {
        "ip": ctx.ip[:64],
        "user_agent": user_agent[:255],
        "device": devices.describe(user_agent),
        "place": devices.region_of(ctx.extra.get("accept_language", "")),
    }


async def revoke_tokens(ctx: Context, user: User) -> None:
    user.token_version += 1
    await user.save(update_fields=["token_version"])
    await ApiToken.filter(user_id=user.id, revoked_at=None).update(revoked_at=datetime.now(UTC))
    await audit.record(ctx, "user.revoke_tokens", object_type="user", object_id=user.id)


async def start_session(
    ctx: Context, user: User, *, mfa: bool, replacing: WebSession | None
) -> str:
    """A new session (and cookie value) on every sign-in; the old one ends."""
    if replacing is not None and replacing.ended_at is None:
        replacing.ended_at = datetime.now(UTC)
        await replacing.save(update_fields=["ended_at"])
    token = secrets.token_urlsafe(32)
    await WebSession.create(
        user=user,
        token_hash=hash_token(token),
        csrf_token=secrets.token_urlsafe(32),
        expires_at=datetime.now(UTC) + SESSION_TTL,
        mfa=mfa,
        **_client_fields(ctx),
    )
    await audit.record(ctx, "user.sign_in", object_type="user", object_id=user.id, mfa=mfa)
    return token


async def end_session(ctx: Context, session: WebSession) -> None:
    session.ended_at = datetime.now(UTC)
    await session.save(update_fields=["ended_at"])
    await audit.record(
        ctx, "user.sign_out", object_type="session", object_id=session.id, user_id=session.user_id
    )


async def set_operator(ctx: Context, user: User, *, is_operator: bool) -> User:
    user.is_operator = is_operator
    await user.save(update_fields=["is_operator"])
    await audit.record(
        ctx, "user.set_operator", object_type="user", object_id=user.id, is_operator=is_operator
    )
    return user


async def create_operator(*, email: str, password: str, name: str, ctx: Context) -> User:
    """For the command line: create (or promote) an operator account."""
    email = normalize_email(email)
    user = await User.get_or_none(email=email)
    if user is None:
        problem = passwords.password_problem(password, email=email, name=name)
        if problem:
            raise ValidationFailed(fields={"password": problem})
        user = await User.create(
            email=email,
            name=name,
            password_hash=passwords.hash_password(password),
            email_verified_at=datetime.now(UTC),
        )
    user.is_operator = True
    await user.save(update_fields=["is_operator"])
    await audit.record(
        ctx,
        "user.set_operator",
        object_type="user",
        object_id=user.id,
        is_operator=True,
        source="command line",
    )
    return user


async def sign_in_with_oidc(
    ctx: Context, *, issuer: str, subject: str, email: str, email_verified: bool, name: str
) -> User:
    """Find the user of an identity; link it to an existing account only on a verified e-mail."""
    identity = await OidcIdentity.get_or_none(issuer=issuer, subject=subject).select_related("user")
    if identity is not None:
        return identity.user
    if not email or not email_verified:
        raise NotAuthenticated(
            i18n.gettext("Your identity provider did not confirm your e-mail address.")
        )
    email = normalize_email(email)
    user = await User.get_or_none(email=email)
    if user is None:
        user = await User.create(
            email=email,
            name=name or email.split("@")[0],
            email_verified_at=datetime.now(UTC),
            language=ctx.language,
        )
    elif user.email_verified_at is None:
        # Whoever registered this address never proved it is theirs: the password they chose
        # and their sessions and tokens must not outlive the owner's first sign-in.
        now = datetime.now(UTC)
        user.email_verified_at = now
        user.password_hash = None
        user.token_version += 1
        await user.save(update_fields=["email_verified_at", "password_hash", "token_version"])
        await WebSession.filter(user_id=user.id, ended_at=None).update(ended_at=now)
    await OidcIdentity.create(user=user, issuer=issuer, subject=subject)
    await audit.record(
        ctx, "user.link_identity", object_type="user", object_id=user.id, issuer=issuer
    )
    return user


# --- organizations ------------------------------------------------------------------------


class EmailNotConfirmed(PermissionDenied):
    default_detail = N_(
        "Confirm your e-mail address first: open the link we sent you, or send it again from"
        " your account page."
    )


class TooManyInvitations(RateLimited):
    pass


# Until an operator verifies an organization, what it can send out is capped: its invitations
# carry its name to any address, which made it a free spam relay.
INVITATIONS_PER_DAY_UNVERIFIED = 20
# A web address in a name: a scheme, "www.", or something shaped like a domain
# ("evil.example", "prize.com"); "St. Mary" or "Lab 4.0" are not.
_LINK_IN_NAME = re.compile(
    r"\bhttps?|://|\bwww\."
    r"|(?<![\w-])[^\W_](?:[\w-]*[^\W_])?\.(?:[^\W\d_]{2,63}|xn--[\w-]+)(?![\w-])",
    re.IGNORECASE,
)


def _confirmed(user: User) -> None:
    if user.email_verified_at is None:
        raise EmailNotConfirmed()


def check_organization_name(name: str) -> None:
    """Refuse a name that carries a link (for organizations not verified yet)."""
    # NFKC folds look-alikes such as the full-width dot (U+FF0E) before the check.
    if _LINK_IN_NAME.search(unicodedata.normalize("NFKC", name)):
        raise ValidationFailed(
            fields={
                "name": i18n.gettext(
                    "Write the organization's name without a web address or a domain name."
                )
            }
        )


async def create_organization(
    ctx: Context,
    *,
    name: str,
    kind: OrganizationKind,
    country: str,
    region: str,
    time_zone: str | None = None,
) -> Organization:
    user = ctx.actor.user
    assert user is not None
    _confirmed(user)
    check_organization_name(name)
    org = await Organization.create(
        name=name.strip(),
        kind=kind,
        country=country.upper(),
        region=region.strip(),
        time_zone=time_zone or zones.zone_for_country(country),
    )
    await Membership.create(user=user, organization=org, role=Role.owner)
    await audit.record(
        ctx,
        "organization.create",
        object_type="organization",
        object_id=org.id,
        organization_id=org.id,
        kind=kind.value,
    )
    return org


async def set_organization_time_zone(ctx: Context, org: Organization, name: str) -> Organization:
    """Stored moments do not move: a deadline at 18:00 in Santiago reads 17:00 in Lima after
    a change to Lima, which is why the change is audited."""
    before = org.time_zone
    org.time_zone = zones.check_zone(name)
    await org.save(update_fields=["time_zone"])
    await audit.record(
        ctx,
        "organization.time_zone",
        object_type="organization",
        object_id=org.id,
        organization_id=org.id,
        before=before,
        after=org.time_zone,
    )
    return org


async def set_user_time_zone(ctx: Context, name: str) -> User:
    """An empty name goes back to the default (the first organization's zone, or the browser's)."""
    user = ctx.actor.user
    assert user is not None
    user.time_zone = zones.check_zone(name) if name else ""
    await user.save(update_fields=["time_zone"])
    return user


async def verify_organization(ctx: Context, org: Organization) -> Organization:
    if org.verified_at is None:
        org.verified_at = datetime.now(UTC)
        await org.save(update_fields=["verified_at"])
        # Matching counts it in the deal flow from now on (service.matching.listeners).
        await events.announce("organization.verified", organization=org)
        await audit.record(
            ctx,
            "organization.verify",
            object_type="organization",
            object_id=org.id,
            organization_id=org.id,
        )
        for membership in await Membership.filter(organization=org, role=Role.owner).select_related(
            "user"
        ):
            await notifications.notify(
                membership.user,
                "organization_verified",
                link=f"/organizations/{org.id}",
                organization=org.name,
            )
    return org


async def memberships_of(user: User) -> list[Membership]:
    return await Membership.filter(user=user).select_related("organization").order_by("id")


async def members(org: Organization) -> list[Membership]:
    return await Membership.filter(organization=org).select_related("user").order_by("id")


async def invite(ctx: Context, org: Organization, *, email: str, role: Role) -> Invitation:
    assert ctx.actor.user is not None
    _confirmed(ctx.actor.user)
    if role not in roles_for(org.kind):
        allowed = ", ".join(sorted(r.value for r in roles_for(org.kind)))
        raise ValidationFailed(fields={"role": i18n.gettext("Choose one of:") + " " + allowed})
    email = normalize_email(email)
    if await Membership.filter(organization=org, user__email=email).exists():
        raise Conflict(fields={"email": i18n.gettext("This person is already a member.")})
    if await Invitation.filter(
        organization=org, email=email, status=InvitationStatus.pending
    ).exists():
        raise Conflict(
            fields={"email": i18n.gettext("This person already has a pending invitation.")}
        )
    if org.verified_at is None:
        await _within_daily_invitations(org)
    invitation = await Invitation.create(
        organization=org, email=email, role=role, invited_by=ctx.actor.user
    )
    await audit.record(
        ctx,
        "organization.invite",
        object_type="invitation",
        object_id=invitation.id,
        organization_id=org.id,
        email=email,
        role=role.value,
    )
    invitee = await User.get_or_none(email=email)
    if invitee is not None:
        await notifications.notify(
            invitee, "organization_invitation", link="/invitations", name=org.name, role=role.value
        )
    else:
        await notifications.send_email(
            email,
            "invitation",
            language=ctx.language,
            user=None,
            link=f"{ctx.settings.base_url}/register",
            organization=org,
            role=role.value,
        )
    return invitation


async def _within_daily_invitations(org: Organization) -> None:
    """At most INVITATIONS_PER_DAY_UNVERIFIED in any 24 hours, counted from the table."""
    # The organization's row lock makes concurrent invitations count one after the other.
    await Organization.select_for_update().filter(id=org.id).first()
    since = datetime.now(UTC) - timedelta(hours=24)
    recent = (
        await Invitation.filter(organization_id=org.id, created_at__gt=since)
        .order_by("-created_at")
        .limit(INVITATIONS_PER_DAY_UNVERIFIED)
        .values_list("created_at", flat=True)
    )
    if len(recent) < INVITATIONS_PER_DAY_UNVERIFIED:
        return
    # A place frees when the oldest of the last 20 turns a day old.
    oldest: datetime = recent[-1]  # type: ignore[assignment]  # flat values_list: datetimes
    frees_at = oldest + timedelta(hours=24)
    wait = max(1, math.ceil((frees_at - datetime.now(UTC)).total_seconds()))
    raise TooManyInvitations(
        wait,
        i18n.gettext(
            "An organization not verified yet can send %(limit)s invitations a day."
            " Try again in %(wait)s, or ask an operator to verify it."
        )
        % {"limit": INVITATIONS_PER_DAY_UNVERIFIED, "wait": _duration(wait)},
    )


def _duration(seconds: int) -> str:
    if seconds >= 3600:
        hours = math.ceil(seconds / 3600)
        return i18n.ngettext("%(num)s hour", "%(num)s hours", hours) % {"num": hours}
    minutes = math.ceil(seconds / 60)
    return i18n.ngettext("%(num)s minute", "%(num)s minutes", minutes) % {"num": minutes}


async def pending_invitations(user: User) -> list[Invitation]:
    return (
        await Invitation.filter(email=user.email, status=InvitationStatus.pending)
        .select_related("organization")
        .order_by("-id")
    )


async def answer_invitation(ctx: Context, invitation: Invitation, *, accept: bool) -> Invitation:
    invitation = await Invitation.select_for_update().get(id=invitation.id)
    if invitation.status is not InvitationStatus.pending:
        raise Conflict(i18n.gettext("This invitation was already answered."))
    user = ctx.actor.user
    assert user is not None
    if accept:
        if not await Membership.filter(
            user=user, organization_id=invitation.organization_id
        ).exists():
            await Membership.create(
                user=user, organization_id=invitation.organization_id, role=invitation.role
            )
    invitation.status = InvitationStatus.accepted if accept else InvitationStatus.declined
    invitation.answered_at = datetime.now(UTC)
    await invitation.save(update_fields=["status", "answered_at"])
    await audit.record(
        ctx,
        "invitation.accept" if accept else "invitation.decline",
        object_type="invitation",
        object_id=invitation.id,
        organization_id=invitation.organization_id,
    )
    return invitation
