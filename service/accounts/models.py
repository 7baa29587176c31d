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
    # Bumped to revoke every bearer token issued before.
    token_version = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"


class Organization(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    kind = fields.CharEnumField(OrganizationKind, max_length=20)
    country = fields.CharField(max_length=2)
    region = fields.CharField(max_length=120)
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

    class Meta:
        table = "memberships"
        unique_together = (("user", "organization"),)
