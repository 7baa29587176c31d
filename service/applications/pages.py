"""Pages of applications, consortia, judging and awards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from tortoise.expressions import Q

from service.accounts.models import APPLICANT_KINDS, Organization, OrganizationKind
from service.accounts.permissions import PERMISSIONS, actor_of, guard, loaded
from service.applications import judge_invitations, schemas
from service.applications import permissions as perms
from service.applications import service as applications
from service.applications.models import (
    Application,
    ApplicationPartner,
    ApplicationStatus,
    Award,
    JudgeAssignment,
    JudgeInvitation,
    PartnerStatus,
    Review,
    review_window,
)
from service.applications.routes import (
    application_out,
    award_out,
    delete_application_file,
    feedback_out,
    judging_out,
    serve_file,
)
from service.challenges import attachments, repository
from service.challenges import permissions as challenge_perms
from service.challenges.models import Challenge, ChallengeStatus, Criterion
from service.core import search as text_search
from service.core.amounts import input_value, read_amount
from service.core.bodylimit import accepts_upload
from service.core.errors import ServiceError
from service.core.forms import errors_of, form_values, redirect, render, translate_error
from service.core.i18n import gettext, ngettext
from service.core.web import context, transaction

A = ApplicationStatus
S = ChallengeStatus
PARTNER_ROWS = 3
MAX_PARTNERS = 10
MILESTONE_ROWS = 6
LIST_LIMIT = 30
# Organizations a partner search offers at most (the rest: type more of the name, or the
# organization's number).
PARTNER_SEARCH_LIMIT = 20
PARTNER_QUERY_MAX = 100
PARTNER_KINDS = [*APPLICANT_KINDS, OrganizationKind.government]


# --- labels --------------------------------------------------------------------------------


def application_status_label(status: str) -> str:
    labels = {
        "draft": gettext("Draft"),
        "submitted": gettext("Submitted"),
        "withdrawn": gettext("Withdrawn"),
        "awarded": gettext("Awarded"),
        "not_awarded": gettext("Not awarded"),
    }
    return labels.get(status, status)


def partner_status_label(status: str) -> str:
    labels = {
        "invited": gettext("Invited, no answer yet"),
        "accepted": gettext("Accepted"),
        "declined": gettext("Declined"),
    }
    return labels.get(status, status)


def milestone_status_label(status: str) -> str:
    labels = {
        "planned": gettext("Planned"),
        "submitted": gettext("Evidence submitted"),
        "approved": gettext("Approved"),
        "released": gettext("Released"),
        "paid": gettext("Paid"),
    }
    return labels.get(status, status)


def labels() -> dict[str, Any]:
    return {
        "application_status_label": application_status_label,
        "partner_status_label": partner_status_label,
        "milestone_status_label": milestone_status_label,
        "file_size": attachments.size_label,
    }


# --- form helpers --------------------------------------------------------------------------


def _validate(
    model: type[BaseModel], payload: dict[str, Any], rename: Any
) -> tuple[Any, dict[str, str]]:
    """The payload as the API's schema, or the errors named after the form's fields."""
    try:
        return model.model_validate(payload), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            key, message = translate_error(dict(error))
            errors.setdefault(rename(key), message)
        return None, errors


def _row_count(values: dict[str, Any], default: int) -> int:
    try:
        return max(1, min(MAX_PARTNERS, int(str(values.get("partner_rows", default)))))
    except ValueError:
        return default


def partners_from_form(values: dict[str, Any]) -> tuple[list[dict[str, Any]], list[int]]:
    """The filled partner rows, and the form row each one came from."""
    partners: list[dict[str, Any]] = []
    rows: list[int] = []
    for n in range(_row_count(values, PARTNER_ROWS)):
        chosen = str(values.get(f"partner_org_{n}", "")).strip()
        number = str(values.get(f"partner_number_{n}", "")).strip().lstrip("#")
        role = str(values.get(f"partner_role_{n}", "")).strip()
        share = str(values.get(f"partner_share_{n}", "")).strip().rstrip("%").strip()
        if not (chosen or number or role or share):
            continue
        partners.append(
            {"organization_id": number or chosen or None, "role": role, "share_pct": share or 0}
        )
        rows.append(n)
    return partners, rows


def _partner_checks(values: dict[str, Any], rows: list[int]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for n in rows:
        chosen = str(values.get(f"partner_org_{n}", "")).strip()
        number = str(values.get(f"partner_number_{n}", "")).strip().lstrip("#")
        if chosen and number and chosen != number:
            errors[f"partner_number_{n}"] = gettext(
                "Choose the organization from the list or type its number, not both."
            )
        elif not (chosen or number):
            errors[f"partner_org_{n}"] = gettext("Choose the partner organization.")
        elif number and not number.isdigit():
            errors[f"partner_number_{n}"] = gettext("Enter the organization's number, such as 42.")
    return errors


def _application_payload(
    values: dict[str, Any], currency: str
) -> tuple[dict[str, Any], list[int], dict[str, str]]:
    errors: dict[str, str] = {}
    budget = read_amount(values, "budget", currency, errors, required=False) or 0
    partners, rows = partners_from_form(values)
    errors.update(_partner_checks(values, rows))
    payload = {
        "title": values.get("title", ""),
        "summary": values.get("summary", ""),
        "proposal": values.get("proposal", ""),
        "team": values.get("team", ""),
        "budget_minor": budget,
        "partners": partners,
    }
    return payload, rows, errors


def _application_renamer(rows: list[int]) -> Any:
    names = {"organization_id": "partner_org", "role": "partner_role", "share_pct": "partner_share"}

    def rename(key: str) -> str:
        parts = key.split(".")
        if parts[0] == "budget_minor":
            return "budget"
        if parts[0] == "partners" and len(parts) >= 3 and parts[1].isdigit():
            index = int(parts[1])
            row = rows[index] if index < len(rows) else index
            return f"{names.get(parts[2], 'partner_org')}_{row}"
        return parts[0]

    return rename


def _allowed(request: Request, permission: str, obj: Any) -> bool:
    """Whether the acting user passes a registered rule on an object (to offer an action)."""
    try:
        PERMISSIONS[permission].enforce(actor_of(request), obj)
    except ServiceError:
        return False
    return True


def _service_errors(exc: ServiceError, rename: dict[str, str] | None = None) -> dict[str, str]:
    errors = errors_of(exc)
    if exc.fields and exc.detail and exc.detail != type(exc).default_detail:
        errors = {"__root__": exc.detail, **errors}
    rename = rename or {}
    return {rename.get(key, key): gettext(value) for key, value in errors.items()}


@dataclass
class PartnerSearch:
    """The partner search of an application form: what was asked, what it found, and what
    every partner row's list offers (what was found, and the partners already chosen)."""

    q: str = ""
    found: list[Organization] = field(default_factory=list)
    # More organizations matched than PARTNER_SEARCH_LIMIT.
    more: bool = False
    choices: list[Organization] = field(default_factory=list)


