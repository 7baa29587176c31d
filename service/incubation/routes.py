"""API of the incubation area: programmes, cohorts, places, mentors, pairings, check-ins and
the pilot path. Public reads show only what the public may see; check-in answers are read
only by the startup, its paired mentors and the programme's staff."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from spectree import Response as Doc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts.models import Organization
from service.accounts.permissions import guard, loaded
from service.challenges.models import Challenge
from service.core.api import ErrorOut, api, json
from service.core.web import context, transaction
from service.incubation import permissions as perms
from service.incubation import schemas
from service.incubation import service as incubation
from service.incubation.models import (
    Cohort,
    Light,
    Mentor,
    Place,
    PlaceStatus,
    Programme,
    Project,
    ProjectStatus,
)

V1 = "/api/v1"
SECURED: dict[str, list[str]] = {"bearer": []}
TAGS = ["incubation"]


def _doc(ok: int, model: Any, *codes: int) -> Doc:
    extra = {f"HTTP_{c}": ErrorOut for c in codes}
    return Doc(**{f"HTTP_{ok}": model}, **extra)


# --- outputs -------------------------------------------------------------------------------


async def cohort_outs(cohorts: list[Cohort]) -> list[schemas.CohortOut]:
    now = datetime.now(UTC)
    counts: dict[int, int] = {}
    for cohort_id in await Place.filter(
        cohort_id__in=[c.id for c in cohorts], status=PlaceStatus.admitted
    ).values_list("cohort_id", flat=True):
        counts[int(str(cohort_id))] = counts.get(int(str(cohort_id)), 0) + 1
    return [
        schemas.CohortOut(
            id=c.id,
            programme_id=c.programme_id,
            name=c.name,
            starts_at=c.starts_at,
            ends_at=c.ends_at,
            state=incubation.cohort_state(c, now),  # type: ignore[arg-type]
            capacity=c.capacity,
            admitted=counts.get(c.id, 0),
            cadence=c.cadence.value,
            space_name=c.space_name,
            space_address=c.space_address,
            remote=c.remote,
        )
        for c in cohorts
    ]


async def programme_outs(programmes: list[Programme]) -> list[schemas.ProgrammeOut]:
    names = dict(
        await Organization.filter(id__in={p.organization_id for p in programmes}).values_list(
            "id", "name"
        )
    )
    cohorts = await Cohort.filter(programme_id__in=[p.id for p in programmes]).order_by(
        "starts_at", "id"
    )
    outs = await cohort_outs(cohorts)
    by_programme: dict[int, list[schemas.CohortOut]] = {}
    for out in outs:
        by_programme.setdefault(out.programme_id, []).append(out)
    return [
        schemas.ProgrammeOut(
            id=p.id,
            organization_id=p.organization_id,
            organization_name=str(names.get(p.organization_id, "")),
            partner_organization_id=p.partner_id,
            name=p.name,
            description=p.description,
            cohorts=by_programme.get(p.id, []),
        )
        for p in programmes
    ]


async def members_of(cohort: Cohort) -> list[schemas.MemberOut]:
    """The public side of a cohort: its admitted startups, what they work on, and which
    challenge they came from. Three queries whatever the cohort's size."""
    places = (
        await Place.filter(cohort_id=cohort.id, status=PlaceStatus.admitted)
        .select_related("organization")
        .order_by("id")
    )
    titles = dict(
        await Challenge.filter(id__in={p.challenge_id for p in places if p.challenge_id})
        .filter(published_at__isnull=False)
        .values_list("id", "title")
    )
    projects = {p.place_id: p for p in await Project.filter(place_id__in=[p.id for p in places])}
    return [
        schemas.MemberOut(
            place_id=p.id,
            organization_id=p.organization_id,
            organization_name=p.organization.name,
            pitch=p.pitch,
            challenge_id=p.challenge_id if p.challenge_id in titles else None,
            challenge_title=titles.get(p.challenge_id) if p.challenge_id else None,
            project_id=projects[p.id].id if p.id in projects else None,
            project_status=projects[p.id].status.value if p.id in projects else None,
        )
        for p in places
    ]


