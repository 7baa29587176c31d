"""Users, organizations, memberships and invitations; sessions, one-time links, audit log."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class OrganizationKind(StrEnum):
    government = "government"
    startup = "startup"
    university = "university"
    research_center = "research_center"
    investor = "investor"


APPLICANT_KINDS = frozenset(
    {OrganizationKind.startup, OrganizationKind.university, OrganizationKind.research_center}
)


class Role(StrEnum):
    owner = "owner"
    manager = "manager"
    editor = "editor"
    finance = "finance"
    member = "member"


GOVERNMENT_ROLES = frozenset({Role.owner, Role.manager, Role.editor, Role.finance})
OTHER_ROLES = frozenset({Role.owner, Role.member})


def roles_for(kind: OrganizationKind) -> frozenset[Role]:
    return GOVERNMENT_ROLES if kind is OrganizationKind.government else OTHER_ROLES


class User(Model):
    id = fields.IntField(primary_key=True)
    # Stored lower-cased: addresses are compared case-insensitively.
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=120)
    password_hash = fields.CharField(max_length=255, null=True)
    language = fields.CharField(max_length=8, default="en")
    email_verified_at = fields.DatetimeField(null=True)
    is_operator = fields.BooleanField(default=False)
    totp_secret = fields.CharField(max_length=64, null=True)
    totp_enabled_at = fields.DatetimeField(null=True)
    # A secret being enrolled: the active one above stays until a code from this one is confirmed.
    totp_pending_secret = fields.CharField(max_length=64, null=True)
    # The last accepted TOTP time step: a code of that step or an earlier one is a replay.
    totp_last_step = fields.BigIntField(null=True)
    # When two-factor sign-in was last turned on, changed or off: older sessions no longer count.
    second_factor_changed_at = fields.DatetimeField(null=True)
    # Bumped to revoke every bearer token issued before.
    token_version = fields.IntField(default=0)
    # The IANA zone the user chose to read times in; empty until chosen (then their first
    # organization's zone, else the browser's, is used).
    time_zone = fields.CharField(max_length=64, default="")
    # Set when its owner deleted the account: the row stays for what they contributed (shown
    # as a former member), with the personal data erased (see accounts.account_changes).
    deleted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"


class Organization(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    kind = fields.CharEnumField(OrganizationKind, max_length=20)
    country = fields.CharField(max_length=2)
    region = fields.CharField(max_length=120)
    # The IANA zone its deadlines are typed and shown in (the city's), from its country at first.
    time_zone = fields.CharField(max_length=64, default="UTC")
    verified_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organizations"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class Membership(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="memberships", on_delete=fields.RESTRICT
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="memberships", on_delete=fields.RESTRICT
    )
    role = fields.CharEnumField(Role, max_length=20)
    created_at = fields.DatetimeField(auto_now_add=True)
    user_id: int
    organization_id: int

    class Meta:
        table = "memberships"
        unique_together = (("user", "organization"),)


class InvitationStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    revoked = "revoked"


class Invitation(Model):
    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="invitations", on_delete=fields.RESTRICT
    )
    email = fields.CharField(max_length=254, db_index=True)
    role = fields.CharEnumField(Role, max_length=20)
    status = fields.CharEnumField(InvitationStatus, max_length=20, default=InvitationStatus.pending)
    invited_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="invitations_sent", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    answered_at = fields.DatetimeField(null=True)
    organization_id: int
    invited_by_id: int

    class Meta:
        table = "invitations"


class TokenPurpose(StrEnum):
    verify_email = "verify_email"
    reset_password = "reset_password"  # noqa: S105 - a purpose name, not a secret


class OneTimeToken(Model):
    """A single-use, expiring link token. Only its SHA-256 is stored."""

    # (No semicolons in model docstrings: they become table comments in the SQL.)

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="one_time_tokens", on_delete=fields.RESTRICT
    )
    purpose = fields.CharEnumField(TokenPurpose, max_length=20)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    user_id: int

    class Meta:
        table = "one_time_tokens"


class WebSession(Model):
    """A signed-in browser. The cookie holds a random token, and only its SHA-256 is stored."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="sessions", on_delete=fields.RESTRICT
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    # CSRF token bound to this session; every state-changing form must echo it.
    csrf_token = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    # Written at most once a minute (see actor.py): the idle timeout counts from it.
    last_seen_at = fields.DatetimeField(null=True)
    user_agent = fields.CharField(max_length=255, default="")
    # What the owner reads in their list of sessions: "Firefox 128 on Windows".
    device = fields.CharField(max_length=120, default="")
    # The country of the browser's language ("AR" for es-AR): a coarse hint, not a location.
    place = fields.CharField(max_length=8, default="")
    ip = fields.CharField(max_length=64, default="")
    # True when the sign-in that opened it passed a second factor.
    mfa = fields.BooleanField(default=False)
    # The last time the password (and code) was typed again in this session, for changes to
    # the sign-in itself; the sign-in that opened the session counts as one too.
    reauth_at = fields.DatetimeField(null=True)
    user_id: int

    class Meta:
        table = "web_sessions"


class ApiToken(Model):
    """A bearer token issued at sign-in, listed on its owner's account page."""

    # The token itself is not stored: its `jti` claim names the row, which can revoke it alone.

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="api_tokens", on_delete=fields.RESTRICT
    )
    jti = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)
    last_seen_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    # The user's `token_version` at issue: a later bump (reset, two-factor) ends it too.
    version = fields.IntField(default=0)
    mfa = fields.BooleanField(default=False)
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=255, default="")
    device = fields.CharField(max_length=120, default="")
    place = fields.CharField(max_length=8, default="")
    user_id: int

    class Meta:
        table = "api_tokens"


class OidcIdentity(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="identities", on_delete=fields.RESTRICT
    )
    issuer = fields.CharField(max_length=255)
    subject = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "oidc_identities"
        unique_together = (("issuer", "subject"),)


class RecoveryCode(Model):
    """A single-use code that stands in for the authenticator app. Only its SHA-256 is stored
    (each code has 120 random bits, so a plain hash resists guessing)."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="recovery_codes", on_delete=fields.RESTRICT
    )
    code_hash = fields.CharField(max_length=64, unique=True)
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    user_id: int

    class Meta:
        table = "recovery_codes"