def _partner_query(values: Any) -> str:
    return " ".join(str(values.get("partner_q", "")).split())[:PARTNER_QUERY_MAX]


def _chosen_partners(values: dict[str, Any]) -> list[int]:
    """The organizations the form's partner rows name (by list or by number)."""
    chosen = []
    for n in range(_row_count(values, PARTNER_ROWS)):
        for key in (f"partner_org_{n}", f"partner_number_{n}"):
            value = str(values.get(key, "")).strip().lstrip("#")
            if value.isdigit() and 0 < int(value) < 2**31:
                chosen.append(int(value))
    return chosen


async def _partner_search(
    q: str, *, challenge: Challenge, exclude: set[int], current: list[int]
) -> PartnerSearch:
    """Organizations whose name holds every word of `q` (accents and case aside), never the
    challenge's own city nor the applicant: the server refuses the city as a partner too."""
    search = PartnerSearch(q=q)
    words = text_search.words(q)
    if words:
        query = (
            Organization.filter(kind__in=PARTNER_KINDS)
            .exclude(id__in=[challenge.organization_id, *exclude])
            .annotate(folded_name=text_search.Fold("name"))
        )
        for word in words:
            query = query.filter(folded_name__contains=word)
        found = await query.order_by("name", "id").limit(PARTNER_SEARCH_LIMIT + 1)
        search.found, search.more = found[:PARTNER_SEARCH_LIMIT], len(found) > PARTNER_SEARCH_LIMIT
    offered = {o.id: o for o in search.found}
    missing = set(current) - set(offered)
    if missing:
        offered.update({o.id: o for o in await Organization.filter(id__in=list(missing))})
    search.choices = sorted(offered.values(), key=lambda o: (o.name, o.id))
    return search


def _open_for_changes(challenge: Challenge) -> bool:
    return challenge.status is S.open and datetime.now(UTC) < challenge.closes_at


# --- applying ------------------------------------------------------------------------------