def place_out(place: Place, name: str, project_id: int | None = None) -> schemas.PlaceOut:
    return schemas.PlaceOut(
        id=place.id,
        cohort_id=place.cohort_id,
        organization_id=place.organization_id,
        organization_name=name,
        status=place.status.value,
        pitch=place.pitch,
        sectors=list(place.sectors),
        award_id=place.award_id,
        challenge_id=place.challenge_id,
        reason=place.reason,
        project_id=project_id,
    )


async def place_detail(place: Place) -> schemas.PlaceDetailOut:
    from service.incubation.models import CheckIn

    org = await Organization.get(id=place.organization_id)
    project = await Project.get_or_none(place_id=place.id)
    check_ins = await CheckIn.filter(place_id=place.id).order_by("step")
    mentors = await Mentor.filter(
        pairings__place_id=place.id, pairings__ended_at__isnull=True
    ).order_by("id")
    base = place_out(place, org.name, project.id if project else None)
    return schemas.PlaceDetailOut(
        **base.model_dump(),
        check_ins=[
            schemas.CheckInOut(
                id=c.id,
                place_id=c.place_id,
                step=c.step,
                due_at=c.due_at,
                submitted_at=c.submitted_at,
                late=c.submitted_at > c.due_at,
                progress=c.progress,
                blockers=c.blockers,
                help_needed=c.help_needed,
                status=c.light.value,
                mentor_note=c.mentor_note,
                noted_at=c.noted_at,
            )
            for c in check_ins
        ],
        mentors=[m.name or m.email for m in mentors],
    )


def mentor_out(m: Mentor) -> schemas.MentorOut:
    return schemas.MentorOut(
        id=m.id,
        cohort_id=m.cohort_id,
        email=m.email,
        name=m.name,
        expertise=list(m.expertise),
        capacity=m.capacity,
        status=m.status.value,
    )


async def project_out(project: Project) -> schemas.ProjectOut:
    (progress,) = await incubation.progress_of([project])
    contract = progress.contract
    return schemas.ProjectOut(
        id=project.id,
        organization_id=project.organization_id,
        organization_name=progress.organization_name,
        challenge_id=project.challenge_id,
        title=project.title,
        status=project.status,
        stop_reason=project.stop_reason,
        steps=[
            schemas.StepOut(status=s.to_status, on=s.on, reason=s.reason) for s in progress.steps
        ],
        milestones_paid=progress.milestones_paid,
        milestones_total=progress.milestones_total,
        paid_minor=progress.paid_minor,
        currency=progress.currency,
        contract=schemas.ContractOut(
            amount_minor=contract.amount_minor,
            currency=contract.currency,
            supplier=contract.supplier,
            starts_on=contract.starts_on,
            ends_on=contract.ends_on,
        )
        if contract
        else None,
    )


# --- programmes and cohorts ----------------------------------------------------------------


@guard("incubation.programme.create", load=perms.load_organization_in_body)
@api.validate(
    json=schemas.ProgrammeIn,
    resp=_doc(201, schemas.ProgrammeOut, 403, 404, 422),
    tags=TAGS,
    security=SECURED,
)
async def create_programme(request: Request, json: schemas.ProgrammeIn) -> Response:
    """A city's manager opens an incubation programme, optionally run with a partner
    university or incubator whose members become its staff."""
    async with transaction(request):
        programme = await incubation.create_programme(
            context(request),
            request.state.obj,
            name=json.name,
            description=json.description,
            partner_id=json.partner_organization_id,
        )
    (out,) = await programme_outs([programme])
    return _json(out, 201)


@guard("incubation.public")
@api.validate(query=schemas.ListQuery, resp=_doc(200, schemas.ProgrammePage), tags=TAGS)
async def list_programmes(request: Request, query: schemas.ListQuery) -> Response:
    """Every incubation programme with its cohorts (public)."""
    rows = Programme.all()
    if query.cursor is not None:
        rows = rows.filter(id__gt=query.cursor)
    found = await rows.order_by("id").limit(query.limit + 1)
    page = found[: query.limit]
    cursor = str(page[-1].id) if len(found) > query.limit else None
    return _json(schemas.ProgrammePage(items=await programme_outs(page), next_cursor=cursor))


@guard("incubation.public", load=perms.load_programme)
@api.validate(resp=_doc(200, schemas.ProgrammeOut, 404), tags=TAGS)
async def get_programme(request: Request) -> Response:
    """A programme with its cohorts (public)."""
    (out,) = await programme_outs([request.state.obj])
    return _json(out)


