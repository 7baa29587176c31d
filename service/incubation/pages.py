"""Web pages of the incubation area: the incubation hub, the public cohort page, the staff's
board, a startup's place (check-ins, mentor notes, pilot path), and their forms.

Handlers have the shape of the API's: parse the form, `async with transaction()`, call the
service, redirect with a notice; on an error the page is shown again with the message next to
the field it belongs to and what was typed kept.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from service.accounts.models import Organization, OrganizationKind, Role
from service.accounts.permissions import PERMISSIONS, actor_of, guard, loaded
from service.challenges.models import Challenge
from service.core.errors import ServiceError
from service.core.forms import form_values, redirect, render, translate_error
from service.core.i18n import gettext
from service.core.vocab import Area, area_label
from service.core.web import context, transaction
from service.incubation import permissions as perms
from service.incubation import routes as api
from service.incubation import service as incubation
from service.incubation.models import (
    PATH,
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
    ProjectStatus,
    ProjectStep,
    can_move,
)
from service.incubation.permissions import is_staff

PS = PlaceStatus


# --- labels --------------------------------------------------------------------------------


def light_label(light: str) -> str:
    labels = {
        "green": gettext("Green: on track"),
        "amber": gettext("Amber: some trouble"),
        "red": gettext("Red: needs help"),
    }
    return labels.get(light, light)


def cadence_label(cadence: str) -> str:
    labels = {
        "weekly": gettext("Every week"),
        "fortnightly": gettext("Every two weeks"),
        "monthly": gettext("Every month"),
    }
    return labels.get(cadence, cadence)


def place_label(status: str) -> str:
    labels = {
        "offered": gettext("Place offered"),
        "applied": gettext("Applied"),
        "admitted": gettext("Admitted"),
        "declined": gettext("Declined"),
        "refused": gettext("Offer refused"),
    }
    return labels.get(status, status)


def project_label(status: str) -> str:
    labels = {
        "incubating": gettext("Incubating"),
        "pilot_agreed": gettext("Pilot agreed"),
        "pilot_running": gettext("Pilot running"),
        "pilot_completed": gettext("Pilot completed"),
        "contract_awarded": gettext("Contract awarded"),
        "stopped": gettext("Stopped"),
    }
    return labels.get(status, status)


def state_label(state: str) -> str:
    labels = {
        "upcoming": gettext("Upcoming"),
        "running": gettext("Running"),
        "ended": gettext("Ended"),
    }
    return labels.get(state, state)


def labels() -> dict[str, Any]:
    return {
        "light_label": light_label,
        "cadence_label": cadence_label,
        "place_label": place_label,
        "project_label": project_label,
        "state_label": state_label,
        "sectors": [(a.value, area_label(a.value)) for a in Area],
        "project_path": [s.value for s in PATH],
    }


def _allowed(request: Request, permission: str, obj: Any) -> bool:
    try:
        PERMISSIONS[permission].enforce(actor_of(request), obj)
    except ServiceError:
        return False
    return True


def _errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        key, message = translate_error(dict(error))
        errors.setdefault(key.split(".")[0], message)
    return errors


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


# --- forms ---------------------------------------------------------------------------------


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class CheckInForm(Form):
    progress: str = Field(min_length=3, max_length=5000)
    blockers: str = Field(default="", max_length=5000)
    help_needed: str = Field(default="", max_length=5000)
    status: Light


class NoteForm(Form):
    note: str = Field(min_length=1, max_length=5000)


class ReasonForm(Form):
    reason: str = Field(min_length=3, max_length=2000)


class MentorForm(Form):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str = Field(default="", max_length=120)
    expertise: list[Area] = Field(min_length=1, max_length=15)
    capacity: int = Field(ge=1, le=50)

    @field_validator("expertise", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> list[str]:
        return _as_list(value)


class PairingForm(Form):
    mentor_id: int = Field(ge=1, le=2**31 - 1)
    place_id: int = Field(ge=1, le=2**31 - 1)


class ApplyForm(Form):
    organization_id: int = Field(ge=1, le=2**31 - 1)
    pitch: str = Field(min_length=20, max_length=2000)
    sectors: list[Area] = Field(min_length=1, max_length=15)

    @field_validator("sectors", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> list[str]:
        return _as_list(value)


class StepForm(Form):
    status: ProjectStatus
    reason: str = Field(default="", max_length=2000)
    on: date | None = None

    @field_validator("on", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return value or None


class ContractForm(Form):
    amount: int = Field(ge=1, le=10**13)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    supplier: str = Field(min_length=2, max_length=200)
    starts_on: date
    ends_on: date


def _parse(model: type[Form], values: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    try:
        return model.model_validate(values), {}
    except ValidationError as exc:
        return None, _errors(exc)


# --- the hub -------------------------------------------------------------------------------


@guard("incubation.public")
async def hub(request: Request) -> Response:
    """Cohorts open to all; for the signed-in: their offers, places, invitations to mentor,
    the startups they mentor and the programmes they run."""
    actor = actor_of(request)
    now = datetime.now(UTC)
    cohorts = (
        await Cohort.filter(ends_at__gt=now)
        .select_related("programme__organization")
        .order_by("starts_at", "id")
        .limit(50)
    )
    mine: list[Place] = []
    invitations: list[Mentor] = []
    mentored: list[Place] = []
    staffed: list[Cohort] = []
    user = actor.user
    if user is not None:
        mine = (
            await Place.filter(organization_id__in=list(actor.roles))
            .select_related("cohort", "organization")
            .order_by("-id")
            .limit(50)
        )
        if user.email_verified_at is not None:
            invitations = (
                await Mentor.filter(email=user.email, status=MentorStatus.invited)
                .select_related("cohort")
                .order_by("-id")
            )
        mentored = (
            await Place.filter(
                pairings__mentor__user_id=user.id,
                pairings__mentor__status=MentorStatus.active,
                pairings__ended_at__isnull=True,
            )
            .select_related("cohort", "organization")
            .order_by("-id")
            .limit(50)
        )
        programmes = await Programme.filter(
            organization_id__in=list(actor.roles)
        ) + await Programme.filter(partner_id__in=list(actor.roles))
        ids = [p.id for p in programmes if is_staff(actor, p)]
        staffed = await Cohort.filter(programme_id__in=ids).order_by("-starts_at").limit(50)
    programmes_all = await Programme.all().select_related("organization").order_by("id").limit(50)
    return render(
        request,
        "incubation/hub.html",
        programmes=programmes_all,
        can_start=bool(user and await _cities_managed(request)),
        cohorts=cohorts,
        states={c.id: incubation.cohort_state(c, now) for c in cohorts},
        mine=mine,
        invitations=invitations,
        mentored=mentored,
        staffed=staffed,
        **labels(),
    )


# --- programmes and cohorts ----------------------------------------------------------------


class ProgrammeForm(Form):
    organization_id: int = Field(ge=1, le=2**31 - 1)
    name: str = Field(min_length=3, max_length=160)
    description: str = Field(default="", max_length=5000)
    partner_organization_id: int | None = Field(default=None, ge=1, le=2**31 - 1)

    @field_validator("partner_organization_id", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return value or None


class CohortForm(Form):
    name: str = Field(min_length=3, max_length=160)
    starts_on: date
    ends_on: date
    capacity: int = Field(ge=1, le=500)
    cadence: Cadence
    space_name: str = Field(default="", max_length=160)
    space_address: str = Field(default="", max_length=300)
    remote: bool = False

    @field_validator("remote", mode="before")
    @classmethod
    def _checkbox(cls, value: Any) -> bool:
        return value in ("on", "true", "1", True)


async def _cities_managed(request: Request) -> list[Organization]:
    actor = actor_of(request)
    ids = [
        org
        for org in actor.organizations_of_kind(OrganizationKind.government)
        if actor.has_role(org, Role.manager)
    ]
    return await Organization.filter(id__in=ids).order_by("name")


async def _render_new_programme(
    request: Request, status: int = 200, values: Any = None, errors: Any = None
) -> Response:
    partners = (
        await Organization.filter(
            kind__in=[OrganizationKind.university, OrganizationKind.research_center],
            verified_at__isnull=False,
        )
        .order_by("name")
        .limit(200)
    )
    return render(
        request,
        "incubation/programme_new.html",
        status_code=status,
        cities=await _cities_managed(request),
        partners=partners,
        values=values or {},
        errors=errors or {},
    )


@guard("incubation.signed_in")
async def new_programme_page(request: Request) -> Response:
    return await _render_new_programme(request)


@guard("incubation.signed_in")
async def new_programme_submit(request: Request) -> Response:
    values = form_values(await request.form())
    form, errors = _parse(ProgrammeForm, values)
    city = None
    if form is not None:
        city = next(
            (c for c in await _cities_managed(request) if c.id == form.organization_id), None
        )
        if city is None:
            errors = {"organization_id": gettext("Choose a city whose programmes you manage.")}
    if form is None or city is None or errors:
        return await _render_new_programme(request, 422, values, errors)
    try:
        async with transaction(request):
            programme = await incubation.create_programme(
                context(request),
                city,
                name=form.name,
                description=form.description,
                partner_id=form.partner_organization_id,
            )
    except ServiceError as exc:
        found = {
            {"partner_organization_id": "partner_organization_id"}.get(k, k): v
            for k, v in exc.fields.items()
        }
        return await _render_new_programme(
            request, exc.status_code, values, found or {"__root__": exc.detail}
        )
    return redirect(
        request,
        f"/programmes/{programme.id}",
        notice=gettext("Programme created: open its first cohort below."),
    )


async def _render_programme(
    request: Request, status: int = 200, values: Any = None, errors: Any = None
) -> Response:
    programme: Programme = request.state.obj
    (out,) = await api.programme_outs([programme])
    partner = (
        await Organization.get_or_none(id=programme.partner_id) if programme.partner_id else None
    )
    return render(
        request,
        "incubation/programme.html",
        status_code=status,
        programme=programme,
        out=out,
        partner=partner,
        staff=is_staff(actor_of(request), programme),
        values=values or {},
        errors=errors or {},
        **labels(),
    )


@guard("incubation.public", load=perms.load_programme)
async def programme_page(request: Request) -> Response:
    return await _render_programme(request)


@guard("incubation.staff", load=perms.load_programme)
async def new_cohort_submit(request: Request) -> Response:
    programme: Programme = request.state.obj
    values = form_values(await request.form())
    form, errors = _parse(CohortForm, values)
    if form is None:
        return await _render_programme(request, 422, values, errors)
    try:
        async with transaction(request):
            cohort = await incubation.create_cohort(
                context(request),
                programme,
                name=form.name,
                starts_at=datetime.combine(form.starts_on, time(9), tzinfo=UTC),
                ends_at=datetime.combine(form.ends_on, time(18), tzinfo=UTC),
                capacity=form.capacity,
                cadence=form.cadence,
                space_name=form.space_name,
                space_address=form.space_address,
                remote=form.remote,
            )
    except ServiceError as exc:
        found = {{"ends_at": "ends_on"}.get(k, k): v for k, v in exc.fields.items()}
        return await _render_programme(
            request, exc.status_code, values, found or {"__root__": exc.detail}
        )
    return redirect(
        request,
        f"/cohorts/{cohort.id}/board",
        notice=gettext("Cohort opened: invite its mentors below."),
    )


# --- the public cohort page ----------------------------------------------------------------


@guard("incubation.public", load=perms.load_cohort)
async def cohort_page(request: Request) -> Response:
    cohort: Cohort = request.state.obj
    (out,) = await api.cohort_outs([cohort])
    organization = await Organization.get(id=cohort.programme.organization_id)
    actor = actor_of(request)
    can_apply = (
        bool(
            actor.organizations_of_kind(
                OrganizationKind.startup,
                OrganizationKind.university,
                OrganizationKind.research_center,
            )
        )
        and out.state != "ended"
    )
    return render(
        request,
        "incubation/cohort.html",
        cohort=cohort,
        out=out,
        organization=organization,
        members=await api.members_of(cohort),
        staff=is_staff(actor, cohort.programme),
        can_apply=can_apply,
        **labels(),
    )


async def _render_apply(
    request: Request, status: int = 200, values: dict[str, Any] | None = None, errors: Any = None
) -> Response:
    cohort: Cohort = request.state.obj
    actor = actor_of(request)
    org_ids = actor.organizations_of_kind(
        OrganizationKind.startup, OrganizationKind.university, OrganizationKind.research_center
    )
    orgs = await Organization.filter(id__in=org_ids).order_by("name")
    return render(
        request,
        "incubation/apply.html",
        status_code=status,
        cohort=cohort,
        orgs=orgs,
        values=values or {},
        errors=errors or {},
        **labels(),
    )


@guard("incubation.signed_in", load=perms.load_cohort)
async def apply_page(request: Request) -> Response:
    return await _render_apply(request)


@guard("incubation.signed_in", load=perms.load_cohort)
async def apply_submit(request: Request) -> Response:
    cohort: Cohort = request.state.obj
    values = form_values(await request.form())
    values["sectors"] = _as_list(values.get("sectors"))
    form, errors = _parse(ApplyForm, values)
    org = None
    if form is not None:
        org = await Organization.get_or_none(id=form.organization_id)
        if org is None or actor_of(request).role_in(org.id) is None:
            errors = {"organization_id": gettext("Choose one of your organizations.")}
    if errors or form is None or org is None:
        return await _render_apply(request, 422, values, errors)
    try:
        async with transaction(request):
            await incubation.apply(
                context(request),
                cohort,
                org,
                pitch=form.pitch,
                sectors=[s.value for s in form.sectors],
            )
    except ServiceError as exc:
        return await _render_apply(
            request, exc.status_code, values, exc.fields or {"__root__": exc.detail}
        )
    return redirect(
        request,
        "/incubation",
        notice=gettext("Application sent: the programme's staff will admit or decline it."),
    )


# --- the staff's board ---------------------------------------------------------------------


async def _render_board(
    request: Request, status: int = 200, values: Any = None, errors: Any = None
) -> Response:
    cohort: Cohort = request.state.obj
    now = datetime.now(UTC)
    rows = await incubation.board(cohort, now=now)
    waiting = (
        await Place.filter(cohort_id=cohort.id, status__in=[PS.applied, PS.offered])
        .select_related("organization")
        .order_by("id")
    )
    mentors = await Mentor.filter(cohort_id=cohort.id).order_by("id")
    pairings = (
        await Pairing.filter(place__cohort_id=cohort.id, ended_at__isnull=True)
        .select_related("mentor", "place__organization")
        .order_by("id")
    )
    suggestions = await incubation.suggestions_for(cohort)
    names = {r.place.id: r.place.organization.name for r in rows}
    mentor_names = {m.id: m.name or m.email for m in mentors}
    (out,) = await api.cohort_outs([cohort])
    return render(
        request,
        "incubation/board.html",
        status_code=status,
        cohort=cohort,
        out=out,
        rows=rows,
        waiting=waiting,
        mentors=mentors,
        pairings=pairings,
        suggestions=suggestions,
        names=names,
        mentor_names=mentor_names,
        values=values or {},
        errors=errors or {},
        **labels(),
    )


@guard("incubation.staff", load=perms.load_cohort)
async def board_page(request: Request) -> Response:
    return await _render_board(request)


@guard("incubation.staff", load=perms.load_cohort)
async def invite_mentor_page(request: Request) -> Response:
    values = form_values(await request.form())
    values["expertise"] = _as_list(values.get("expertise"))
    form, errors = _parse(MentorForm, values)
    if form is None:
        return await _render_board(request, 422, {"mentor": values}, {"mentor": errors})
    try:
        async with transaction(request):
            await incubation.invite_mentor(
                context(request),
                request.state.obj,
                email=form.email,
                name=form.name,
                expertise=[a.value for a in form.expertise],
                capacity=form.capacity,
            )
    except ServiceError as exc:
        return await _render_board(
            request,
            exc.status_code,
            {"mentor": values},
            {"mentor": exc.fields or {"__root__": exc.detail}},
        )
    return redirect(
        request,
        f"/cohorts/{request.state.obj.id}/board#mentors",
        notice=gettext("Invitation sent to %(email)s.") % {"email": form.email},
    )


@guard("incubation.staff", load=perms.load_cohort)
async def pair_page(request: Request) -> Response:
    values = form_values(await request.form())
    form, errors = _parse(PairingForm, values)
    if form is None:
        return await _render_board(request, 422, {"pair": values}, {"pair": errors})
    try:
        async with transaction(request):
            await incubation.pair(
                context(request),
                request.state.obj,
                mentor_id=form.mentor_id,
                place_id=form.place_id,
            )
    except ServiceError as exc:
        return await _render_board(
            request,
            exc.status_code,
            {"pair": values},
            {"pair": exc.fields or {"__root__": exc.detail}},
        )
    return redirect(
        request,
        f"/cohorts/{request.state.obj.id}/board#pairings",
        notice=gettext("Mentor paired."),
    )


@guard("incubation.staff", load=perms.load_pairing)
async def unpair_page(request: Request) -> Response:
    pairing = loaded(request, perms.PairingView).pairing
    try:
        async with transaction(request):
            await incubation.unpair(context(request), pairing)
    except ServiceError as exc:
        request.state.obj = await Cohort.get(id=pairing.mentor.cohort_id).select_related(
            "programme"
        )
        return await _render_board(request, exc.status_code, {}, {"pair": {"__root__": exc.detail}})
    return redirect(
        request,
        f"/cohorts/{pairing.mentor.cohort_id}/board#pairings",
        notice=gettext("Pairing removed."),
    )


# --- places --------------------------------------------------------------------------------


async def _render_place(
    request: Request,
    view: perms.PlaceView,
    status: int = 200,
    values: Any = None,
    errors: Any = None,
) -> Response:
    place, access = view.place, view.access
    check_ins = await CheckIn.filter(place_id=place.id).order_by("-step")
    mentors = await Mentor.filter(
        pairings__place_id=place.id, pairings__ended_at__isnull=True
    ).order_by("id")
    project = await Project.get_or_none(place_id=place.id)
    steps: list[ProjectStep] = []
    progress = None
    if project is not None:
        (progress,) = await incubation.progress_of([project])
        steps = progress.steps
    cohort: Cohort = place.cohort
    now = datetime.now(UTC)
    filed = {c.step for c in check_ins}
    open_step = incubation.open_step(cohort, filed, now) if place.status is PS.admitted else None
    actor = actor_of(request)
    moves: list[str] = []
    if project is not None:
        moves = [
            s.value
            for s in (
                ProjectStatus.pilot_agreed,
                ProjectStatus.pilot_running,
                ProjectStatus.pilot_completed,
                ProjectStatus.stopped,
            )
            if incubation.may_take(actor, project, s) and can_move(project.status, s)
        ]
    can_contract = bool(
        project is not None
        and _allowed(request, "incubation.contract.record", project)
        and project.status is ProjectStatus.pilot_completed
    )
    challenge = await Challenge.get_or_none(id=place.challenge_id) if place.challenge_id else None
    return render(
        request,
        "incubation/place.html",
        status_code=status,
        place=place,
        cohort=cohort,
        access=access,
        check_ins=check_ins,
        mentors=mentors,
        project=project,
        progress=progress,
        steps=steps,
        open_step=open_step,
        open_due=incubation.step_due(cohort, open_step) if open_step is not None else None,
        moves=moves,
        can_contract=can_contract,
        challenge=challenge,
        values=values or {},
        errors=errors or {},
        **labels(),
    )


@guard("incubation.place.view", load=perms.load_place)
async def place_page(request: Request) -> Response:
    return await _render_place(request, loaded(request, perms.PlaceView))


async def _place_action(request: Request, action: str) -> Response:
    view = loaded(request, perms.PlaceView)
    place = view.place
    values = form_values(await request.form())
    ctx = context(request)
    reason_form = None
    if action in ("refuse", "decline"):
        reason_form, errors = _parse(ReasonForm, values)
        if reason_form is None:
            if action == "decline":
                return await _render_board_of(
                    request, place, 422, values, {f"decline-{place.id}": errors["reason"]}
                )
            return await _render_place(
                request, view, 422, {"reason": values.get("reason", "")}, errors
            )
    try:
        async with transaction(request):
            if action == "accept":
                await incubation.accept_offer(ctx, place)
            elif action == "refuse":
                await incubation.refuse_offer(ctx, place, reason=reason_form.reason)  # type: ignore[union-attr]
            elif action == "admit":
                await incubation.admit(ctx, place)
            else:
                await incubation.decline(ctx, place, reason=reason_form.reason)  # type: ignore[union-attr]
    except ServiceError as exc:
        if action in ("admit", "decline"):
            return await _render_board_of(
                request, place, exc.status_code, values, {f"{action}-{place.id}": exc.detail}
            )
        return await _render_place(request, view, exc.status_code, values, {"__root__": exc.detail})
    notices = {
        "accept": gettext("Welcome to the cohort: your place is confirmed."),
        "refuse": gettext("You turned down the place."),
        "admit": gettext("%(name)s is admitted.") % {"name": place.organization.name},
        "decline": gettext("%(name)s is declined; they read your reason.")
        % {"name": place.organization.name},
    }
    if action in ("admit", "decline"):
        return redirect(request, f"/cohorts/{place.cohort_id}/board", notice=notices[action])
    target = f"/places/{place.id}" if action == "accept" else "/incubation"
    return redirect(request, target, notice=notices[action])


async def _render_board_of(
    request: Request, place: Place, status: int, values: Any, errors: Any
) -> Response:
    request.state.obj = place.cohort
    return await _render_board(request, status, {"decide": values}, {"decide": errors})


@guard("incubation.place.startup", load=perms.load_place)
async def accept_page(request: Request) -> Response:
    return await _place_action(request, "accept")


@guard("incubation.place.startup", load=perms.load_place)
async def refuse_page(request: Request) -> Response:
    return await _place_action(request, "refuse")


@guard("incubation.place.staff", load=perms.load_place)
async def admit_page(request: Request) -> Response:
    return await _place_action(request, "admit")


@guard("incubation.place.staff", load=perms.load_place)
async def decline_page(request: Request) -> Response:
    return await _place_action(request, "decline")


@guard("incubation.place.startup", load=perms.load_place)
async def check_in_page(request: Request) -> Response:
    view = loaded(request, perms.PlaceView)
    place = view.place
    values = form_values(await request.form())
    form, errors = _parse(CheckInForm, values)
    if form is None:
        return await _render_place(request, view, 422, values, errors)
    try:
        async with transaction(request):
            await incubation.file_check_in(
                context(request),
                place,
                progress=form.progress,
                blockers=form.blockers,
                help_needed=form.help_needed,
                light=form.status,
                now=datetime.now(UTC),
            )
    except ServiceError as exc:
        return await _render_place(request, view, exc.status_code, values, {"__root__": exc.detail})
    return redirect(
        request, f"/places/{place.id}#check-ins", notice=gettext("Check-in filed. Thank you.")
    )


@guard("incubation.check_in.note", load=perms.load_check_in)
async def note_page(request: Request) -> Response:
    view = loaded(request, perms.CheckInView)
    check_in = view.check_in
    values = form_values(await request.form())
    form, errors = _parse(NoteForm, values)
    place = check_in.place
    key = f"note-{check_in.id}"
    if form is None:
        return await _render_place(
            request,
            view.place_view,
            422,
            {key: values.get("note", "")},
            {key: errors.get("note", "")},
        )
    async with transaction(request):
        await incubation.add_note(context(request), check_in, note=form.note)
    return redirect(
        request, f"/places/{place.id}#check-in-{check_in.id}", notice=gettext("Note added.")
    )


# --- mentor invitations --------------------------------------------------------------------


async def _answer_page(request: Request, accept: bool) -> Response:
    mentor: Mentor = request.state.obj
    try:
        async with transaction(request):
            await incubation.answer_mentor(context(request), mentor, accept=accept)
    except ServiceError as exc:
        return redirect(request, "/incubation", notice=exc.detail)
    notice = (
        gettext("You are a mentor of %(cohort)s.") if accept else gettext("Invitation declined.")
    ) % {"cohort": mentor.cohort.name}
    return redirect(request, "/incubation", notice=notice)


@guard("incubation.mentor.answer", load=perms.load_mentor)
async def accept_mentoring_page(request: Request) -> Response:
    return await _answer_page(request, True)


@guard("incubation.mentor.answer", load=perms.load_mentor)
async def decline_mentoring_page(request: Request) -> Response:
    return await _answer_page(request, False)


# --- the pilot path ------------------------------------------------------------------------


async def _place_of_project(request: Request, project: Project) -> perms.PlaceView:
    place = await Place.get(id=project.place_id).select_related("cohort__programme", "organization")
    return await perms.place_view(actor_of(request), place)


@guard("incubation.project.move", load=perms.load_project)
async def step_page(request: Request) -> Response:
    project: Project = request.state.obj
    values = form_values(await request.form())
    form, errors = _parse(StepForm, values)
    view = await _place_of_project(request, project)
    if form is None:
        return await _render_place(request, view, 422, {"step": values}, {"step": errors})
    try:
        async with transaction(request):
            await incubation.move_project(
                context(request), project, form.status, reason=form.reason, on=form.on
            )
    except ServiceError as exc:
        return await _render_place(
            request,
            view,
            exc.status_code,
            {"step": values},
            {"step": exc.fields or {"__root__": exc.detail}},
        )
    return redirect(
        request,
        f"/places/{view.place.id}#pilot",
        notice=gettext("Recorded: %(step)s.") % {"step": project_label(form.status.value)},
    )


@guard("incubation.contract.record", load=perms.load_project)
async def contract_page(request: Request) -> Response:
    from service.core.amounts import read_amount

    project: Project = request.state.obj
    values = form_values(await request.form())
    currency = str(values.get("currency", "")).strip().upper()
    # Read in the currency typed beside it; without one, the currency's field says so.
    amount_errors: dict[str, str] = {}
    amount = read_amount(values, "amount", currency, amount_errors) if currency else None
    form, errors = _parse(ContractForm, {**values, "currency": currency, "amount": amount})
    if amount is None and "currency" not in errors:
        errors["amount"] = amount_errors.get("amount", gettext("Enter the amount."))
    view = await _place_of_project(request, project)
    if form is None or errors:
        return await _render_place(request, view, 422, {"contract": values}, {"contract": errors})
    try:
        async with transaction(request):
            await incubation.record_contract(
                context(request),
                project,
                amount_minor=form.amount,
                currency=form.currency,
                supplier=form.supplier,
                starts_on=form.starts_on,
                ends_on=form.ends_on,
            )
    except ServiceError as exc:
        return await _render_place(
            request,
            view,
            exc.status_code,
            {"contract": values},
            {"contract": exc.fields or {"__root__": exc.detail}},
        )
    return redirect(request, f"/places/{view.place.id}#pilot", notice=gettext("Contract recorded."))


routes: list[BaseRoute] = [
    Route("/incubation", hub, methods=["GET"]),
    Route("/programmes/new", new_programme_page, methods=["GET"]),
    Route("/programmes/new", new_programme_submit, methods=["POST"]),
    Route("/programmes/{programme_id:int}", programme_page, methods=["GET"]),
    Route("/programmes/{programme_id:int}/cohorts", new_cohort_submit, methods=["POST"]),
    Route("/cohorts/{cohort_id:int}", cohort_page, methods=["GET"]),
    Route("/cohorts/{cohort_id:int}/apply", apply_page, methods=["GET"]),
    Route("/cohorts/{cohort_id:int}/apply", apply_submit, methods=["POST"]),
    Route("/cohorts/{cohort_id:int}/board", board_page, methods=["GET"]),
    Route("/cohorts/{cohort_id:int}/mentors", invite_mentor_page, methods=["POST"]),
    Route("/cohorts/{cohort_id:int}/pairings", pair_page, methods=["POST"]),
    Route("/pairings/{pairing_id:int}/remove", unpair_page, methods=["POST"]),
    Route("/places/{place_id:int}", place_page, methods=["GET"]),
    Route("/places/{place_id:int}/accept", accept_page, methods=["POST"]),
    Route("/places/{place_id:int}/refuse", refuse_page, methods=["POST"]),
    Route("/places/{place_id:int}/admit", admit_page, methods=["POST"]),
    Route("/places/{place_id:int}/decline", decline_page, methods=["POST"]),
    Route("/places/{place_id:int}/check-ins", check_in_page, methods=["POST"]),
    Route("/check-ins/{check_in_id:int}/note", note_page, methods=["POST"]),
    Route("/mentors/{mentor_id:int}/accept", accept_mentoring_page, methods=["POST"]),
    Route("/mentors/{mentor_id:int}/decline", decline_mentoring_page, methods=["POST"]),
    Route("/projects/{project_id:int}/steps", step_page, methods=["POST"]),
    Route("/projects/{project_id:int}/contract", contract_page, methods=["POST"]),
]
