"""Who may use each route of the incubation area (merged into the matrix), and its objects.

The world adds, to the matrix's city A and startup S (awarded for application X): a programme
of A with a running cohort; S admitted to it from its award, with its project; the matrix's
"judge" as an active mentor of the cohort paired with S; one check-in filed by S; and a
pending invitation to mentor addressed to the "invitee". The programme's staff are A's owner,
managers and editors (finance is not staff). Written from PRODUCT.md and the issue's rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from service import db
from service.incubation.models import (
    Cadence,
    CheckIn,
    Cohort,
    Light,
    Mentor,
    MentorStatus,
    Pairing,
    Place,
    PlaceStatus,
    Programme,
    Project,
    ProjectStep,
)

Who = Callable[[str], bool]

ANYONE: Who = lambda actor: True  # noqa: E731
SIGNED_IN: Who = lambda actor: actor != "anonymous"  # noqa: E731
STAFF: Who = lambda actor: actor in ("owner", "manager", "editor")  # noqa: E731
MANAGERS_OF_A: Who = lambda actor: actor in ("owner", "manager")  # noqa: E731
STARTUP: Who = lambda actor: actor == "applicant"  # noqa: E731
MENTOR: Who = lambda actor: actor == "judge"  # noqa: E731
INVITEE: Who = lambda actor: actor == "invitee"  # noqa: E731
# The startup, its paired mentor and the programme's staff read a place and its check-ins.
SEES_PLACE: Who = lambda actor: STAFF(actor) or actor in ("applicant", "judge")  # noqa: E731
# The project's city (any role) and its startup reach the step form; the step decides the role.
INVOLVED: Who = lambda actor: actor in ("owner", "manager", "editor", "finance", "applicant")  # noqa: E731

V1 = "/api/v1"
COHORT = "/cohorts/{cohort_id:int}"
PLACE = "/places/{place_id:int}"
PROJECT = "/projects/{project_id:int}"
EXPECTED: dict[str, Who] = {
    f"POST {V1}/programmes": MANAGERS_OF_A,
    f"GET {V1}/programmes": ANYONE,
    f"GET {V1}/programmes/{{programme_id:int}}": ANYONE,
    f"POST {V1}/programmes/{{programme_id:int}}/cohorts": STAFF,
    f"GET {V1}{COHORT}": ANYONE,
    f"GET {V1}{COHORT}/board": STAFF,
    f"GET {V1}{COHORT}/places": STAFF,
    f"POST {V1}{COHORT}/applications": STARTUP,
    f"POST {V1}{COHORT}/mentors": STAFF,
    f"GET {V1}{COHORT}/mentors": STAFF,
    f"GET {V1}{COHORT}/pairing-suggestions": STAFF,
    f"POST {V1}{COHORT}/pairings": STAFF,
    f"DELETE {V1}/pairings/{{pairing_id:int}}": STAFF,
    f"GET {V1}{PLACE}": SEES_PLACE,
    f"POST {V1}{PLACE}/accept": STARTUP,
    f"POST {V1}{PLACE}/refuse": STARTUP,
    f"POST {V1}{PLACE}/admit": STAFF,
    f"POST {V1}{PLACE}/decline": STAFF,
    f"POST {V1}{PLACE}/check-ins": STARTUP,
    f"POST {V1}/check-ins/{{check_in_id:int}}/note": MENTOR,
    f"GET {V1}/me/mentor-invitations": SIGNED_IN,
    f"POST {V1}/mentors/{{mentor_id:int}}/accept": INVITEE,
    f"POST {V1}/mentors/{{mentor_id:int}}/decline": INVITEE,
    f"GET {V1}{PROJECT}": ANYONE,
    f"POST {V1}{PROJECT}/steps": INVOLVED,
    f"POST {V1}{PROJECT}/contract": MANAGERS_OF_A,
    # pages
    "GET /incubation": ANYONE,
    "GET /programmes/new": SIGNED_IN,
    "POST /programmes/new": SIGNED_IN,
    "GET /programmes/{programme_id:int}": ANYONE,
    "POST /programmes/{programme_id:int}/cohorts": STAFF,
    f"GET {COHORT}": ANYONE,
    f"GET {COHORT}/apply": SIGNED_IN,
    f"POST {COHORT}/apply": SIGNED_IN,
    f"GET {COHORT}/board": STAFF,
    f"POST {COHORT}/mentors": STAFF,
    f"POST {COHORT}/pairings": STAFF,
    "POST /pairings/{pairing_id:int}/remove": STAFF,
    f"GET {PLACE}": SEES_PLACE,
    f"POST {PLACE}/accept": STARTUP,
    f"POST {PLACE}/refuse": STARTUP,
    f"POST {PLACE}/admit": STAFF,
    f"POST {PLACE}/decline": STAFF,
    f"POST {PLACE}/check-ins": STARTUP,
    "POST /check-ins/{check_in_id:int}/note": MENTOR,
    "POST /mentors/{mentor_id:int}/accept": INVITEE,
    "POST /mentors/{mentor_id:int}/decline": INVITEE,
    f"POST {PROJECT}/steps": INVOLVED,
    f"POST {PROJECT}/contract": MANAGERS_OF_A,
}
# The body names the startup that applies.
BODY_ORG_S = {f"POST {V1}{COHORT}/applications"}


async def path_values(world: Any, settings: Any) -> dict[str, str]:
    now = datetime.now(UTC)
    users = world.users
    award = world.rewards.award
    async with db.transaction(None):
        programme = await Programme.create(
            organization=world.org, name="City A incubator", created_by_id=users["owner"].id
        )
        cohort = await Cohort.create(
            programme=programme,
            name="First cohort",
            starts_at=now - timedelta(days=3),
            ends_at=now + timedelta(days=90),
            capacity=5,
            cadence=Cadence.weekly,
            space_name="Hub",
        )
        place = await Place.create(
            cohort=cohort,
            organization=world.startup,
            award=award,
            challenge=world.challenge,
            status=PlaceStatus.admitted,
            pitch="Plan bus routes around traffic.",
            sectors=["mobility"],
        )
        project = await Project.create(
            place=place,
            organization=world.startup,
            city=world.org,
            award=award,
            challenge=world.challenge,
            title="Route planner",
        )
        await ProjectStep.create(
            project=project, from_status="", to_status="incubating", on=date.today()
        )
        mentor = await Mentor.create(
            cohort=cohort,
            email=users["judge"].email,
            user=users["judge"],
            expertise=["mobility"],
            capacity=3,
            status=MentorStatus.active,
            invited_by_id=users["owner"].id,
        )
        pairing = await Pairing.create(mentor=mentor, place=place, created_by_id=users["owner"].id)
        check_in = await CheckIn.create(
            place=place,
            step=0,
            due_at=now + timedelta(days=4),
            progress="Routes mapped.",
            light=Light.green,
            submitted_by_id=users["applicant"].id,
            submitted_at=now,
        )
        invitation = await Mentor.create(
            cohort=cohort,
            email=users["invitee"].email,
            expertise=["energy"],
            capacity=1,
            invited_by_id=users["owner"].id,
        )
    return {
        "programme_id": str(programme.id),
        "cohort_id": str(cohort.id),
        "place_id": str(place.id),
        "project_id": str(project.id),
        "pairing_id": str(pairing.id),
        "check_in_id": str(check_in.id),
        "mentor_id": str(invitation.id),
    }