@guard("incubation.staff", load=perms.load_programme)
@api.validate(
    json=schemas.CohortIn,
    resp=_doc(201, schemas.CohortOut, 404, 422),
    tags=TAGS,
    security=SECURED,
)
async def create_cohort(request: Request, json: schemas.CohortIn) -> Response:
    """The programme's staff open a cohort: dates, capacity, space (or remote), cadence."""
    async with transaction(request):
        cohort = await incubation.create_cohort(
            context(request),
            request.state.obj,
            name=json.name,
            starts_at=json.starts_at,
            ends_at=json.ends_at,
            capacity=json.capacity,
            cadence=json.cadence,
            space_name=json.space_name,
            space_address=json.space_address,
            remote=json.remote,
        )
    (out,) = await cohort_outs([cohort])
    return _json(out, 201)


@guard("incubation.public", load=perms.load_cohort)
@api.validate(resp=_doc(200, schemas.CohortDetailOut, 404), tags=TAGS)
async def get_cohort(request: Request) -> Response:
    """A cohort and its startups, as the public sees them (no check-in answers)."""
    cohort: Cohort = request.state.obj
    (out,) = await cohort_outs([cohort])
    return _json(
        schemas.CohortDetailOut(
            **out.model_dump(),
            programme_name=cohort.programme.name,
            organization_id=cohort.programme.organization_id,
            members=await members_of(cohort),
        )
    )


@guard("incubation.staff", load=perms.load_cohort)
@api.validate(resp=_doc(200, schemas.BoardOut, 404), tags=TAGS, security=SECURED)
async def get_board(request: Request) -> Response:
    """The staff's board: every admitted startup's latest status, late and flagged."""
    rows = await incubation.board(request.state.obj, now=datetime.now(UTC))
    return _json(
        schemas.BoardOut(
            items=[
                schemas.BoardRowOut(
                    place_id=r.place.id,
                    organization_id=r.place.organization_id,
                    organization_name=r.place.organization.name,
                    latest_status=r.latest.light.value if r.latest else None,
                    latest_step=r.latest.step if r.latest else None,
                    latest_at=r.latest.submitted_at if r.latest else None,
                    late=r.late,
                    flagged=r.flagged,
                    mentors=[m.name or m.email for m in r.mentors],
                )
                for r in rows
            ]
        )
    )


@guard("incubation.staff", load=perms.load_cohort)
@api.validate(
    query=schemas.ListQuery, resp=_doc(200, schemas.PlacePage, 404), tags=TAGS, security=SECURED
)
async def list_places(request: Request, query: schemas.ListQuery) -> Response:
    """Every place of the cohort: offered, applied, admitted, declined or refused (staff)."""
    rows = Place.filter(cohort_id=request.state.obj.id)
    if query.cursor is not None:
        rows = rows.filter(id__gt=query.cursor)
    found = await rows.select_related("organization").order_by("id").limit(query.limit + 1)
    page = found[: query.limit]
    projects = dict(
        await Project.filter(place_id__in=[p.id for p in page]).values_list("place_id", "id")
    )
    cursor = str(page[-1].id) if len(found) > query.limit else None
    return _json(
        schemas.PlacePage(
            items=[place_out(p, p.organization.name, projects.get(p.id)) for p in page],
            next_cursor=cursor,
        )
    )


@guard("incubation.cohort.apply", load=perms.load_cohort_and_applicant)
@api.validate(
    json=schemas.ApplyIn,
    resp=_doc(201, schemas.PlaceOut, 403, 404, 409, 422),
    tags=TAGS,
    security=SECURED,
)
async def apply(request: Request, json: schemas.ApplyIn) -> Response:
    """A startup asks for a place with a short form; the staff admit or decline it."""
    view = loaded(request, perms.CohortApplicant)
    org = view.applicant
    async with transaction(request):
        place = await incubation.apply(
            context(request),
            view.cohort,
            org,
            pitch=json.pitch,
            sectors=[s.value for s in json.sectors],
        )
    return _json(place_out(place, org.name), 201)


# --- places --------------------------------------------------------------------------------

_PLACE_DOC = _doc(200, schemas.PlaceOut, 403, 404, 409, 422)


async def _place_response(place_id: int) -> Response:
    place = await Place.get(id=place_id).select_related("organization")
    project = await Project.get_or_none(place_id=place.id)
    return _json(place_out(place, place.organization.name, project.id if project else None))


