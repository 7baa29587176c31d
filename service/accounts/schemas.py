"""API and form schemas of the accounts area."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from service.accounts.models import InvitationStatus, OrganizationKind, Role
from service.core import zones
from service.core.i18n import N_


class RegisterIn(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    name: str = Field(min_length=1, max_length=120)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(N_("Enter your name."))
        return value.strip()


class TokenIn(BaseModel):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=256)
    # A code from the authenticator app, or one of the recovery codes (either field).
    totp: str | None = Field(default=None, max_length=40)
    recovery_code: str | None = Field(default=None, max_length=40)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    # Set when a recovery code was used to sign in: how many unused ones remain.
    recovery_codes_left: int | None = None


class VerifyEmailIn(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class ResetRequestIn(BaseModel):
    email: str = Field(min_length=1, max_length=254)


class ResetConfirmIn(BaseModel):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=256)


class MessageOut(BaseModel):
    detail: str


class MembershipOut(BaseModel):
    organization_id: int
    organization_name: str
    kind: OrganizationKind
    role: Role


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    language: str
    email_verified: bool
    is_operator: bool
    totp_enabled: bool
    time_zone: str | None = Field(
        default=None,
        description="The IANA zone chosen to read times in; null until chosen",
        examples=["America/Santiago"],
    )


class MeOut(UserOut):
    memberships: list[MembershipOut]
    unread_notifications: int


class TotpOut(BaseModel):
    secret: str
    otpauth_uri: str


class TotpConfirmIn(BaseModel):
    code: str = Field(min_length=6, max_length=12)


class ReauthIn(BaseModel):
    """The current password, and with two-factor on a current code (or a recovery code)."""

    password: str = Field(min_length=1, max_length=256)
    code: str | None = Field(default=None, max_length=40)


class TotpConfirmOut(UserOut):
    """Other sessions and tokens ended: `access_token` replaces the caller's own."""

    recovery_codes: list[str]
    access_token: str
    expires_in: int


class TotpDisabledOut(UserOut):
    access_token: str
    expires_in: int


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str]


class OrganizationIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200)
    kind: OrganizationKind
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    region: str = Field(min_length=1, max_length=120)
    time_zone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA time zone of its deadlines; by default the zone of its country",
        examples=["America/Santiago"],
    )

    @field_validator("country")
    @classmethod
    def _country_code(cls, value: str) -> str:
        from babel import Locale

        code = value.upper()
        if not code.isalpha() or code not in Locale("en").territories:
            raise ValueError(N_("Use an ISO 3166-1 alpha-2 country code, such as ES or BR."))
        return code

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else zones.check_zone(value)


class TimeZoneIn(BaseModel):
    """A time zone to set: an IANA name such as America/Santiago or Europe/Madrid."""

    time_zone: str = Field(min_length=1, max_length=64, examples=["Europe/Madrid"])

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return zones.check_zone(value)


class OrganizationOut(BaseModel):
    id: int
    name: str
    kind: OrganizationKind
    country: str
    region: str
    time_zone: str = Field(examples=["America/Santiago"])
    verified: bool
    created_at: datetime


class MemberOut(BaseModel):
    user_id: int
    name: str
    email: str
    role: Role


class MemberList(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None = None


class InviteIn(BaseModel):
    email: EmailStr
    role: Role


class InvitationOut(BaseModel):
    id: int
    organization_id: int
    organization_name: str
    email: str
    role: Role
    status: InvitationStatus
    created_at: datetime


class InvitationList(BaseModel):
    items: list[InvitationOut]
    next_cursor: str | None = None


class OperatorIn(BaseModel):
    is_operator: bool


class NotificationOut(BaseModel):
    """A notice written in the reader's language; `subject_*` name and link the challenge or
    proposal it is about (null for notices about neither: an organization, a cohort)."""

    id: int
    kind: str = ""
    title: str
    body: str
    link: str
    challenge_id: int | None = None
    proposal_id: int | None = None
    subject_title: str | None = None
    subject_url: str | None = None
    created_at: datetime
    read: bool


class NotificationList(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None = None
    unread_count: int


Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class MarkReadIn(BaseModel):
    ids: list[Id] | None = Field(default=None, max_length=500)


class CursorQuery(BaseModel):
    cursor: str | None = Field(default=None, max_length=10, pattern=r"^\d+$")
    limit: int = Field(default=20, ge=1, le=100)

    @field_validator("cursor")
    @classmethod
    def _an_id(cls, value: str | None) -> str | None:
        if value is not None and not 0 < int(value) < 2**31:
            raise ValueError(N_("This cursor is not valid."))
        return value


class AuditQuery(CursorQuery):
    action: str = Field(default="", max_length=80)
    actor: str = Field(default="", max_length=254)
    object_type: str = Field(default="", max_length=60)
    organization_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class AuditEventOut(BaseModel):
    id: int
    actor_id: int | None
    actor_email: str
    action: str
    object_type: str
    object_id: str
    organization_id: int | None
    ip: str
    details: dict[str, object]
    created_at: datetime


class AuditList(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None = None


# --- one's own account: profile, e-mail address, data, deletion ---------------------------


class ProfileIn(BaseModel):
    """What to change on one's account; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    language: Literal["en", "es", "pt"] | None = Field(
        default=None, description="Pages and e-mails are written in it"
    )
    time_zone: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="An IANA zone to read times in (and deadlines)",
        examples=["Europe/Madrid"],
    )

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError(N_("Enter your name."))
        return None if value is None else value.strip()

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else zones.check_zone(value)


class EmailChangeIn(ReauthIn):
    """A new address, with the current password (and code with two-factor on)."""

    email: EmailStr


class EmailChangeConfirmIn(BaseModel):
    token: str = Field(min_length=1, max_length=500)


class AccountExportOut(BaseModel):
    """Everything the platform holds about the account, as a file to keep."""

    exported_at: datetime
    profile: dict[str, Any]
    memberships: list[dict[str, Any]]
    proposals: list[dict[str, Any]]
    supports: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    questions: list[dict[str, Any]]
    follows: list[dict[str, Any]]
    applications: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    statements: list[dict[str, Any]]
    panel_volunteering: list[dict[str, Any]]
    notifications: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    api_tokens: list[dict[str, Any]]
    audit_entries: list[dict[str, Any]]
