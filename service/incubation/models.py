"""Models of the incubation area: programmes, cohorts, places, mentors, check-ins, projects.

Links to the other areas are held here (organizations, users, challenges, awards); nothing is
added to their models. A project's milestones are read from the rewards area by its award.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from service.core.states import Transitions

if TYPE_CHECKING:
    from service.accounts.models import Organization, User
    from service.applications.models import Award
    from service.challenges.models import Challenge


class Cadence(StrEnum):
    weekly = "weekly"
    fortnightly = "fortnightly"
    monthly = "monthly"


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later (the month's last day when it is shorter)."""
    month = moment.month - 1 + months
    year = moment.year + month // 12
    month = month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def step_start(start: datetime, cadence: Cadence, step: int) -> datetime:
    """When check-in step `step` (from 0) opens; it is due when the next one opens."""
    if cadence is Cadence.monthly:
        return add_months(start, step)
    days = 7 if cadence is Cadence.weekly else 14
    return start + timedelta(days=days * step)


def current_step(start: datetime, cadence: Cadence, now: datetime) -> int:
    """The step whose window holds `now` (-1 before the cohort starts)."""
    if now < start:
        return -1
    if cadence is Cadence.monthly:
        months = (now.year - start.year) * 12 + now.month - start.month
        while months > 0 and add_months(start, months) > now:
            months -= 1
        return months
    days = 7 if cadence is Cadence.weekly else 14
    return int((now - start) // timedelta(days=days))


class Programme(Model):
    """An incubation programme run by a city (or by a university or incubator it names)."""

    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="programmes", on_delete=fields.RESTRICT
    )
    # A partner university or incubator whose members run it with the city.
    partner: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization",
        related_name="partner_programmes",
        on_delete=fields.RESTRICT,
        null=True,
    )
    name = fields.CharField(max_length=160)
    description = fields.TextField(default="")
    created_by_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    organization_id: int
    partner_id: int | None

    class Meta:
        table = "incubation_programmes"
        ordering = ["id"]


class Cohort(Model):
    id = fields.IntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "civic.Programme", related_name="cohorts", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=160)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    capacity = fields.IntField()
    # Where it meets: a named place with an address, or remote.
    space_name = fields.CharField(max_length=160, default="")
    space_address = fields.CharField(max_length=300, default="")
    remote = fields.BooleanField(default=False)
    cadence = fields.CharEnumField(Cadence, max_length=20, default=Cadence.fortnightly)
    created_at = fields.DatetimeField(auto_now_add=True)
    programme_id: int

    class Meta:
        table = "incubation_cohorts"
        ordering = ["starts_at", "id"]


class PlaceStatus(StrEnum):
    # Offered to a winner of one of the city's challenges: the startup accepts or refuses.
    offered = "offered"
    # Asked for by a startup through the form: the staff admit or decline.
    applied = "applied"
    admitted = "admitted"
    declined = "declined"
    refused = "refused"


class Place(Model):
    """A startup's place in a cohort, from an offer or an application."""

    id = fields.IntField(primary_key=True)
    cohort: fields.ForeignKeyRelation[Cohort] = fields.ForeignKeyField(
        "civic.Cohort", related_name="places", on_delete=fields.RESTRICT
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="cohort_places", on_delete=fields.RESTRICT
    )
    award: fields.ForeignKeyNullableRelation[Award] = fields.ForeignKeyField(
        "civic.Award", related_name="cohort_places", on_delete=fields.RESTRICT, null=True
    )
    challenge: fields.ForeignKeyNullableRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge", related_name="cohort_places", on_delete=fields.RESTRICT, null=True
    )
    status = fields.CharEnumField(PlaceStatus, max_length=20)
    # What it works on (public once admitted) and its sectors (for pairing mentors).
    pitch = fields.TextField(default="")
    sectors: list[str] = fields.JSONField(default=list)
    reason = fields.TextField(default="")
    decided_by_id = fields.IntField(null=True)
    decided_at = fields.DatetimeField(null=True)
    created_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    cohort_id: int
    organization_id: int
    award_id: int | None
    challenge_id: int | None

    class Meta:
        table = "incubation_places"
        ordering = ["id"]
        unique_together = (("cohort", "organization"),)


class MentorStatus(StrEnum):
    invited = "invited"
    active = "active"
    declined = "declined"


class Mentor(Model):
    """A person invited by e-mail to mentor a cohort, with their expertise and capacity."""

    id = fields.IntField(primary_key=True)
    cohort: fields.ForeignKeyRelation[Cohort] = fields.ForeignKeyField(
        "civic.Cohort", related_name="mentors", on_delete=fields.RESTRICT
    )
    email = fields.CharField(max_length=254)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "civic.User", related_name="mentoring", on_delete=fields.RESTRICT, null=True
    )
    name = fields.CharField(max_length=120, default="")
    # Values of the shared area vocabulary (service.core.vocab.Area).
    expertise: list[str] = fields.JSONField(default=list)
    capacity = fields.IntField(default=2)
    status = fields.CharEnumField(MentorStatus, max_length=20, default=MentorStatus.invited)
    invited_by_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    answered_at = fields.DatetimeField(null=True)
    cohort_id: int
    user_id: int | None

    class Meta:
        table = "incubation_mentors"
        ordering = ["id"]
        unique_together = (("cohort", "email"),)