@guard("incubation.place.view", load=perms.load_place)
@api.validate(resp=_doc(200, schemas.PlaceDetailOut, 404), tags=TAGS, security=SECURED)
async def get_place(request: Request) -> Response:
    """A startup's place with its check-ins (the startup, its paired mentors, the staff)."""
    return _json(await place_detail(loaded(request, perms.PlaceView).place))


@guard("incubation.place.startup", load=perms.load_place)
@api.validate(resp=_PLACE_DOC, tags=TAGS, security=SECURED)
async def accept_place(request: Request) -> Response:
    """The startup accepts the place it was offered (while the cohort has room)."""
    async with transaction(request):
        place = await incubation.accept_offer(
            context(request), loaded(request, perms.PlaceView).place
        )
    return await _place_response(place.id)


@guard("incubation.place.startup", load=perms.load_place)
@api.validate(json=schemas.ReasonIn, resp=_PLACE_DOC, tags=TAGS, security=SECURED)
async def refuse_place(request: Request, json: schemas.ReasonIn) -> Response:
    """The startup turns down the place it was offered."""
    async with transaction(request):
        place = await incubation.refuse_offer(
            context(request), loaded(request, perms.PlaceView).place, reason=json.reason
        )
    return await _place_response(place.id)


@guard("incubation.place.staff", load=perms.load_place)
@api.validate(resp=_PLACE_DOC, tags=TAGS, security=SECURED)
async def admit_place(request: Request) -> Response:
    """The staff admit an application (while the cohort has room)."""
    async with transaction(request):
        place = await incubation.admit(context(request), loaded(request, perms.PlaceView).place)
    return await _place_response(place.id)


@guard("incubation.place.staff", load=perms.load_place)
@api.validate(json=schemas.ReasonIn, resp=_PLACE_DOC, tags=TAGS, security=SECURED)
async def decline_place(request: Request, json: schemas.ReasonIn) -> Response:
    """The staff decline an application, with a reason the startup reads."""
    async with transaction(request):
        place = await incubation.decline(
            context(request), loaded(request, perms.PlaceView).place, reason=json.reason
        )
    return await _place_response(place.id)


@guard("incubation.place.startup", load=perms.load_place)
@api.validate(
    json=schemas.CheckInIn,
    resp=_doc(201, schemas.PlaceDetailOut, 403, 404, 409, 422),
    tags=TAGS,
    security=SECURED,
)
async def file_check_in(request: Request, json: schemas.CheckInIn) -> Response:
    """The startup answers the check-in of the current step of the cadence."""
    filed_for = loaded(request, perms.PlaceView).place
    async with transaction(request):
        await incubation.file_check_in(
            context(request),
            filed_for,
            progress=json.progress,
            blockers=json.blockers,
            help_needed=json.help_needed,
            light=Light(json.status),
            now=datetime.now(UTC),
        )
    place = await Place.get(id=filed_for.id)
    return _json(await place_detail(place), 201)


@guard("incubation.check_in.note", load=perms.load_check_in)
@api.validate(
    json=schemas.NoteIn,
    resp=_doc(200, schemas.PlaceDetailOut, 404, 422),
    tags=TAGS,
    security=SECURED,
)
async def note_check_in(request: Request, json: schemas.NoteIn) -> Response:
    """A paired mentor adds notes to a check-in."""
    async with transaction(request):
        check_in = await incubation.add_note(
            context(request), loaded(request, perms.CheckInView).check_in, note=json.note
        )
    place = await Place.get(id=check_in.place_id)
    return _json(await place_detail(place))


# --- mentors and pairings ------------------------------------------------------------------


@guard("incubation.staff", load=perms.load_cohort)
@api.validate(
    json=schemas.MentorIn,
    resp=_doc(201, schemas.MentorOut, 404, 422),
    tags=TAGS,
    security=SECURED,
)
async def invite_mentor(request: Request, json: schemas.MentorIn) -> Response:
    """Invite a mentor by e-mail, with their expertise (sectors) and capacity."""
    async with transaction(request):
        mentor = await incubation.invite_mentor(
            context(request),
            request.state.obj,
            email=json.email,
            name=json.name,
            expertise=[a.value for a in json.expertise],
            capacity=json.capacity,
        )
    return _json(mentor_out(mentor), 201)