async def _apply_context(
    request: Request, challenge: Challenge, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    actor = actor_of(request)
    org_ids = actor.organizations_of_kind(*APPLICANT_KINDS)
    orgs = await Organization.filter(id__in=org_ids).order_by("name", "id")
    existing = {
        a.organization_id: a
        for a in await Application.filter(challenge_id=challenge.id, organization_id__in=org_ids)
    }
    leads = [o for o in orgs if o.id not in existing]
    # The search runs from the page's address; a form sent back keeps it in a hidden field.
    values = values if values is not None else dict(request.query_params)
    lead = str(values.get("organization_id", ""))
    applicant = {o.id for o in leads if len(leads) == 1 or str(o.id) == lead}
    partner_search = await _partner_search(
        _partner_query(values),
        challenge=challenge,
        exclude=applicant,
        current=_chosen_partners(values),
    )
    return {
        "challenge": challenge,
        "orgs": leads,
        "existing": [(o, existing[o.id]) for o in orgs if o.id in existing],
        "partner_search": partner_search,
        "partner_choices": partner_search.choices,
        "open": _open_for_changes(challenge),
        "currency": challenge.currency,
        "city_zone": await repository.city_zone(challenge),
        **labels(),
    }


@guard("challenge.participate", load=challenge_perms.load_challenge)
async def apply_page(request: Request) -> Response:
    challenge: Challenge = request.state.obj
    if request.method == "GET":
        show = await _apply_context(request, challenge)
        values: dict[str, Any] = {"partner_rows": PARTNER_ROWS}
        if len(show["orgs"]) == 1:
            values["organization_id"] = str(show["orgs"][0].id)
        return render(request, "applications/apply.html", values=values, **show)
    values = form_values(await request.form())
    show = await _apply_context(request, challenge, values)
    payload, rows, errors = _application_payload(values, challenge.currency)
    org = next((o for o in show["orgs"] if str(o.id) == values.get("organization_id")), None)
    if org is None:
        errors["organization_id"] = gettext("Choose one of your organizations.")
    # Without a valid choice the other fields are still checked (against a stand-in id).
    payload["organization_id"] = org.id if org else 1
    data, invalid = _validate(schemas.ApplicationIn, payload, _application_renamer(rows))
    for key, message in invalid.items():
        errors.setdefault(key, message)
    values["partner_rows"] = _row_count(values, PARTNER_ROWS)
    if errors or data is None or org is None:
        return render(request, "applications/apply.html", 422, values=values, errors=errors, **show)
    try:
        async with transaction(request):
            application = await applications.create(
                context(request),
                challenge,
                org,
                title=data.title,
                summary=data.summary,
                proposal=data.proposal,
                team=data.team,
                budget_minor=data.budget_minor,
                partners=[p.model_dump() for p in data.partners],
            )
    except ServiceError as exc:
        return render(
            request,
            "applications/apply.html",
            exc.status_code,
            values=values,
            errors=_service_errors(exc),
            **show,
        )
    notice = (
        gettext("Draft saved. Your partners are invited: submit once they have answered.")
        if data.partners
        else gettext("Draft saved. Submit it before the deadline.")
    )
    return redirect(request, f"/applications/{application.id}", notice=notice)


# --- the application -----------------------------------------------------------------------


def _edit_values(out: schemas.ApplicationOut) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": out.title,
        "summary": out.summary,
        "proposal": out.proposal,
        "team": out.team or "",
        "budget": input_value(out.budget_minor, out.currency) if out.budget_minor else "",
        "partner_rows": min(MAX_PARTNERS, max(PARTNER_ROWS, len(out.partners) + 1)),
    }
    for n, partner in enumerate(out.partners):
        values[f"partner_org_{n}"] = str(partner.organization_id or "")
        values[f"partner_role_{n}"] = partner.role
        values[f"partner_share_{n}"] = str(partner.share_pct)
    return values


async def _render_application(
    request: Request, view: perms.ApplicationView, status_code: int = 200, **extra: Any
) -> Response:
    application, access = view.application, view.access
    challenge: Challenge = application.challenge
    actor = actor_of(request)
    out = await application_out(view)
    status = application.status
    open_for_changes = _open_for_changes(challenge)
    lead = bool(access.lead_member)
    # The invitations this viewer answers for, as a member of a partner organization.
    invitations = []
    if status is A.draft:
        invitations = (
            await ApplicationPartner.filter(
                application_id=application.id,
                organization_id__in=list(actor.roles),
                status=PartnerStatus.invited,
            )
            .select_related("organization")
            .order_by("id")
        )
    award = await Award.get_or_none(application_id=application.id)
    feedback = (
        await feedback_out(application) if _allowed(request, "application.feedback", view) else None
    )
    extra.setdefault("edit_values", _edit_values(out))
    extra.setdefault("edit_errors", {})
    extra.setdefault("problems", [])
    extra.setdefault("action_error", "")
    extra.setdefault("withdraw_error", "")
    extra.setdefault("upload_error", "")
    extra.setdefault("files_error", "")
    return render(
        request,
        "applications/detail.html",
        status_code=status_code,
        application=application,
        challenge=challenge,
        city_zone=await repository.city_zone(challenge),
        out=out,
        lead=lead,
        can_edit=lead and status in (A.draft, A.submitted) and open_for_changes,
        can_submit=lead and status is A.draft and open_for_changes,
        can_withdraw=lead and status in (A.draft, A.submitted),
        can_attach=access.applicant and status in (A.draft, A.submitted) and open_for_changes,
        max_upload_mb=request.app.state.settings.max_upload_bytes // (1024 * 1024),
        max_files=applications.MAX_FILES,
        open_for_changes=open_for_changes,
        invitations=invitations,
        may_review=_allowed(request, "application.review", view),
        may_rank=_allowed(request, "challenge.rank", challenge),
        award=await award_out(award) if award is not None else None,
        feedback=feedback,
        **await _edit_partner_search(request, application, challenge, out, extra["edit_values"])
        if lead and open_for_changes
        else {"partner_search": PartnerSearch(), "partner_choices": []},
        **labels(),
        **extra,
    )


