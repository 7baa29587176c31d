"""Incubation in the area's own words: programmes and cohorts, places offered to winners or
asked for by startups, mentors and their pairings, check-ins with their reminders and flags,
and each project's path from prize to pilot and contract.

Functions run inside the caller's transaction (`service.db.transaction`); rows that several
people may change at once (a cohort's capacity, a project's status) are locked first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.expressions import Subquery

from service.accounts.models import Membership, Organization, OrganizationKind, Role, User
from service.accounts.service import normalize_email
from service.applications.models import Award
from service.audit import service as audit
from service.challenges.models import Challenge
from service.core import i18n
from service.core.context import Context
from service.core.errors import Conflict, PermissionDenied, ValidationFailed
from service.core.i18n import N_
from service.core.vocab import Area
from service.incubation.models import (
    PATH,
    AlertKind,
    Cadence,
    CheckIn,
    CheckInAlert,
    Cohort,
    Contract,
    Light,
    Mentor,
    MentorStatus,
    Pairing,
    Place,
    PlaceStatus,
    Programme,
    Project,
    ProjectStatus,
    ProjectStep,
    can_move,
    current_step,
    step_start,
)
from service.notifications import service as notifications

_ = i18n.gettext
PS = PlaceStatus
P = ProjectStatus


class CohortFull(Conflict):
    default_detail = N_("The cohort is full.")


class AlreadyAnswered(Conflict):
    default_detail = N_("This was already answered.")


class StepNotAllowed(Conflict):
    default_detail = N_("The project cannot take this step from where it is.")


async def _members(organization_id: int) -> list[User]:
    return [
        m.user
        for m in await Membership.filter(organization_id=organization_id)
        .select_related("user")
        .order_by("id")
    ]


async def _staff_users(programme: Programme) -> list[User]:
    found = await Membership.filter(
        organization_id=programme.organization_id, role__in=[Role.owner, Role.manager, Role.editor]
    ).select_related("user")
    users = [m.user for m in found]
    if programme.partner_id is not None:
        users += await _members(programme.partner_id)
    seen: set[int] = set()
    return [u for u in users if not (u.id in seen or seen.add(u.id))]  # type: ignore[func-returns-value]


def _user(ctx: Context) -> User:
    user = ctx.actor.user
    assert user is not None
    return user


def _sectors(values: Iterable[str]) -> list[str]:
    return sorted({Area(v).value for v in values})


# --- programmes and cohorts ----------------------------------------------------------------


async def create_programme(
    ctx: Context,
    organization: Organization,
    *,
    name: str,
    description: str = "",
    partner_id: int | None = None,
) -> Programme:
    if organization.kind is not OrganizationKind.government:
        raise ValidationFailed(
            fields={"organization_id": _("Only a city or government runs a programme.")}
        )
    if partner_id is not None:
        partner = await Organization.get_or_none(id=partner_id)
        if partner is None or partner.kind is OrganizationKind.government:
            raise ValidationFailed(
                fields={"partner_organization_id": _("Name a university or an incubator.")}
            )
    programme = await Programme.create(
        organization=organization,
        partner_id=partner_id,
        name=name,
        description=description,
        created_by_id=_user(ctx).id,
    )
    await audit.record(
        ctx,
        "incubation.programme.create",
        object_type="programme",
        object_id=programme.id,
        organization_id=organization.id,
    )
    return programme


async def create_cohort(
    ctx: Context,
    programme: Programme,
    *,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    cadence: Cadence,
    space_name: str = "",
    space_address: str = "",
    remote: bool = False,
) -> Cohort:
    if ends_at <= starts_at:
        raise ValidationFailed(fields={"ends_at": _("The end must come after the start.")})
    if not remote and not space_name.strip():
        raise ValidationFailed(
            fields={"space_name": _("Name the space where the cohort meets, or choose remote.")}
        )
    cohort = await Cohort.create(
        programme=programme,
        name=name,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        cadence=cadence,
        space_name=space_name.strip(),
        space_address=space_address.strip(),
        remote=remote,
    )
    await audit.record(
        ctx,
        "incubation.cohort.create",
        object_type="cohort",
        object_id=cohort.id,
        organization_id=programme.organization_id,
        capacity=capacity,
    )
    return cohort


def cohort_state(cohort: Cohort, now: datetime) -> str:
    if now < cohort.starts_at:
        return "upcoming"
    if now > cohort.ends_at:
        return "ended"
    return "running"


async def admitted_count(cohort_id: int) -> int:
    return await Place.filter(cohort_id=cohort_id, status=PS.admitted).count()


# --- places: offers to winners, applications, admission ------------------------------------


async def offer_place(ctx: Context, award: Award, *, now: datetime) -> Place | None:
    """Offer the award's winner a place in the city's next cohort with room, once."""
    if await Place.filter(award_id=award.id).exists():
        return None
    challenge = await Challenge.get(id=award.challenge_id)
    application = await award.application
    taken = Subquery(Place.filter(organization_id=application.organization_id).values("cohort_id"))
    cohorts = await Cohort.filter(
        programme__organization_id=challenge.organization_id,
        ends_at__gt=now,
    ).exclude(id__in=taken)
    for cohort in cohorts:
        if await admitted_count(cohort.id) >= cohort.capacity:
            continue
        place = await Place.create(
            cohort=cohort,
            organization_id=application.organization_id,
            award=award,
            challenge=challenge,
            status=PS.offered,
            pitch=application.summary,
            sectors=[challenge.area.value],
        )
        await audit.record(
            ctx,
            "incubation.place.offer",
            object_type="place",
            object_id=place.id,
            organization_id=application.organization_id,
            award=award.id,
            cohort=cohort.id,
        )
        for user in await _members(application.organization_id):
            await notifications.notify(
                user, "place_offered", link="/incubation", challenge=challenge, cohort=cohort.name
            )
        return place
    return None


async def offer_places_for_new_awards(ctx: Context, *, now: datetime) -> int:
    """Every award whose winner has not been offered a place yet, and whose city has a cohort
    with room: an offer each. Awards without such a cohort are tried again on the next run."""
    offered = Subquery(Place.filter(award_id__isnull=False).values("award_id"))
    cities = Subquery(Programme.all().values("organization_id"))
    # A winner of long ago is not offered a cohort that opens years later.
    awards = (
        await Award.filter(
            challenge__organization_id__in=cities, created_at__gte=now - timedelta(days=365)
        )
        .exclude(id__in=offered)
        .order_by("id")
        .limit(500)
    )
    count = 0
    for award in awards:
        if await offer_place(ctx, award, now=now) is not None:
            count += 1
    return count


async def apply(
    ctx: Context, cohort: Cohort, organization: Organization, *, pitch: str, sectors: list[str]
) -> Place:
    if ctx.actor.role_in(organization.id) is None:
        raise PermissionDenied(_("Apply for an organization you belong to."))
    if organization.kind in (OrganizationKind.government, OrganizationKind.investor):
        raise ValidationFailed(
            fields={"organization_id": _("Startups, universities and research centres apply.")}
        )
    if cohort.ends_at <= datetime.now(UTC):
        raise Conflict(_("This cohort has ended."))
    if await Place.filter(cohort_id=cohort.id, organization_id=organization.id).exists():
        raise ValidationFailed(
            fields={
                "organization_id": _("This organization already has a place or an application.")
            }
        )
    place = await Place.create(
        cohort=cohort,
        organization=organization,
        status=PS.applied,
        pitch=pitch,
        sectors=_sectors(sectors),
        created_by_id=_user(ctx).id,
    )
    await audit.record(
        ctx,
        "incubation.place.apply",
        object_type="place",
        object_id=place.id,
        organization_id=organization.id,
        cohort=cohort.id,
    )
    for user in await _staff_users(cohort.programme):
        await notifications.notify(
            user,
            "place_applied",
            link=f"/cohorts/{cohort.id}/board",
            name=organization.name,
            cohort=cohort.name,
        )
    return place


async def _admit(ctx: Context, place: Place) -> Place:
    # The cohort row is the lock: two admissions at once cannot both take the last seat.
    cohort = await Cohort.select_for_update().get(id=place.cohort_id)
    if await admitted_count(cohort.id) >= cohort.capacity:
        raise CohortFull()
    programme = await Programme.get(id=cohort.programme_id)
    place.status = PS.admitted
    place.decided_by_id = _user(ctx).id
    place.decided_at = datetime.now(UTC)
    await place.save(update_fields=["status", "decided_by_id", "decided_at"])
    org = await Organization.get(id=place.organization_id)
    challenge = await Challenge.get_or_none(id=place.challenge_id) if place.challenge_id else None
    title = challenge.title if challenge else (place.pitch[:200] or org.name)
    project = await Project.create(
        place=place,
        organization_id=place.organization_id,
        city_id=programme.organization_id,
        award_id=place.award_id,
        challenge_id=place.challenge_id,
        title=title[:200],
    )
    await ProjectStep.create(
        project=project,
        from_status="",
        to_status=P.incubating.value,
        on=date.today(),
        actor_id=_user(ctx).id,
    )
    return place


async def _locked(place: Place) -> Place:
    locked = await Place.select_for_update().get(id=place.id)
    return locked


async def accept_offer(ctx: Context, place: Place) -> Place:
    locked = await _locked(place)
    if locked.status is not PS.offered:
        raise AlreadyAnswered()
    await _admit(ctx, locked)
    await audit.record(
        ctx,
        "incubation.place.accept",
        object_type="place",
        object_id=locked.id,
        organization_id=locked.organization_id,
    )
    return locked


async def refuse_offer(ctx: Context, place: Place, *, reason: str) -> Place:
    locked = await _locked(place)
    if locked.status is not PS.offered:
        raise AlreadyAnswered()
    locked.status = PS.refused
    locked.reason = reason
    locked.decided_by_id = _user(ctx).id
    locked.decided_at = datetime.now(UTC)
    await locked.save(update_fields=["status", "reason", "decided_by_id", "decided_at"])
    await audit.record(
        ctx,
        "incubation.place.refuse",
        object_type="place",
        object_id=locked.id,
        organization_id=locked.organization_id,
    )
    return locked


async def _cohort_name(place: Place) -> str:
    return (await Cohort.get(id=place.cohort_id)).name


async def admit(ctx: Context, place: Place) -> Place:
    locked = await _locked(place)
    if locked.status is not PS.applied:
        raise AlreadyAnswered()
    await _admit(ctx, locked)
    await audit.record(
        ctx,
        "incubation.place.admit",
        object_type="place",
        object_id=locked.id,
        organization_id=locked.organization_id,
    )
    for user in await _members(locked.organization_id):
        await notifications.notify(
            user, "place_admitted", link=f"/places/{locked.id}", cohort=await _cohort_name(locked)
        )
    return locked


async def decline(ctx: Context, place: Place, *, reason: str) -> Place:
    locked = await _locked(place)
    if locked.status is not PS.applied:
        raise AlreadyAnswered()
    locked.status = PS.declined
    locked.reason = reason
    locked.decided_by_id = _user(ctx).id
    locked.decided_at = datetime.now(UTC)
    await locked.save(update_fields=["status", "reason", "decided_by_id", "decided_at"])
    await audit.record(
        ctx,
        "incubation.place.decline",
        object_type="place",
        object_id=locked.id,
        organization_id=locked.organization_id,
        reason=reason,
    )
    for user in await _members(locked.organization_id):
        await notifications.notify(
            user, "place_declined", cohort=await _cohort_name(locked), reason=reason
        )
    return locked


# --- mentors and pairings ------------------------------------------------------------------


async def invite_mentor(
    ctx: Context,
    cohort: Cohort,
    *,
    email: str,
    name: str = "",
    expertise: list[str],
    capacity: int,
) -> Mentor:
    email = normalize_email(email)
    await Cohort.select_for_update().get(id=cohort.id)
    if await Mentor.filter(cohort_id=cohort.id, email=email).exists():
        raise ValidationFailed(fields={"email": _("This address is already a mentor here.")})
    inviter = _user(ctx)
    mentor = await Mentor.create(
        cohort=cohort,
        email=email,
        name=name,
        expertise=_sectors(expertise),
        capacity=capacity,
        invited_by_id=inviter.id,
    )
    await audit.record(
        ctx,
        "incubation.mentor.invite",
        object_type="mentor",
        object_id=mentor.id,
        organization_id=cohort.programme.organization_id,
        email=email,
    )
    base = ctx.settings.base_url
    await notifications.send_email(
        email,
        "mentor_invitation",
        language=ctx.language,
        inviter=inviter.name,
        cohort=cohort,
        link=f"{base}/incubation",
        register_link=f"{base}/register",
    )
    user = await User.get_or_none(email=email)
    if user is not None:
        await notifications.notify(user, "mentor_invited", link="/incubation", cohort=cohort.name)
    return mentor


async def answer_mentor(ctx: Context, mentor: Mentor, *, accept: bool) -> Mentor:
    locked = await Mentor.select_for_update().get(id=mentor.id)
    if locked.status is not MentorStatus.invited:
        raise AlreadyAnswered()
    user = _user(ctx)
    locked.status = MentorStatus.active if accept else MentorStatus.declined
    locked.user_id = user.id
    locked.name = locked.name or user.name
    locked.answered_at = datetime.now(UTC)
    await locked.save(update_fields=["status", "user_id", "name", "answered_at"])
    cohort = await Cohort.get(id=locked.cohort_id).select_related("programme")
    await audit.record(
        ctx,
        "incubation.mentor.accept" if accept else "incubation.mentor.decline",
        object_type="mentor",
        object_id=locked.id,
        organization_id=cohort.programme.organization_id,
    )
    return locked


@dataclass(frozen=True)
class Suggestion:
    mentor_id: int
    place_id: int
    shared: tuple[str, ...]


def suggest_pairings(
    mentors: list[tuple[int, list[str], int]],
    places: list[tuple[int, list[str]]],
    paired: set[tuple[int, int]],
) -> list[Suggestion]:
    """For each startup without a mentor, the mentor sharing most sectors with it who still
    has room (fewest current pairings first on ties, then the lower id). Pure: tested alone.

    mentors: (id, expertise, capacity); places: (id, sectors); paired: (mentor, place)."""
    load = {m: 0 for m, _e, _c in mentors}
    for m, _p in paired:
        if m in load:
            load[m] += 1
    with_mentor = {p for _m, p in paired}
    out: list[Suggestion] = []
    for place_id, sectors in places:
        if place_id in with_mentor:
            continue
        best: tuple[int, int, int, tuple[str, ...]] | None = None
        for mentor_id, expertise, capacity in mentors:
            if load[mentor_id] >= capacity:
                continue
            shared = tuple(sorted(set(expertise) & set(sectors)))
            if not shared:
                continue
            key = (-len(shared), load[mentor_id], mentor_id, shared)
            if best is None or key < best:
                best = key
        if best is not None:
            load[best[2]] += 1
            out.append(Suggestion(mentor_id=best[2], place_id=place_id, shared=best[3]))
    return out


async def suggestions_for(cohort: Cohort) -> list[Suggestion]:
    mentors = await Mentor.filter(cohort_id=cohort.id, status=MentorStatus.active).order_by("id")
    places = await Place.filter(cohort_id=cohort.id, status=PS.admitted).order_by("id")
    pairs = await Pairing.filter(place__cohort_id=cohort.id, ended_at__isnull=True).values_list(
        "mentor_id", "place_id"
    )
    return suggest_pairings(
        [(m.id, list(m.expertise), m.capacity) for m in mentors],
        [(p.id, list(p.sectors)) for p in places],
        {(int(m), int(p)) for m, p in pairs},
    )


async def pair(ctx: Context, cohort: Cohort, *, mentor_id: int, place_id: int) -> Pairing:
    await Cohort.select_for_update().get(id=cohort.id)
    mentor = await Mentor.get_or_none(id=mentor_id, cohort_id=cohort.id)
    if mentor is None or mentor.status is not MentorStatus.active:
        raise ValidationFailed(fields={"mentor_id": _("Choose a mentor who accepted.")})
    place = await Place.get_or_none(id=place_id, cohort_id=cohort.id)
    if place is None or place.status is not PS.admitted:
        raise ValidationFailed(fields={"place_id": _("Choose an admitted startup.")})
    active = Pairing.filter(mentor_id=mentor.id, ended_at__isnull=True)
    if await active.filter(place_id=place.id).exists():
        raise ValidationFailed(fields={"place_id": _("They are already paired.")})
    if await active.count() >= mentor.capacity:
        raise ValidationFailed(fields={"mentor_id": _("This mentor has no room left.")})
    pairing = await Pairing.create(mentor=mentor, place=place, created_by_id=_user(ctx).id)
    await audit.record(
        ctx,
        "incubation.pair",
        object_type="pairing",
        object_id=pairing.id,
        organization_id=cohort.programme.organization_id,
        mentor=mentor.id,
        place=place.id,
    )
    if mentor.user_id is not None:
        user = await User.get(id=mentor.user_id)
        await notifications.notify(
            user,
            "mentor_paired",
            link=f"/places/{place.id}",
            organization=(await Organization.get(id=place.organization_id)).name,
        )
    return pairing


class PairingEnded(Conflict):
    default_detail = N_("This pair was already removed.")


async def unpair(ctx: Context, pairing: Pairing) -> None:
    locked = await Pairing.select_for_update().get(id=pairing.id)
    if locked.ended_at is not None:
        raise PairingEnded()
    locked.ended_at = datetime.now(UTC)
    locked.ended_by_id = _user(ctx).id
    await locked.save(update_fields=["ended_at", "ended_by_id"])
    cohort = await Cohort.get(id=pairing.mentor.cohort_id).select_related("programme")
    await audit.record(
        ctx,
        "incubation.unpair",
        object_type="pairing",
        object_id=pairing.id,
        organization_id=cohort.programme.organization_id,
        mentor=pairing.mentor_id,
        place=pairing.place_id,
    )


async def mentors_of(place: Place) -> list[Mentor]:
    """The mentors paired with the startup now."""
    return await Mentor.filter(
        pairings__place_id=place.id, pairings__ended_at__isnull=True
    ).order_by("id")


# --- check-ins -----------------------------------------------------------------------------


def step_due(cohort: Cohort, step: int) -> datetime:
    return step_start(cohort.starts_at, cohort.cadence, step + 1)


def open_step(cohort: Cohort, filed: set[int], now: datetime) -> int | None:
    """The step a check-in filed now answers: the one just missed if it is still missing
    (filed late), else the current one; None before the start, after the end, or when done."""
    current = current_step(cohort.starts_at, cohort.cadence, now)
    if current < 0 or step_start(cohort.starts_at, cohort.cadence, current) > cohort.ends_at:
        return None
    for step in (current - 1, current):
        if step >= 0 and step not in filed:
            return step
    return None


async def file_check_in(
    ctx: Context,
    place: Place,
    *,
    progress: str,
    blockers: str,
    help_needed: str,
    light: Light,
    now: datetime,
) -> CheckIn:
    locked = await _locked(place)
    if locked.status is not PS.admitted:
        raise Conflict(_("Check-ins start once the startup is admitted."))
    cohort = await Cohort.get(id=locked.cohort_id)
    filed = {c.step for c in await CheckIn.filter(place_id=locked.id)}
    step = open_step(cohort, filed, now)
    if step is None:
        raise Conflict(_("There is no check-in to file now: the next one opens later."))
    check_in = await CheckIn.create(
        place=locked,
        step=step,
        due_at=step_due(cohort, step),
        progress=progress,
        blockers=blockers,
        help_needed=help_needed,
        light=light,
        submitted_by_id=_user(ctx).id,
        submitted_at=now,
    )
    await audit.record(
        ctx,
        "incubation.check_in",
        object_type="check_in",
        object_id=check_in.id,
        organization_id=locked.organization_id,
        step=step,
        light=light.value,
    )
    for mentor in await Mentor.filter(
        pairings__place_id=locked.id, pairings__ended_at__isnull=True, user_id__isnull=False
    ):
        user = await User.get(id=mentor.user_id)
        await notifications.notify(
            user,
            "check_in_filed",
            link=f"/places/{locked.id}",
            organization=(await Organization.get(id=locked.organization_id)).name,
        )
    return check_in


async def add_note(ctx: Context, check_in: CheckIn, *, note: str) -> CheckIn:
    locked = await CheckIn.select_for_update().get(id=check_in.id)
    locked.mentor_note = note
    locked.noted_by_id = _user(ctx).id
    locked.noted_at = datetime.now(UTC)
    await locked.save(update_fields=["mentor_note", "noted_by_id", "noted_at"])
    place = await Place.get(id=locked.place_id)
    await audit.record(
        ctx,
        "incubation.check_in.note",
        object_type="check_in",
        object_id=locked.id,
        organization_id=place.organization_id,
    )
    return locked


def is_bad(check_in: CheckIn | None, due_at: datetime, now: datetime) -> bool | None:
    """Whether a step went badly (red, or late): None while it cannot be told yet."""
    if check_in is not None:
        return check_in.light is Light.red or check_in.submitted_at > due_at
    return True if now > due_at else None


@dataclass(frozen=True)
class StepState:
    step: int
    due_at: datetime
    check_in: CheckIn | None
    bad: bool | None

    @property
    def late(self) -> bool:
        if self.check_in is None:
            return self.bad is True
        return self.check_in.submitted_at > self.due_at


def recent_steps(cohort: Cohort, check_ins: dict[int, CheckIn], now: datetime) -> list[StepState]:
    """The cohort's steps so far (newest last), each with its check-in and whether it was bad."""
    current = current_step(cohort.starts_at, cohort.cadence, min(now, cohort.ends_at))
    states = []
    for step in range(0, current + 1):
        due = step_due(cohort, step)
        found = check_ins.get(step)
        states.append(StepState(step, due, found, is_bad(found, due, now)))
    return states