@guard("incubation.staff", load=perms.load_cohort)
@api.validate(
    query=schemas.ListQuery, resp=_doc(200, schemas.MentorPage, 404), tags=TAGS, security=SECURED
)
async def list_mentors(request: Request, query: schemas.ListQuery) -> Response:
    """The cohort's mentors and invitations (staff)."""
    rows = Mentor.filter(cohort_id=request.state.obj.id)
    if query.cursor is not None:
        rows = rows.filter(id__gt=query.cursor)
    found = await rows.order_by("id").limit(query.limit + 1)
    page = found[: query.limit]
    cursor = str(page[-1].id) if len(found) > query.limit else None
    return _json(schemas.MentorPage(items=[mentor_out(m) for m in page], next_cursor=cursor))


@guard("incubation.signed_in")
@api.validate(resp=_doc(200, schemas.MentorPage), tags=TAGS, security=SECURED)
async def my_mentor_invitations(request: Request) -> Response:
    """Invitations to mentor addressed to the signed-in user (once their address is confirmed)."""
    user = context(request).actor.user
    assert user is not None
    found = []
    if user.email_verified_at is not None:
        found = await Mentor.filter(email=user.email).order_by("-id").limit(50)
    return _json(schemas.MentorPage(items=[mentor_out(m) for m in found]))


async def _answer(request: Request, accept: bool) -> Response:
    async with transaction(request):
        mentor = await incubation.answer_mentor(context(request), request.state.obj, accept=accept)
    return _json(mentor_out(mentor))


@guard("incubation.mentor.answer", load=perms.load_mentor)
@api.validate(resp=_doc(200, schemas.MentorOut, 404, 409), tags=TAGS, security=SECURED)
async def accept_mentoring(request: Request) -> Response:
    """The invited person becomes a mentor of the cohort."""
    return await _answer(request, True)


@guard("incubation.mentor.answer", load=perms.load_mentor)
@api.validate(resp=_doc(200, schemas.MentorOut, 404, 409), tags=TAGS, security=SECURED)
async def decline_mentoring(request: Request) -> Response:
    """The invited person declines."""
    return await _answer(request, False)


@guard("incubation.staff", load=perms.load_cohort)
@api.validate(resp=_doc(200, schemas.SuggestionPage, 404), tags=TAGS, security=SECURED)
async def pairing_suggestions(request: Request) -> Response:
    """Suggested pairs: each startup without a mentor, with the mentor sharing most sectors
    who still has room."""
    found = await incubation.suggestions_for(request.state.obj)
    return _json(
        schemas.SuggestionPage(
            items=[
                schemas.SuggestionOut(
                    mentor_id=s.mentor_id, place_id=s.place_id, shared_sectors=list(s.shared)
                )
                for s in found
            ]
        )
    )


@guard("incubation.staff", load=perms.load_cohort)
@api.validate(
    json=schemas.PairingIn,
    resp=_doc(201, schemas.PairingOut, 404, 422),
    tags=TAGS,
    security=SECURED,
)
async def create_pairing(request: Request, json: schemas.PairingIn) -> Response:
    """Pair a mentor with a startup (a suggestion, or any choice by hand)."""
    async with transaction(request):
        pairing = await incubation.pair(
            context(request), request.state.obj, mentor_id=json.mentor_id, place_id=json.place_id
        )
    return _json(
        schemas.PairingOut(id=pairing.id, mentor_id=pairing.mentor_id, place_id=pairing.place_id),
        201,
    )


@guard("incubation.staff", load=perms.load_pairing)
@api.validate(resp=_doc(200, schemas.PairingOut, 404, 409), tags=TAGS, security=SECURED)
async def delete_pairing(request: Request) -> Response:
    """Undo a pairing: the mentor no longer sees the startup."""
    pairing = loaded(request, perms.PairingView).pairing
    async with transaction(request):
        await incubation.unpair(context(request), pairing)
    return _json(
        schemas.PairingOut(id=pairing.id, mentor_id=pairing.mentor_id, place_id=pairing.place_id)
    )


# --- projects ------------------------------------------------------------------------------


@guard("incubation.public", load=perms.load_project)
@api.validate(resp=_doc(200, schemas.ProjectOut, 404), tags=TAGS)
async def get_project(request: Request) -> Response:
    """A project's public progress: the steps reached (dated) and the milestones paid."""
    return _json(await project_out(request.state.obj))