async def _edit_partner_search(
    request: Request,
    application: Application,
    challenge: Challenge,
    out: schemas.ApplicationOut,
    values: dict[str, Any],
) -> dict[str, Any]:
    """The partner search of the edit form: from the page's address, or the form sent back."""
    sent = request.method == "POST"
    current = [p.organization_id for p in out.partners if p.organization_id]
    partner_search = await _partner_search(
        _partner_query(values if sent else request.query_params),
        challenge=challenge,
        exclude={application.organization_id},
        current=[*current, *_chosen_partners(values)],
    )
    return {"partner_search": partner_search, "partner_choices": partner_search.choices}


@guard("application.view", load=perms.load_application)
async def application_page(request: Request) -> Response:
    return await _render_application(request, loaded(request, perms.ApplicationView))


@guard("application.edit", load=perms.load_application)
async def edit_page(request: Request) -> Response:
    view = loaded(request, perms.ApplicationView)
    application = view.application
    challenge: Challenge = application.challenge
    values = form_values(await request.form())
    payload, rows, errors = _application_payload(values, challenge.currency)
    data, invalid = _validate(schemas.ApplicationPatch, payload, _application_renamer(rows))
    for key, message in invalid.items():
        errors.setdefault(key, message)
    values["partner_rows"] = _row_count(values, PARTNER_ROWS)
    if errors or data is None:
        return await _render_application(request, view, 422, edit_values=values, edit_errors=errors)
    try:
        async with transaction(request):
            await applications.update(
                context(request),
                application,
                challenge,
                values=data.model_dump(exclude_none=True, exclude={"partners"}),
                partners=[p.model_dump() for p in data.partners or []],
            )
    except ServiceError as exc:
        return await _render_application(
            request,
            view,
            exc.status_code,
            edit_values=values,
            edit_errors=_service_errors(exc),
        )
    return redirect(
        request, f"/applications/{application.id}", notice=gettext("Application saved.")
    )


@guard("application.edit", load=perms.load_application)
async def submit_page(request: Request) -> Response:
    view = loaded(request, perms.ApplicationView)
    application = view.application
    try:
        async with transaction(request):
            await applications.submit(context(request), application, application.challenge)
    except applications.NotEligible as exc:
        return await _render_application(
            request, view, exc.status_code, problems=list(exc.fields.values())
        )
    except ServiceError as exc:
        return await _render_application(
            request, view, exc.status_code, action_error=gettext(exc.detail)
        )
    return redirect(
        request,
        f"/applications/{application.id}",
        notice=gettext("Application submitted. You can still edit it until the deadline."),
    )


@guard("application.edit", load=perms.load_application)
async def withdraw_page(request: Request) -> Response:
    view = loaded(request, perms.ApplicationView)
    application = view.application
    form = await request.form()
    if form.get("confirm") != "yes":
        return await _render_application(
            request,
            view,
            422,
            withdraw_error=gettext("Tick the box to confirm that you withdraw the application."),
        )
    try:
        async with transaction(request):
            await applications.withdraw(context(request), application)
    except ServiceError as exc:
        return await _render_application(
            request, view, exc.status_code, action_error=gettext(exc.detail)
        )
    return redirect(
        request, f"/applications/{application.id}", notice=gettext("Application withdrawn.")
    )


# --- files ---------------------------------------------------------------------------------


@guard("application.attach", load=perms.load_application)
@accepts_upload()
async def upload_page(request: Request) -> Response:
    view = loaded(request, perms.ApplicationView)
    application = view.application
    challenge: Challenge = application.challenge
    try:
        applications.check_files_open(application, challenge)
        async with attachments.received_file(request) as received, transaction(request):
            await applications.add_file(
                context(request),
                application,
                challenge,
                stored=received.stored,
                name=received.name,
            )
    except ServiceError as exc:
        message = exc.fields.get("file", "")
        error = gettext(message) if message and message != "required" else exc.detail
        return await _render_application(request, view, exc.status_code, upload_error=error)
    return redirect(
        request, f"/applications/{application.id}#files", notice=gettext("File attached.")
    )


