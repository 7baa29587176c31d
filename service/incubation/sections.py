"""The challenge page's section of this area: the public progress of the projects its winners
carry through incubation (steps reached, milestones paid). Never a check-in answer."""

from __future__ import annotations

from starlette.requests import Request

from service.challenges.models import Challenge
from service.challenges.permissions import is_public
from service.challenges.sections import Section
from service.incubation import service as incubation
from service.incubation.models import Place, PlaceStatus, Project


async def challenge_section(request: Request, challenge: Challenge) -> Section | None:
    if not is_public(challenge):
        return None
    projects = (
        await Project.filter(challenge_id=challenge.id, place__status=PlaceStatus.admitted)
        .order_by("id")
        .limit(20)
    )
    if not projects:
        return None
    cohorts = dict(
        await Place.filter(id__in=[p.place_id for p in projects]).values_list("id", "cohort_id")
    )
    return Section(
        template="incubation/_challenge_section.html",
        slot="bottom",
        values={
            "progress": await incubation.progress_of(projects),
            "cohort_of": {p.id: cohorts.get(p.place_id) for p in projects},
        },
    )