@guard("incubation.project.move", load=perms.load_project)
@api.validate(
    json=schemas.StepIn,
    resp=_doc(200, schemas.ProjectOut, 403, 404, 409, 422),
    tags=TAGS,
    security=SECURED,
)
async def move_project(request: Request, json: schemas.StepIn) -> Response:
    """Take the next step of the pilot path (the city's managers), or stop the project with a
    reason (the city's managers or the startup)."""
    async with transaction(request):
        project = await incubation.move_project(
            context(request),
            request.state.obj,
            ProjectStatus(json.status),
            reason=json.reason,
            on=json.on,
        )
    return _json(await project_out(project))


@guard("incubation.contract.record", load=perms.load_project)
@api.validate(
    json=schemas.ContractIn,
    resp=_doc(201, schemas.ProjectOut, 404, 409, 422),
    tags=TAGS,
    security=SECURED,
)
async def record_contract(request: Request, json: schemas.ContractIn) -> Response:
    """The city records the contract that followed the pilot (value, supplier, dates)."""
    async with transaction(request):
        await incubation.record_contract(
            context(request),
            request.state.obj,
            amount_minor=json.amount_minor,
            currency=json.currency,
            supplier=json.supplier,
            starts_on=json.starts_on,
            ends_on=json.ends_on,
        )
    project = await Project.get(id=request.state.obj.id)
    return _json(await project_out(project), 201)


def _json(model: Any, status: int = 200) -> Response:
    return json(model, status)


routes = [
    Route(f"{V1}/programmes", create_programme, methods=["POST"]),
    Route(f"{V1}/programmes", list_programmes, methods=["GET"]),
    Route(f"{V1}/programmes/{{programme_id:int}}", get_programme, methods=["GET"]),
    Route(f"{V1}/programmes/{{programme_id:int}}/cohorts", create_cohort, methods=["POST"]),
    Route(f"{V1}/cohorts/{{cohort_id:int}}", get_cohort, methods=["GET"]),
    Route(f"{V1}/cohorts/{{cohort_id:int}}/board", get_board, methods=["GET"]),
    Route(f"{V1}/cohorts/{{cohort_id:int}}/places", list_places, methods=["GET"]),
    Route(f"{V1}/cohorts/{{cohort_id:int}}/applications", apply, methods=["POST"]),
    Route(f"{V1}/cohorts/{{cohort_id:int}}/mentors", invite_mentor, methods=["POST"]),
    Route(f"{V1}/cohorts/{{cohort_id:int}}/mentors", list_mentors, methods=["GET"]),
    Route(
        f"{V1}/cohorts/{{cohort_id:int}}/pairing-suggestions", pairing_suggestions, methods=["GET"]
    ),
    Route(f"{V1}/cohorts/{{cohort_id:int}}/pairings", create_pairing, methods=["POST"]),
    Route(f"{V1}/pairings/{{pairing_id:int}}", delete_pairing, methods=["DELETE"]),
    Route(f"{V1}/places/{{place_id:int}}", get_place, methods=["GET"]),
    Route(f"{V1}/places/{{place_id:int}}/accept", accept_place, methods=["POST"]),
    Route(f"{V1}/places/{{place_id:int}}/refuse", refuse_place, methods=["POST"]),
    Route(f"{V1}/places/{{place_id:int}}/admit", admit_place, methods=["POST"]),
    Route(f"{V1}/places/{{place_id:int}}/decline", decline_place, methods=["POST"]),
    Route(f"{V1}/places/{{place_id:int}}/check-ins", file_check_in, methods=["POST"]),
    Route(f"{V1}/check-ins/{{check_in_id:int}}/note", note_check_in, methods=["POST"]),
    Route(f"{V1}/me/mentor-invitations", my_mentor_invitations, methods=["GET"]),
    Route(f"{V1}/mentors/{{mentor_id:int}}/accept", accept_mentoring, methods=["POST"]),
    Route(f"{V1}/mentors/{{mentor_id:int}}/decline", decline_mentoring, methods=["POST"]),
    Route(f"{V1}/projects/{{project_id:int}}", get_project, methods=["GET"]),
    Route(f"{V1}/projects/{{project_id:int}}/steps", move_project, methods=["POST"]),
    Route(f"{V1}/projects/{{project_id:int}}/contract", record_contract, methods=["POST"]),
]
