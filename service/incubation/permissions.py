"""Who may do what in incubation; registered into the one permissions table.

The programme's staff are the city's owner, managers and editors, and every member of the
partner university or incubator it names. A place (a startup in a cohort) is seen by the
startup, the mentors paired with it and the staff; a mentor never sees an unpaired startup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from service.accounts.actor import Actor
from service.accounts.models import Organization, Role
from service.accounts.permissions import Rule, actor_of, path_int, register
from service.core.errors import NotFound
from service.incubation.models import (
    CheckIn,
    Cohort,
    Mentor,
    MentorStatus,
    Pairing,
    Place,
    Programme,
    Project,
)

STAFF_ROLES = (Role.manager, Role.editor)


def is_staff(actor: Actor, programme: Programme) -> bool:
    if actor.has_role(programme.organization_id, *STAFF_ROLES):
        return True
    return programme.partner_id is not None and actor.role_in(programme.partner_id) is not None


@dataclass(frozen=True)
class Access:
    staff: bool = False
    startup: bool = False
    mentor: bool = False

    @property
    def any(self) -> bool:
        return self.staff or self.startup or self.mentor


async def access_to(actor: Actor, place: Place, programme: Programme) -> Access:
    mentor = False
    if actor.user is not None:
        mentor = await Pairing.filter(
            place_id=place.id,
            mentor__user_id=actor.user.id,
            mentor__status=MentorStatus.active,
            ended_at__isnull=True,
        ).exists()
    return Access(
        staff=is_staff(actor, programme),
        startup=actor.role_in(place.organization_id) is not None,
        mentor=mentor,
    )


@dataclass(frozen=True)
class PlaceView:
    """A place with what the acting user is to it, as `load_place` gives it."""

    place: Place
    access: Access


@dataclass(frozen=True)
class CheckInView:
    """A check-in with what the acting user is to its place, as `load_check_in` gives it."""

    check_in: CheckIn
    access: Access

    @property
    def place_view(self) -> PlaceView:
        return PlaceView(self.check_in.place, self.access)


@dataclass(frozen=True)
class CohortApplicant:
    """A cohort with the organization applying to it, as `load_cohort_and_applicant` gives it."""

    cohort: Cohort
    applicant: Organization


@dataclass(frozen=True)
class PairingView:
    """A pairing with the programme its mentor's cohort belongs to, as `load_pairing` gives it."""

    pairing: Pairing
    programme: Programme


def _sees_place(actor: Actor, view: PlaceView) -> bool:
    return view.access.any


def _is_startup(actor: Actor, view: PlaceView) -> bool:
    return view.access.startup


def _is_place_staff(actor: Actor, view: PlaceView) -> bool:
    return view.access.staff


def _mentors_check_in(actor: Actor, view: CheckInView) -> bool:
    return view.access.mentor


def _staff_of(actor: Actor, obj: Any) -> bool:
    if isinstance(obj, Programme):
        return is_staff(actor, obj)
    if isinstance(obj, Mentor):
        return is_staff(actor, obj.cohort.programme)
    if isinstance(obj, PairingView):
        return is_staff(actor, obj.programme)
    return is_staff(actor, obj.programme)


def _is_invitee(actor: Actor, mentor: Mentor) -> bool:
    user = actor.user
    return bool(user and user.email_verified_at is not None and user.email == mentor.email)


def _applies_for_own(actor: Actor, view: CohortApplicant) -> bool:
    return actor.role_in(view.applicant.id) is not None


def _involved_in_project(actor: Actor, project: Project) -> bool:
    return actor.role_in(project.city_id) is not None or (
        actor.role_in(project.organization_id) is not None
    )


def _city_manager(actor: Actor, project: Project) -> bool:
    return actor.has_role(project.city_id, Role.manager)


register("incubation.public", Rule(signed_in=False))
register("incubation.signed_in", Rule())
# A city's managers set up its programmes (the organization named in the body).
register("incubation.programme.create", Rule(roles=frozenset({Role.manager})))
register("incubation.staff", Rule(custom=_staff_of))
register("incubation.place.view", Rule(custom=_sees_place))
register("incubation.place.startup", Rule(custom=_is_startup))
register("incubation.place.staff", Rule(custom=_is_place_staff))
register("incubation.check_in.note", Rule(custom=_mentors_check_in))
# A startup applies for an organization it belongs to (named in the body).
register("incubation.cohort.apply", Rule(custom=_applies_for_own))
register("incubation.mentor.answer", Rule(custom=_is_invitee))
register("incubation.project.move", Rule(custom=_involved_in_project))
register("incubation.contract.record", Rule(custom=_city_manager))


async def load_programme(request: Request) -> Programme:
    programme = await Programme.get_or_none(id=path_int(request, "programme_id"))
    if programme is None:
        raise NotFound("No such programme.")
    return programme


async def load_cohort(request: Request) -> Cohort:
    cohort = await Cohort.get_or_none(id=path_int(request, "cohort_id")).select_related("programme")
    if cohort is None:
        raise NotFound("No such cohort.")
    return cohort


async def load_cohort_and_applicant(request: Request) -> CohortApplicant:
    """The cohort of the path, with the organization that applies (named in the body)."""
    cohort = await load_cohort(request)
    return CohortApplicant(cohort, await load_organization_in_body(request))


async def place_view(actor: Actor, place: Place) -> PlaceView:
    """The place (with its cohort's programme) with what `actor` is to it."""
    return PlaceView(place, await access_to(actor, place, place.cohort.programme))


async def load_place(request: Request) -> PlaceView:
    place = await Place.get_or_none(id=path_int(request, "place_id")).select_related(
        "cohort__programme", "organization"
    )
    if place is None:
        raise NotFound("No such place.")
    return await place_view(actor_of(request), place)


async def load_check_in(request: Request) -> CheckInView:
    check_in = await CheckIn.get_or_none(id=path_int(request, "check_in_id")).select_related(
        "place__cohort__programme", "place__organization"
    )
    if check_in is None:
        raise NotFound("No such check-in.")
    place = check_in.place
    return CheckInView(check_in, await access_to(actor_of(request), place, place.cohort.programme))


async def load_mentor(request: Request) -> Mentor:
    mentor = await Mentor.get_or_none(id=path_int(request, "mentor_id")).select_related(
        "cohort__programme"
    )
    if mentor is None:
        raise NotFound("No such mentor invitation.")
    return mentor


async def load_pairing(request: Request) -> PairingView:
    pairing = await Pairing.get_or_none(id=path_int(request, "pairing_id")).select_related(
        "mentor__cohort__programme", "place"
    )
    if pairing is None:
        raise NotFound("No such pairing.")
    return PairingView(pairing, pairing.mentor.cohort.programme)


async def load_project(request: Request) -> Project:
    project = await Project.get_or_none(id=path_int(request, "project_id"))
    if project is None:
        raise NotFound("No such project.")
    return project


async def load_organization_in_body(request: Request) -> Any:
    from service.challenges.permissions import load_organization_in_body as load

    return await load(request)