async def check_in_alerts(ctx: Context, *, now: datetime) -> tuple[int, int]:
    """Remind the startups late with a check-in, and flag to the staff those red or late two
    steps in a row. Each alert is stored once per place and step (a unique row), so a second
    run at the same time sends nothing more. Returns (reminders, flags)."""
    reminders = flags = 0
    # Cohorts that ended long ago have nothing late left to tell.
    cohorts = await Cohort.filter(
        starts_at__lte=now, ends_at__gte=now - timedelta(days=62)
    ).select_related("programme")
    for cohort in cohorts:
        places = await Place.filter(cohort_id=cohort.id, status=PS.admitted).select_related(
            "organization"
        )
        if not places:
            continue
        check_ins: dict[int, dict[int, CheckIn]] = {p.id: {} for p in places}
        for c in await CheckIn.filter(place_id__in=[p.id for p in places]):
            check_ins[c.place_id][c.step] = c
        alerts = {
            (a.place_id, a.step, a.kind)
            for a in await CheckInAlert.filter(place_id__in=[p.id for p in places])
        }
        staff: list[User] | None = None
        for place in places:
            states = [
                s for s in recent_steps(cohort, check_ins[place.id], now) if s.bad is not None
            ]
            if not states:
                continue
            last = states[-1]
            if (
                last.check_in is None
                and (place.id, last.step, AlertKind.reminder) not in alerts
                and await _claim(place, last.step, AlertKind.reminder)
            ):
                reminders += 1
                for user in await _members(place.organization_id):
                    await notifications.notify(
                        user, "check_in_late", link=f"/places/{place.id}", cohort=cohort.name
                    )
                    await notifications.send_email(
                        user.email,
                        "check_in_late",
                        language=user.language,
                        organization=place.organization.name,
                        step=last.step + 1,
                        cohort=cohort.name,
                        due=last.due_at.strftime("%Y-%m-%d %H:%M UTC"),
                        link=f"{ctx.settings.base_url}/places/{place.id}",
                    )
            if (
                len(states) >= 2
                and states[-2].step == last.step - 1
                and last.bad
                and states[-2].bad
                and (place.id, last.step, AlertKind.flag) not in alerts
                and await _claim(place, last.step, AlertKind.flag)
            ):
                flags += 1
                if staff is None:
                    staff = await _staff_users(cohort.programme)
                for user in staff:
                    await notifications.notify(
                        user,
                        "check_in_flagged",
                        link=f"/cohorts/{cohort.id}/board",
                        name=place.organization.name,
                        cohort=cohort.name,
                    )
                    await notifications.send_email(
                        user.email,
                        "check_in_flag",
                        language=user.language,
                        organization=place.organization.name,
                        cohort=cohort.name,
                        link=f"{ctx.settings.base_url}/cohorts/{cohort.id}/board",
                    )
    return reminders, flags