class Pairing(Model):
    """A mentor paired with a startup. Removing a pair ends it (the row stays, for history)."""

    id = fields.IntField(primary_key=True)
    mentor: fields.ForeignKeyRelation[Mentor] = fields.ForeignKeyField(
        "civic.Mentor", related_name="pairings", on_delete=fields.RESTRICT
    )
    place: fields.ForeignKeyRelation[Place] = fields.ForeignKeyField(
        "civic.Place", related_name="pairings", on_delete=fields.RESTRICT
    )
    created_by_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    ended_at = fields.DatetimeField(null=True)
    ended_by_id = fields.IntField(null=True)
    mentor_id: int
    place_id: int

    class Meta:
        table = "incubation_pairings"
        ordering = ["id"]


class Light(StrEnum):
    green = "green"
    amber = "amber"
    red = "red"


class CheckIn(Model):
    """A startup's answer for one step of the cohort's cadence: private to the startup, its
    mentors and the programme's staff."""

    id = fields.IntField(primary_key=True)
    place: fields.ForeignKeyRelation[Place] = fields.ForeignKeyField(
        "civic.Place", related_name="check_ins", on_delete=fields.RESTRICT
    )
    step = fields.IntField()
    due_at = fields.DatetimeField()
    progress = fields.TextField()
    blockers = fields.TextField(default="")
    help_needed = fields.TextField(default="")
    light = fields.CharEnumField(Light, max_length=10)
    submitted_by_id = fields.IntField()
    submitted_at = fields.DatetimeField()
    mentor_note = fields.TextField(default="")
    noted_by_id = fields.IntField(null=True)
    noted_at = fields.DatetimeField(null=True)
    place_id: int

    class Meta:
        table = "incubation_check_ins"
        ordering = ["place_id", "step"]
        unique_together = (("place", "step"),)


class AlertKind(StrEnum):
    reminder = "reminder"
    flag = "flag"


class CheckInAlert(Model):
    """A reminder sent to a late startup, or a flag raised to the staff: each one once per
    step, which makes the cron job harmless when it runs twice."""

    id = fields.IntField(primary_key=True)
    place: fields.ForeignKeyRelation[Place] = fields.ForeignKeyField(
        "civic.Place", related_name="alerts", on_delete=fields.RESTRICT
    )
    step = fields.IntField()
    kind = fields.CharEnumField(AlertKind, max_length=10)
    created_at = fields.DatetimeField(auto_now_add=True)
    place_id: int

    class Meta:
        table = "incubation_check_in_alerts"
        unique_together = (("place", "step", "kind"),)


class ProjectStatus(StrEnum):
    incubating = "incubating"
    pilot_agreed = "pilot_agreed"
    pilot_running = "pilot_running"
    pilot_completed = "pilot_completed"
    contract_awarded = "contract_awarded"
    stopped = "stopped"


P = ProjectStatus
PATH = [P.incubating, P.pilot_agreed, P.pilot_running, P.pilot_completed, P.contract_awarded]
# Each step forward by the city; stopping (with a reason) from any step before the end.
TRANSITIONS = Transitions(
    ProjectStatus,
    {
        P.incubating: {P.pilot_agreed, P.stopped},
        P.pilot_agreed: {P.pilot_running, P.stopped},
        P.pilot_running: {P.pilot_completed, P.stopped},
        P.pilot_completed: {P.contract_awarded, P.stopped},
        P.contract_awarded: (),
        P.stopped: (),
    },
)


def can_move(current: ProjectStatus, target: ProjectStatus) -> bool:
    return TRANSITIONS.allows(current, target)


class Project(Model):
    """An incubated startup's path from prize to pilot (one per admitted place)."""

    id = fields.IntField(primary_key=True)
    place: fields.OneToOneRelation[Place] = fields.OneToOneField(
        "civic.Place", related_name="project", on_delete=fields.RESTRICT
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="incubation_projects", on_delete=fields.RESTRICT
    )
    # The city that runs the programme: its managers move the pilot along.
    city: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="hosted_projects", on_delete=fields.RESTRICT
    )
    award: fields.ForeignKeyNullableRelation[Award] = fields.ForeignKeyField(
        "civic.Award", related_name="incubation_projects", on_delete=fields.RESTRICT, null=True
    )
    challenge: fields.ForeignKeyNullableRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge",
        related_name="incubation_projects",
        on_delete=fields.RESTRICT,
        null=True,
    )
    title = fields.CharField(max_length=200)
    status = fields.CharEnumField(ProjectStatus, max_length=20, default=P.incubating)
    stop_reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    place_id: int
    organization_id: int
    city_id: int
    award_id: int | None
    challenge_id: int | None

    class Meta:
        table = "incubation_projects"
        ordering = ["id"]


class ProjectStep(Model):
    """A step of a project's path: when it was reached, and who recorded it."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "civic.Project", related_name="steps", on_delete=fields.RESTRICT
    )
    from_status = fields.CharField(max_length=20)
    to_status = fields.CharField(max_length=20)
    # The date the step happened (may be earlier than when it was recorded).
    on = fields.DateField()
    reason = fields.TextField(default="")
    actor_id = fields.IntField(null=True)
    recorded_at = fields.DatetimeField(auto_now_add=True)
    project_id: int

    class Meta:
        table = "incubation_project_steps"
        ordering = ["id"]
        unique_together = (("project", "to_status"),)


class Contract(Model):
    """The contract the city awarded after the pilot."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "civic.Project", related_name="contract", on_delete=fields.RESTRICT
    )
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    supplier = fields.CharField(max_length=200)
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    recorded_by_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    project_id: int

    class Meta:
        table = "incubation_contracts"