@guard("application.download", load=perms.load_application_file)
async def download_page(request: Request) -> Response:
    return await serve_file(request, loaded(request, perms.ApplicationFileView))


@guard("application.attach", load=perms.load_application_file)
async def delete_file_page(request: Request) -> Response:
    view = loaded(request, perms.ApplicationFileView)
    try:
        await delete_application_file(request, view)
    except ServiceError as exc:
        return await _render_application(
            request, view, exc.status_code, files_error=gettext(exc.detail)
        )
    return redirect(
        request, f"/applications/{view.application.id}#files", notice=gettext("File deleted.")
    )


async def _answer(request: Request, *, accept: bool) -> Response:
    partner: ApplicationPartner = request.state.obj
    try:
        async with transaction(request):
            await applications.answer_partnership(context(request), partner, accept=accept)
    except ServiceError as exc:
        view = await perms.load_application(request)
        PERMISSIONS["application.view"].enforce(actor_of(request), view)
        return await _render_application(
            request, view, exc.status_code, action_error=gettext(exc.detail)
        )
    if accept:
        return redirect(
            request,
            f"/applications/{partner.application_id}",
            notice=gettext("You joined the consortium. The lead can now submit."),
        )
    # A declined partner no longer sees the application.
    return redirect(
        request, "/applications", notice=gettext("You declined the invitation. The lead is told.")
    )


@guard("application.partner", load=perms.load_partner)
async def accept_page(request: Request) -> Response:
    return await _answer(request, accept=True)


@guard("application.partner", load=perms.load_partner)
async def decline_page(request: Request) -> Response:
    return await _answer(request, accept=False)


@guard("signed_in")
async def list_page(request: Request) -> Response:
    """The applications of the user's organizations (as lead or partner), and their judging."""
    actor = actor_of(request)
    assert actor.user is not None
    org_ids = list(actor.roles)
    partnered = await ApplicationPartner.filter(
        organization_id__in=org_ids, status__not=PartnerStatus.declined
    ).values_list("application_id", flat=True)
    query = Application.filter(Q(organization_id__in=org_ids) | Q(id__in=list(partnered)))
    challenge_filter = request.query_params.get("challenge", "")
    if challenge_filter.isdigit():
        query = query.filter(challenge_id=int(challenge_filter))
    before = request.query_params.get("before", "")
    if before.isdigit():
        query = query.filter(id__lt=int(before))
    rows = (
        await query.select_related("challenge", "organization")
        .order_by("-id")
        .limit(LIST_LIMIT + 1)
    )
    more = len(rows) > LIST_LIMIT
    rows = rows[:LIST_LIMIT]
    judging = (
        await JudgeAssignment.filter(user_id=actor.user.id)
        .select_related("challenge")
        .order_by("-id")
        .limit(LIST_LIMIT)
    )
    return render(
        request,
        "applications/list.html",
        items=rows,
        lead_orgs=set(org_ids),
        next_before=rows[-1].id if more and rows else None,
        challenge_filter=challenge_filter if challenge_filter.isdigit() else "",
        judging=judging,
        **labels(),
    )


# --- judging -------------------------------------------------------------------------------


async def _render_judges(request: Request, status_code: int = 200, **extra: Any) -> Response:
    challenge: Challenge = request.state.obj
    judges = (
        await JudgeAssignment.filter(challenge_id=challenge.id)
        .select_related("user")
        .order_by("id")
    )
    reviews = await Review.filter(judge__challenge_id=challenge.id)
    counts: dict[int, dict[str, int]] = {
        j.id: {"declared": 0, "scored": 0, "recused": 0} for j in judges
    }
    # Recused as members of an applicant, as well as by their own declaration.
    members = await applications.memberships_of([j.user_id for j in judges])
    applicants = await applications.applicant_orgs(challenge.id)
    recused = {
        j.id: set(
            applications.recusals(members[j.user_id], applicants, recuse_from_all=j.recuse_from_all)
        )
        for j in judges
    }
    for review in reviews:
        count = counts.get(review.judge_id)
        if count is None:
            continue
        count["declared"] += 1
        count["scored"] += 1 if review.scores else 0
        if review.conflict_of_interest:
            recused[review.judge_id].add(review.application_id)
    for j in judges:
        counts[j.id]["recused"] = len(recused[j.id])
    total = len(applicants)
    return render(
        request,
        "applications/judges.html",
        status_code=status_code,
        challenge=challenge,
        judges=[(j, counts[j.id]) for j in judges],
        invitations=await judge_invitations.pending_of(challenge),
        total=total,
        may_rank=_allowed(request, "challenge.rank", challenge),
        **extra,
    )