async def _claim(place: Place, step: int, kind: AlertKind) -> bool:
    """Insert the alert's row once; False when another run already did."""
    _alert, created = await CheckInAlert.get_or_create(place_id=place.id, step=step, kind=kind)
    return bool(created)


# --- the cohort board ----------------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    place: Place
    latest: CheckIn | None
    late: bool
    flagged: bool
    mentors: list[Mentor]


async def board(cohort: Cohort, *, now: datetime) -> list[BoardRow]:
    """Every admitted startup's latest status: four queries whatever the cohort's size."""
    places = (
        await Place.filter(cohort_id=cohort.id, status=PS.admitted)
        .select_related("organization")
        .order_by("id")
    )
    ids = [p.id for p in places]
    check_ins: dict[int, dict[int, CheckIn]] = {i: {} for i in ids}
    for c in await CheckIn.filter(place_id__in=ids):
        check_ins[c.place_id][c.step] = c
    mentors: dict[int, list[Mentor]] = {i: [] for i in ids}
    pairings = Pairing.filter(place_id__in=ids, ended_at__isnull=True)
    for pairing in await pairings.select_related("mentor").order_by("id"):
        mentors[pairing.place_id].append(pairing.mentor)
    flagged = set(
        await CheckInAlert.filter(place_id__in=ids, kind=AlertKind.flag).values_list(
            "place_id", flat=True
        )
    )
    rows = []
    for place in places:
        states = recent_steps(cohort, check_ins[place.id], now)
        filed = [s.check_in for s in states if s.check_in is not None]
        due = [s for s in states if s.bad is not None]
        rows.append(
            BoardRow(
                place=place,
                latest=filed[-1] if filed else None,
                late=bool(due and due[-1].late),
                flagged=place.id in flagged,
                mentors=mentors[place.id],
            )
        )
    return rows


