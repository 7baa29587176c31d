"""Models of the investors area: watchlists, intro requests, profile views and city picks.

Every row links an investor organization to a startup-side organization (startup, university
or research centre); the profiles, theses and rankings themselves belong to matching.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from service.core.states import Transitions

if TYPE_CHECKING:
    from service.accounts.models import Organization, User


class IntroStatus(StrEnum):
    open = "open"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"


# Allowed moves of an intro request: only an open one is answered or expires.
INTRO_TRANSITIONS = Transitions(
    IntroStatus,
    {
        IntroStatus.open: {IntroStatus.accepted, IntroStatus.declined, IntroStatus.expired},
        IntroStatus.accepted: (),
        IntroStatus.declined: (),
        IntroStatus.expired: (),
    },
)


class Watch(Model):
    """A startup on an investor's watchlist, with the investor's private note."""

    id = fields.IntField(primary_key=True)
    investor: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="watches", on_delete=fields.CASCADE
    )
    startup: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="watched_by", on_delete=fields.CASCADE
    )
    note = fields.TextField(default="")
    created_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    investor_id: int
    startup_id: int

    class Meta:
        table = "investor_watches"
        unique_together = (("investor", "startup"),)


class WatchNotice(Model):
    """One event of a watched startup the watchers were told about (told once)."""

    id = fields.IntField(primary_key=True)
    watch: fields.ForeignKeyRelation[Watch] = fields.ForeignKeyField(
        "civic.Watch", related_name="notices", on_delete=fields.CASCADE
    )
    # "won" (an award) or "milestone" (a milestone approved).
    kind = fields.CharField(max_length=20)
    object_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    watch_id: int

    class Meta:
        table = "investor_watch_notices"
        unique_together = (("watch", "kind", "object_id"),)


class IntroRequest(Model):
    """An investor asks a startup for an introduction, contacts shared on accept."""

    id = fields.IntField(primary_key=True)
    investor: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="intro_requests_sent", on_delete=fields.CASCADE
    )
    startup: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="intro_requests_received", on_delete=fields.CASCADE
    )
    requested_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="intro_requests_made", on_delete=fields.RESTRICT
    )
    answered_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="intro_requests_answered", on_delete=fields.RESTRICT, null=True
    )
    message = fields.TextField()
    reply = fields.TextField(default="")
    status = fields.CharEnumField(IntroStatus, max_length=20, default=IntroStatus.open)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)
    answered_at = fields.DatetimeField(null=True)
    investor_id: int
    startup_id: int
    requested_by_id: int
    answered_by_id: int | None

    class Meta:
        table = "intro_requests"
        indexes = (("investor_id", "status"), ("startup_id", "status"))


class ProfileView(Model):
    """An investor looked at a startup's detail page (the last time, and how often)."""

    id = fields.IntField(primary_key=True)
    investor: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="profile_views_made", on_delete=fields.CASCADE
    )
    startup: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="profile_views", on_delete=fields.CASCADE
    )
    views = fields.IntField(default=1)
    last_viewed_at = fields.DatetimeField()
    investor_id: int
    startup_id: int

    class Meta:
        table = "investor_profile_views"
        unique_together = (("investor", "startup"),)


class ProfileViewDay(Model):
    """Who viewed a startup's detail on a day: a reload counts once per viewer and day.

    `viewer` is the person's user id ("user:42"), or a hash of an anonymous session or address
    should anonymous views ever be counted. Old days can be pruned at will.
    """

    id = fields.IntField(primary_key=True)
    investor_id = fields.IntField()
    startup_id = fields.IntField()
    viewer = fields.CharField(max_length=64)
    day = fields.DateField()

    class Meta:
        table = "investor_profile_view_days"
        unique_together = (("startup_id", "investor_id", "viewer", "day"),)


class CityPick(Model):
    """A city's curators recommend a startup to every investor, with a note."""

    id = fields.IntField(primary_key=True)
    city: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="city_picks", on_delete=fields.CASCADE
    )
    startup: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="picked_by", on_delete=fields.CASCADE
    )
    note = fields.TextField(default="")
    created_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    city_id: int
    startup_id: int

    class Meta:
        table = "investor_city_picks"
        unique_together = (("city", "startup"),)