@guard("challenge.manage_judging", load=challenge_perms.load_challenge)
async def judges_page(request: Request) -> Response:
    if request.method == "GET":
        return await _render_judges(request)
    values = form_values(await request.form())
    email = str(values.get("email", "")).strip().lower()
    if not schemas.EMAIL.fullmatch(email) or len(email) > 254:
        error = gettext("Enter a valid e-mail address.")
        return await _render_judges(request, 422, values=values, errors={"email": error})
    recuse_from_all = values.get("recuse_from_all") in ("1", "on", "true")
    try:
        async with transaction(request):
            result = await judge_invitations.assign_or_invite(
                context(request), request.state.obj, email=email, recuse_from_all=recuse_from_all
            )
    except ServiceError as exc:
        return await _render_judges(
            request, exc.status_code, values=values, errors=_service_errors(exc)
        )
    if isinstance(result, JudgeInvitation):
        notice = gettext(
            "No account uses %(email)s yet: an invitation was sent. They become a judge once "
            "they create an account and accept it."
        ) % {"email": email}
    else:
        await result.fetch_related("user")
        notice = gettext("%(name)s is a judge of this challenge and was told by e-mail.") % {
            "name": result.user.name
        }
        conflicts = await applications.recusals_of(request.state.obj.id, result)
        if result.recuse_from_all:
            notice += " " + gettext(
                "While they are a member of an applicant organization, they are recused from "
                "every application of this challenge."
            )
        if conflicts:
            notice += " " + ngettext(
                "As a member of an applicant, they are recused from %(num)s application now.",
                "As a member of an applicant, they are recused from %(num)s applications now.",
                len(conflicts),
            ) % {"num": len(conflicts)}
    return redirect(request, f"/challenges/{request.state.obj.id}/judges", notice=notice)


@guard("challenge.manage_judging", load=perms.load_judge_invitation)
async def revoke_invitation_page(request: Request) -> Response:
    invitation: JudgeInvitation = request.state.obj
    async with transaction(request):
        await judge_invitations.revoke(context(request), invitation)
    return redirect(
        request,
        f"/challenges/{invitation.challenge_id}/judges",
        notice=gettext("The invitation to %(email)s was withdrawn.") % {"email": invitation.email},
    )


async def _answer_judging(request: Request, *, accept: bool) -> Response:
    async with transaction(request):
        invitation = await judge_invitations.answer(
            context(request), request.state.obj, accept=accept
        )
    if accept:
        return redirect(
            request,
            f"/judging/{invitation.challenge_id}",
            notice=gettext("You are a judge of this challenge."),
        )
    return redirect(request, "/invitations", notice=gettext("Invitation declined."))


@guard("judge_invitation.answer", load=perms.load_judge_invitation)
async def accept_invitation_page(request: Request) -> Response:
    return await _answer_judging(request, accept=True)


@guard("judge_invitation.answer", load=perms.load_judge_invitation)
async def decline_invitation_page(request: Request) -> Response:
    return await _answer_judging(request, accept=False)


@guard("challenge.judge", load=perms.load_challenge_for_judge)
async def judging_page(request: Request) -> Response:
    view = loaded(request, perms.JudgeView)
    challenge = view.challenge
    return render(
        request,
        "applications/judging.html",
        challenge=challenge,
        city_zone=await repository.city_zone(challenge),
        out=await judging_out(view),
    )


async def _render_review(request: Request, status_code: int = 200, **extra: Any) -> Response:
    view = loaded(request, perms.ApplicationView)
    application = view.application
    challenge: Challenge = application.challenge
    review = view.access.review
    criteria = await Criterion.filter(challenge_id=challenge.id).order_by("position", "id")
    values: dict[str, Any] = {}
    if review is not None:
        values = {f"score_{k}": str(v) for k, v in review.scores.items()}
        values["comment"] = review.comment
    values.update(extra.pop("values", {}))
    return render(
        request,
        "applications/review.html",
        status_code=status_code,
        application=application,
        challenge=challenge,
        city_zone=await repository.city_zone(challenge),
        out=await application_out(view),
        review=review,
        declared=review is not None,
        criteria=criteria,
        values=values,
        window=review_window(challenge, datetime.now(UTC)).value,
        file_size=attachments.size_label,
        **extra,
    )