# --- the pilot path ------------------------------------------------------------------------

# Who may take each step: the city's managers move the pilot along; stopping is also open to
# the startup's own people (a startup may drop out), always with a reason.
CITY_STEPS = frozenset({P.pilot_agreed, P.pilot_running, P.pilot_completed, P.stopped})
STARTUP_STEPS = frozenset({P.stopped})


def may_take(actor: Any, project: Project, target: ProjectStatus) -> bool:
    if target in CITY_STEPS and actor.has_role(project.city_id, Role.manager):
        return True
    return target in STARTUP_STEPS and actor.role_in(project.organization_id) is not None


async def move_project(
    ctx: Context,
    project: Project,
    target: ProjectStatus,
    *,
    reason: str = "",
    on: date | None = None,
) -> Project:
    if target is P.contract_awarded:
        raise ValidationFailed(fields={"status": _("Record the contract to take this step.")})
    if not may_take(ctx.actor, project, target):
        raise PermissionDenied(_("Your role does not allow this step."))
    if target is P.stopped and not reason.strip():
        raise ValidationFailed(fields={"reason": _("Say why the project stops.")})
    locked = await Project.select_for_update().get(id=project.id)
    await _step(ctx, locked, target, reason=reason, on=on)
    return locked


async def _step(
    ctx: Context, project: Project, target: ProjectStatus, *, reason: str, on: date | None
) -> None:
    if not can_move(project.status, target):
        raise StepNotAllowed(fields={"status": _(StepNotAllowed.default_detail)})
    when = on or datetime.now(UTC).date()
    if when > datetime.now(UTC).date():
        raise ValidationFailed(fields={"on": _("The date cannot be in the future.")})
    previous = project.status
    project.status = target
    if target is P.stopped:
        project.stop_reason = reason.strip()
    await project.save(update_fields=["status", "stop_reason"])
    await ProjectStep.create(
        project=project,
        from_status=previous.value,
        to_status=target.value,
        on=when,
        reason=reason.strip(),
        actor_id=_user(ctx).id,
    )
    await audit.record(
        ctx,
        "incubation.project.step",
        object_type="project",
        object_id=project.id,
        organization_id=project.city_id,
        from_status=previous.value,
        to_status=target.value,
        on=when.isoformat(),
    )
    for user in await _members(project.organization_id):
        await notifications.notify(
            user, "project_step", link=f"/projects/{project.id}", project=project.title
        )


