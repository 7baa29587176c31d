"""Demo incubation, after the demo challenges and money: Valparaíso's programme (run with its
university) with a cohort running for six weeks; the winner of its completed challenge offered
a place by the same job as in production, which it accepts; two more startups admitted from
their applications; two mentors paired by shared sectors and a third still invited; check-ins
over the past steps (some late, one startup red twice and flagged); one pilot running.

Everything goes through the incubation service with a `Context`, as the pages would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.accounts.actor import Actor
from service.accounts.demo import DEMO_PASSWORD
from service.accounts.models import Membership, Organization, Role, User
from service.config import Settings
from service.core.context import Context
from service.incubation import service as incubation
from service.incubation.models import Cadence, Light, Place, Project, ProjectStatus

CITY = "City of Valparaíso"
PARTNER = "Universidad Técnica del Pacífico"
# (startup, pitch, sectors, check-ins per step: (light, days late) or None when missed)
Answer = tuple[str, int] | None
APPLICANTS: list[tuple[str, str, list[str], list[Answer]]] = [
    (
        "AguaClara Sensors",
        "Low-cost acoustic sensors that hear leaks in old water pipes before they burst.",
        ["water", "environment"],
        [("green", 0), ("amber", 0), None],
    ),
    (
        "Recicla+ Tech",
        "Smart bins and a points scheme that reward neighbours who sort their waste well.",
        ["waste", "environment"],
        [("amber", 0), ("red", 0), ("red", 0)],
    ),
]
WINNER_CHECK_INS: list[Answer] = [("green", 0), ("green", 0), ("amber", 3)]
MENTORS = [
    ("mentor@demo.civic", "Marco Mentor", ["digital_government", "mobility"], 2),
    ("mentora@demo.civic", "Wanda Water", ["water", "waste", "environment"], 3),
]
PROGRESS = [
    "Interviews with twelve stallholders; the permit steps are mapped.",
    "First version tested in the port market with five stallholders.",
    "Working with the permits office on the data they need.",
]
BLOCKERS = ["", "Waiting for access to the city's permits database.", ""]


def _ctx(settings: Settings, user: User, org: Organization, role: Role) -> Context:
    return Context(actor=Actor(user=user, roles={org.id: role}), settings=settings)


async def _member(org: Organization, role: Role) -> User:
    membership = await Membership.filter(organization=org, role=role).order_by("id").first()
    if membership is None:
        membership = await Membership.get(organization=org, role=Role.owner)
    return await User.get(id=membership.user_id)


async def seed_incubation(settings: Settings) -> None:
    from service.accounts.passwords import hash_password

    now = datetime.now(UTC)
    city = await Organization.get(name=CITY)
    partner = await Organization.get(name=PARTNER)
    manager = _ctx(settings, await _member(city, Role.manager), city, Role.manager)
    programme = await incubation.create_programme(
        manager,
        city,
        name="Valparaíso Urban Lab",
        description="The city's incubator for the winners of its challenges, run with the "
        "Universidad Técnica del Pacífico: six months to turn a prize into a pilot in the city.",
        partner_id=partner.id,
    )
    start = now - timedelta(days=45)
    cohort = await incubation.create_cohort(
        manager,
        programme,
        name="Urban Lab 2026 · first cohort",
        starts_at=start,
        ends_at=start + timedelta(days=180),
        capacity=6,
        cadence=Cadence.fortnightly,
        space_name="Edificio Cousiño",
        space_address="Blanco 1131, Valparaíso",
    )
    # The winner of the city's completed challenge: offered by the production job, accepted.
    await incubation.offer_places_for_new_awards(manager, now=now)
    places: list[tuple[Place, list[Answer]]] = []
    for offered in await Place.filter(cohort_id=cohort.id).order_by("id"):
        org = await Organization.get(id=offered.organization_id)
        owner = _ctx(settings, await _member(org, Role.owner), org, Role.owner)
        places.append((await incubation.accept_offer(owner, offered), list(WINNER_CHECK_INS)))
    for name, pitch, sectors, check_ins in APPLICANTS:
        org = await Organization.get(name=name)
        owner = _ctx(settings, await _member(org, Role.owner), org, Role.owner)
        applied = await incubation.apply(owner, cohort, org, pitch=pitch, sectors=sectors)
        places.append((await incubation.admit(manager, applied), list(check_ins)))
    # Mentors: two accepted and paired by shared sectors, a third still invited.
    for email, name, expertise, capacity in MENTORS:
        user = await User.get_or_none(email=email)
        if user is None:
            user = await User.create(
                email=email,
                name=name,
                password_hash=hash_password(DEMO_PASSWORD),
                email_verified_at=now,
            )
        mentor = await incubation.invite_mentor(
            manager, cohort, email=email, name=name, expertise=expertise, capacity=capacity
        )
        await incubation.answer_mentor(
            Context(actor=Actor(user=user), settings=settings), mentor, accept=True
        )
    await incubation.invite_mentor(
        manager,
        cohort,
        email="energy.expert@example.org",
        name="Elena Energía",
        expertise=["energy"],
        capacity=2,
    )
    for suggestion in await incubation.suggestions_for(cohort):
        await incubation.pair(
            manager, cohort, mentor_id=suggestion.mentor_id, place_id=suggestion.place_id
        )
    # Check-ins of the past steps, each filed when it was (some late, one missed).
    for place, answers in places:
        org = await Organization.get(id=place.organization_id)
        owner = _ctx(settings, await _member(org, Role.owner), org, Role.owner)
        for step, answer in enumerate(answers):
            if answer is None:
                continue
            light, late_days = answer
            when = incubation.step_due(cohort, step) - timedelta(days=2) + timedelta(days=late_days)
            check_in = await incubation.file_check_in(
                owner,
                place,
                progress=PROGRESS[step % len(PROGRESS)],
                blockers=BLOCKERS[step % len(BLOCKERS)] if light != "green" else "",
                help_needed="An introduction to the city's IT team." if light == "red" else "",
                light=Light(light),
                now=when,
            )
            if step == 0:
                for mentor in await incubation.mentors_of(place):
                    if mentor.user_id is None:
                        continue
                    user = await User.get(id=mentor.user_id)
                    await incubation.add_note(
                        Context(actor=Actor(user=user), settings=settings),
                        check_in,
                        note="Good start. Before the next step, agree with the city who owns "
                        "the data you need.",
                    )
    # The late and the red are found by the same job as in production.
    await incubation.check_in_alerts(manager, now=now)
    # One pilot running: the winner's, agreed two weeks ago.
    project = await Project.get(place_id=places[0][0].id) if places else None
    if project is not None:
        await incubation.move_project(
            manager,
            project,
            ProjectStatus.pilot_agreed,
            on=(now - timedelta(days=20)).date(),
        )
        await incubation.move_project(
            manager,
            project,
            ProjectStatus.pilot_running,
            on=(now - timedelta(days=14)).date(),
        )