@guard("application.review", load=perms.load_application)
async def review_page(request: Request) -> Response:
    if request.method == "GET":
        return await _render_review(request)
    view = loaded(request, perms.ApplicationView)
    application = view.application
    challenge: Challenge = application.challenge
    judge = view.access.judge
    assert judge is not None  # the rule `application.review` admits judges only
    values = form_values(await request.form())
    declaration = values.get("declaration")
    scores: dict[int, int] | None = None
    comment = ""
    if declaration in ("none", "conflict"):
        conflict = declaration == "conflict"
    else:
        conflict = False
        errors: dict[str, str] = {}
        scores = {}
        for criterion in await Criterion.filter(challenge_id=challenge.id):
            text = str(values.get(f"score_{criterion.id}", "")).strip()
            if not text:
                errors[f"score_{criterion.id}"] = gettext("Give a score from 0 to 10.")
            elif not text.isdigit() or int(text) > 10:
                errors[f"score_{criterion.id}"] = gettext("Scores go from 0 to 10.")
            else:
                scores[criterion.id] = int(text)
        comment = str(values.get("comment", "")).strip()
        if len(comment) > 5000:
            errors["comment"] = gettext("This is too long.")
        if errors:
            return await _render_review(request, 422, values=values, errors=errors)
    try:
        async with transaction(request):
            await applications.review(
                context(request),
                application,
                challenge,
                judge,
                conflict=conflict,
                scores=scores,
                comment=comment,
            )
    except ServiceError as exc:
        return await _render_review(
            request, exc.status_code, values=values, errors=_service_errors(exc)
        )
    if conflict:
        return redirect(
            request,
            f"/judging/{challenge.id}",
            notice=gettext("Conflict of interest declared: you are recused from this application."),
        )
    if declaration == "none":
        return redirect(
            request,
            f"/applications/{application.id}/review",
            notice=gettext("Declaration saved. You can now score this application."),
        )
    return redirect(
        request,
        f"/judging/{challenge.id}",
        notice=gettext("Scores saved. You can revise them until judging ends."),
    )


# --- ranking and awards --------------------------------------------------------------------


async def _render_ranking(
    request: Request, status_code: int = 200, *, normalise: bool = False, **extra: Any
) -> Response:
    challenge: Challenge = request.state.obj
    result = await applications.judged(challenge, normalise=normalise)
    rows = result.rows
    by_id = {
        a.id: a
        for a in await Application.filter(challenge_id=challenge.id).select_related("organization")
    }
    criteria = await Criterion.filter(challenge_id=challenge.id).order_by("position", "id")
    awards = [
        await award_out(a) for a in await Award.filter(challenge_id=challenge.id).order_by("id")
    ]
    may_award = _allowed(request, "challenge.award", challenge)
    candidates = [
        (r, by_id[r.application_id]) for r in rows if by_id[r.application_id].status is A.submitted
    ]
    values = extra.pop("values", {})
    extra.setdefault("close_error", "")
    return render(
        request,
        "applications/ranking.html",
        status_code=status_code,
        challenge=challenge,
        rows=[(r, by_id[r.application_id]) for r in rows],
        set_aside={r.application_id: result.note(r.application_id) for r in rows},
        criteria=criteria,
        normalise=normalise,
        awards=awards,
        available=await applications.available_funds(challenge),
        can_award=may_award and challenge.status in (S.judging, S.awarded) and bool(candidates),
        can_close=may_award and challenge.status is S.awarded,
        may_award=may_award,
        candidates=candidates,
        milestone_rows=range(MILESTONE_ROWS),
        values=values,
        **labels(),
        **extra,
    )


@guard("challenge.rank", load=challenge_perms.load_challenge)
async def ranking_page(request: Request) -> Response:
    normalise = request.query_params.get("normalise") in ("1", "true", "on")
    return await _render_ranking(request, normalise=normalise)


def _award_payload(
    values: dict[str, Any], currency: str
) -> tuple[dict[str, Any], list[int], dict[str, str]]:
    errors: dict[str, str] = {}
    # Left empty, the amount is None and the schema names the field.
    amount = read_amount(values, "amount", currency, errors, required=False)
    milestones: list[dict[str, Any]] = []
    rows: list[int] = []
    for n in range(MILESTONE_ROWS):
        title = str(values.get(f"milestone_title_{n}", "")).strip()
        amount_text = str(values.get(f"milestone_amount_{n}", "")).strip()
        due_text = str(values.get(f"milestone_due_{n}", "")).strip()
        if not (title or amount_text or due_text):
            continue
        milestone: dict[str, Any] = {"title": title, "amount_minor": None, "due_at": None}
        if amount_text:
            key = f"milestone_amount_{n}"
            milestone["amount_minor"] = read_amount(values, key, currency, errors)
        if due_text:
            try:
                day = date.fromisoformat(due_text)
                milestone["due_at"] = datetime.combine(day, time(0, 0), tzinfo=UTC)
            except ValueError:
                errors[f"milestone_due_{n}"] = gettext("Enter a date.")
        milestones.append(milestone)
        rows.append(n)
    application_id = str(values.get("application_id", "")).strip()
    payload = {
        "application_id": application_id or None,
        "amount_minor": amount,
        "rationale": values.get("rationale", ""),
        "milestones": milestones,
    }
    return payload, rows, errors