async def record_contract(
    ctx: Context,
    project: Project,
    *,
    amount_minor: int,
    currency: str,
    supplier: str,
    starts_on: date,
    ends_on: date,
) -> Contract:
    if ends_on < starts_on:
        raise ValidationFailed(fields={"ends_on": _("The end must come after the start.")})
    locked = await Project.select_for_update().get(id=project.id)
    if not can_move(locked.status, P.contract_awarded):
        raise StepNotAllowed(fields={"status": _("A contract follows a completed pilot.")})
    contract = await Contract.create(
        project=locked,
        amount_minor=amount_minor,
        currency=currency,
        supplier=supplier,
        starts_on=starts_on,
        ends_on=ends_on,
        recorded_by_id=_user(ctx).id,
    )
    await _step(ctx, locked, P.contract_awarded, reason="", on=min(starts_on, date.today()))
    await audit.record(
        ctx,
        "incubation.contract.record",
        object_type="contract",
        object_id=contract.id,
        organization_id=locked.city_id,
        amount_minor=amount_minor,
        currency=currency,
    )
    return contract


# --- public progress -----------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    project: Project
    organization_name: str
    steps: list[ProjectStep]
    milestones_paid: int
    milestones_total: int
    paid_minor: int
    currency: str
    contract: Contract | None

    @property
    def reached(self) -> list[str]:
        return [s.to_status for s in self.steps]

    @property
    def path(self) -> list[str]:
        return [s.value for s in PATH]