def _award_renamer(rows: list[int]) -> Any:
    names = {
        "title": "milestone_title",
        "amount_minor": "milestone_amount",
        "due_at": "milestone_due",
    }

    def rename(key: str) -> str:
        parts = key.split(".")
        if parts[0] == "amount_minor":
            return "amount"
        if parts[0] == "milestones" and len(parts) >= 3 and parts[1].isdigit():
            index = int(parts[1])
            row = rows[index] if index < len(rows) else index
            return f"{names.get(parts[2], 'milestone_title')}_{row}"
        return parts[0]

    return rename


@guard("challenge.award", load=challenge_perms.load_challenge)
async def award_page(request: Request) -> Response:
    challenge: Challenge = request.state.obj
    values = form_values(await request.form())
    payload, rows, errors = _award_payload(values, challenge.currency)
    data, invalid = _validate(schemas.AwardIn, payload, _award_renamer(rows))
    for key, message in invalid.items():
        errors.setdefault(key, message)
    application = None
    if data is not None:
        application = await Application.get_or_none(
            id=data.application_id, challenge_id=challenge.id
        ).select_related("organization")
        if application is None:
            errors.setdefault("application_id", gettext("Choose an application of this challenge."))
    if errors or data is None or application is None:
        return await _render_ranking(request, 422, values=values, errors=errors)
    try:
        async with transaction(request):
            await applications.award(
                context(request),
                challenge,
                application,
                amount_minor=data.amount_minor,
                rationale=data.rationale,
                milestones=[m.model_dump() for m in data.milestones],
            )
    except ServiceError as exc:
        errors = _service_errors(exc, {"amount_minor": "amount"})
        return await _render_ranking(request, exc.status_code, values=values, errors=errors)
    return redirect(
        request,
        f"/challenges/{challenge.id}/ranking#awards",
        notice=gettext("Award made to %(name)s. The winner is told.")
        % {"name": application.organization.name},
    )


@guard("challenge.award", load=challenge_perms.load_challenge)
async def close_awarding_page(request: Request) -> Response:
    challenge: Challenge = request.state.obj
    form = await request.form()
    if form.get("confirm") != "yes":
        error = gettext("Tick the box to confirm that the awards are final.")
        return await _render_ranking(request, 422, close_error=error)
    try:
        async with transaction(request):
            count = await applications.close_awarding(context(request), challenge)
    except ServiceError as exc:
        return await _render_ranking(request, exc.status_code, close_error=gettext(exc.detail))
    return redirect(
        request,
        f"/challenges/{challenge.id}/ranking",
        notice=ngettext(
            "Awarding is closed. %(num)d other applicant was told and can read the feedback.",
            "Awarding is closed. %(num)d other applicants were told and can read the feedback.",
            count,
        )
        % {"num": count},
    )


routes: list[BaseRoute] = [
    Route("/challenges/{challenge_id:int}/apply", apply_page, methods=["GET", "POST"]),
    Route("/applications", list_page, methods=["GET"]),
    Route("/applications/{application_id:int}", application_page, methods=["GET"]),
    Route("/applications/{application_id:int}/edit", edit_page, methods=["POST"]),
    Route("/applications/{application_id:int}/submit", submit_page, methods=["POST"]),
    Route("/applications/{application_id:int}/withdraw", withdraw_page, methods=["POST"]),
    Route("/applications/{application_id:int}/attachments", upload_page, methods=["POST"]),
    Route(
        "/applications/{application_id:int}/attachments/{file_id:int}",
        download_page,
        methods=["GET"],
    ),
    Route(
        "/applications/{application_id:int}/attachments/{file_id:int}/delete",
        delete_file_page,
        methods=["POST"],
    ),
    Route(
        "/applications/{application_id:int}/partners/{organization_id:int}/accept",
        accept_page,
        methods=["POST"],
    ),
    Route(
        "/applications/{application_id:int}/partners/{organization_id:int}/decline",
        decline_page,
        methods=["POST"],
    ),
    Route("/challenges/{challenge_id:int}/judges", judges_page, methods=["GET", "POST"]),
    Route(
        "/judge-invitations/{judge_invitation_id:int}/accept",
        accept_invitation_page,
        methods=["POST"],
    ),
    Route(
        "/judge-invitations/{judge_invitation_id:int}/decline",
        decline_invitation_page,
        methods=["POST"],
    ),
    Route(
        "/judge-invitations/{judge_invitation_id:int}/revoke",
        revoke_invitation_page,
        methods=["POST"],
    ),
    Route("/judging/{challenge_id:int}", judging_page, methods=["GET"]),
    Route("/applications/{application_id:int}/review", review_page, methods=["GET", "POST"]),
    Route("/challenges/{challenge_id:int}/ranking", ranking_page, methods=["GET"]),
    Route("/challenges/{challenge_id:int}/awards", award_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/awards/close", close_awarding_page, methods=["POST"]),
]