async def progress_of(projects: list[Project]) -> list[Progress]:
    """Public progress of several projects: steps reached and milestones paid, in a constant
    number of queries."""
    from service.rewards.models import Milestone, MilestoneStatus

    ids = [p.id for p in projects]
    steps: dict[int, list[ProjectStep]] = {i: [] for i in ids}
    for s in await ProjectStep.filter(project_id__in=ids).order_by("id"):
        steps[s.project_id].append(s)
    names = dict(
        await Organization.filter(id__in={p.organization_id for p in projects}).values_list(
            "id", "name"
        )
    )
    awards = [p.award_id for p in projects if p.award_id]
    milestones: dict[int, list[Any]] = {}
    for m in await Milestone.filter(award_id__in=awards):
        milestones.setdefault(m.award_id, []).append(m)
    contracts = {c.project_id: c for c in await Contract.filter(project_id__in=ids)}
    out = []
    for p in projects:
        ms = milestones.get(p.award_id or 0, [])
        paid = [m for m in ms if m.status is MilestoneStatus.paid]
        out.append(
            Progress(
                project=p,
                organization_name=str(names.get(p.organization_id, "")),
                steps=steps[p.id],
                milestones_paid=len(paid),
                milestones_total=len(ms),
                paid_minor=sum(m.amount_minor for m in paid),
                currency=ms[0].currency if ms else "",
                contract=contracts.get(p.id),
            )
        )
    return out
