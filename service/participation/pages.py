"""Web pages of the participation area: browse, propose, support, deliberate, answer, adopt."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from feedgen.feed import FeedGenerator
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from service.accounts.models import Organization, OrganizationKind, Role
from service.accounts.permissions import actor_of, guard, load_organization
from service.challenges import attachments
from service.challenges import permissions as challenge_perms
from service.challenges.models import Challenge
from service.challenges.sections import Section
from service.core.bodylimit import accepts_upload
from service.core.errors import NotFound, ServiceError, field_and_message
from service.core.forms import errors_of, form_values, parse, redirect, render, translate_error
from service.core.i18n import gettext
from service.core.vocab import SDGS, Area, area_label, sdg_label
from service.core.web import context, transaction
from service.participation import permissions as perms
from service.participation import presenters, repository, schemas
from service.participation import service as participation
from service.participation.models import Proposal, ProposalPhoto, Update
from service.participation.routes import filters_of, managed_city, store_photo, throttle
from service.translation import service as translation

PAGE_SIZE = 20
SORTS = [("supported", "Most supported"), ("newest", "Newest"), ("waiting", "Waiting longest")]
STATUSES = ["open", "under_study", "adopted", "declined"]


def vocabulary() -> dict[str, Any]:
    return {
        "areas": [(a.value, area_label(a.value)) for a in Area],
        "sdg_choices": [(g, sdg_label(g)) for g in SDGS],
        "proposal_statuses": [(s, participation.proposal_status_label(s)) for s in STATUSES],
        "sorts": [(k, gettext(t)) for k, t in SORTS],
        "area_label": area_label,
        "sdg_label": sdg_label,
        "proposal_status_label": participation.proposal_status_label,
    }


# --- browsing ------------------------------------------------------------------------------


@guard("public")
async def list_page(request: Request) -> Response:
    params = request.query_params
    raw = {k: params.get(k) for k in ("q", "region", "area", "sdg", "status", "sort", "cursor")}
    raw = {k: v for k, v in raw.items() if v}
    errors: dict[str, str] = {}
    try:
        query = schemas.ProposalQuery.model_validate({**raw, "limit": PAGE_SIZE})
    except ValidationError as exc:
        for error in exc.errors():
            key, message = field_and_message(dict(error))
            errors[key] = message
        query = schemas.ProposalQuery(limit=PAGE_SIZE)
    try:
        page = await repository.list_public(filters_of(query), cursor=query.cursor, limit=PAGE_SIZE)
    except ServiceError as exc:
        errors.update(errors_of(exc))
        page = await repository.list_public(repository.ProposalFilters(), cursor=None, limit=20)
    now = datetime.now(UTC)
    next_query = "&".join(f"{k}={v}" for k, v in params.multi_items() if k != "cursor")
    return render(
        request,
        "participation/list.html",
        status_code=422 if errors else 200,
        items=[presenters.summary_out(row, now) for row in page.items],
        tr=await translation.shown(row["title"] for row in page.items),
        next_cursor=page.next_cursor,
        next_query=next_query,
        values=raw,
        errors=errors,
        **vocabulary(),
    )


# --- proposing -----------------------------------------------------------------------------


def _form_data(request_form: Any) -> dict[str, Any]:
    values = form_values(request_form)
    data = {k: values.get(k, "") for k in ("title", "description", "region", "affected")}
    data["area"] = values.get("area") or None
    data["sdgs"] = request_form.getlist("sdgs")
    data["confirm_distinct"] = values.get("confirm_distinct") == "on"
    return data


def _errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        key, message = translate_error(dict(error))
        errors.setdefault(key.split(".")[0], message)
    return errors


@guard("signed_in")
async def new_page(request: Request) -> Response:
    if request.method == "GET":
        user = actor_of(request).user
        return render(
            request,
            "participation/form.html",
            proposal=None,
            values={"region": request.query_params.get("region", "")},
            unverified=user is not None and user.email_verified_at is None,
            **vocabulary(),
        )
    form = await request.form()
    values = form_values(form)
    show = {"proposal": None, "unverified": False, **vocabulary()}
    try:
        data = schemas.ProposalIn.model_validate(_form_data(form))
        await throttle(request, "proposal")
        async with transaction(request):
            proposal = await participation.create(context(request), data)
    except ValidationError as exc:
        return render(
            request, "participation/form.html", 422, values=values, errors=_errors(exc), **show
        )
    except ServiceError as exc:
        similar = []
        if "title" in exc.fields:
            similar = await participation.similar(
                str(values.get("region", "")), str(values.get("title", ""))
            )
        return render(
            request,
            "participation/form.html",
            exc.status_code,
            values=values,
            errors=errors_of(exc),
            similar=similar,
            tr=await translation.shown(p.title for p in similar),
            **show,
        )
    return redirect(
        request,
        f"/proposals/{proposal.id}",
        notice=gettext("Your proposal is published. Share it to gather support."),
    )


@guard("proposal.edit", load=perms.load_proposal)
async def edit_page(request: Request) -> Response:
    proposal: Proposal = request.state.obj
    show = {
        "proposal": proposal,
        "unverified": False,
        "not_editable": refusal.detail if (refusal := participation.edit_refusal(proposal)) else "",
        **vocabulary(),
    }
    if request.method == "GET":
        values = {
            "title": proposal.title,
            "description": proposal.description,
            "region": proposal.region,
            "affected": proposal.affected,
            "area": proposal.area.value if proposal.area else "",
            "sdgs": [str(g) for g in proposal.sdgs],
        }
        return render(request, "participation/form.html", values=values, **show)
    form = await request.form()
    values = form_values(form)
    try:
        data = schemas.ProposalPatch.model_validate(_form_data(form))
        async with transaction(request):
            await participation.edit(context(request), proposal, data)
    except ValidationError as exc:
        return render(
            request, "participation/form.html", 422, values=values, errors=_errors(exc), **show
        )
    except ServiceError as exc:
        return render(
            request,
            "participation/form.html",
            exc.status_code,
            values=values,
            errors=errors_of(exc),
            **show,
        )
    return redirect(request, f"/proposals/{proposal.id}", notice=gettext("Proposal saved."))


# --- the proposal page ---------------------------------------------------------------------


async def _cities_managed(request: Request, proposal: Proposal) -> list[Organization]:
    actor = actor_of(request)
    ids = [o for o in getattr(proposal, "city_ids", []) if actor.has_role(o, Role.manager)]
    return await Organization.filter(id__in=ids).order_by("name") if ids else []


@guard("public", load=perms.load_proposal)
async def detail_page(request: Request) -> Response:
    return await _render_detail(request)


async def _render_detail(request: Request, status_code: int = 200, **extra: Any) -> Response:
    proposal = await Proposal.get(id=request.state.obj.id).prefetch_related("author")
    proposal.city_ids = getattr(request.state.obj, "city_ids", [])
    actor = actor_of(request)
    user = actor.user
    cities = await _cities_managed(request, proposal)
    threshold = await participation.threshold_of(proposal.region)
    comments = await repository.comments_of(proposal.id)
    challenge = (
        await Challenge.get_or_none(id=proposal.challenge_id) if proposal.challenge_id else None
    )
    texts = [proposal.title, proposal.description, proposal.affected]
    return render(
        request,
        "participation/detail.html",
        status_code=status_code,
        proposal=proposal,
        out=presenters.detail_out(
            proposal,
            author=proposal.author.name,
            threshold=threshold,
            supported_by_me=bool(user and await repository.has_supported(proposal.id, user.id)),
        ),
        comments=presenters.thread(comments),
        tr=await translation.shown([*texts, *(c.text for c in comments)]),
        challenge=challenge,
        updates=await repository.updates_of_proposal(proposal, limit=20),
        is_author=bool(user and user.id == proposal.author_id),
        photo=await ProposalPhoto.get_or_none(proposal_id=proposal.id),
        cities=cities,
        can_moderate=(actor.is_operator and actor.mfa) or bool(cities),
        **vocabulary(),
        **extra,
    )


async def _act(
    request: Request,
    anchor: str,
    notice: str,
    action: Callable[[], Awaitable[None]],
    key: str = "action_errors",
    **shown: Any,
) -> Response:
    """Run a form action; on error show the page again with the message where it belongs."""
    obj = request.state.obj
    proposal_id = obj.id if isinstance(obj, Proposal) else obj.proposal_id
    try:
        await action()
    except ServiceError as exc:
        if not isinstance(obj, Proposal):
            request.state.obj = await perms.load_proposal_by_id(request, proposal_id)
        return await _render_detail(request, exc.status_code, **{key: errors_of(exc)}, **shown)
    return redirect(request, f"/proposals/{proposal_id}#{anchor}", notice=notice)


@guard("public", load=perms.load_proposal)
async def photo(request: Request) -> Response:
    """The proposal's photo, shown in its page; none for a hidden proposal."""
    proposal = request.state.obj
    found = await ProposalPhoto.get_or_none(proposal_id=proposal.id)
    if found is None or proposal.hidden_at is not None:
        raise NotFound(gettext("This proposal has no photo."))
    return await attachments.file_response(
        request,
        stored_name=found.stored_name,
        content_type=found.content_type,
        filename=f"proposal-{proposal.id}-photo",
        inline=True,
    )


@guard("proposal.edit", load=perms.load_proposal)
@accepts_upload(participation.PHOTO_MAX_BYTES)
async def photo_page(request: Request) -> Response:
    async def action() -> None:
        await store_photo(request)

    return await _act(request, "photo", gettext("The photo was saved."), action, "photo_errors")


@guard("proposal.edit", load=perms.load_proposal)
async def remove_photo_page(request: Request) -> Response:
    async def action() -> None:
        async with transaction(request):
            removed = await participation.remove_photo(context(request), request.state.obj)
        if removed:
            await request.app.state.deps.storage.delete(removed)

    return await _act(request, "photo", gettext("The photo was removed."), action, "photo_errors")


@guard("signed_in", load=perms.load_proposal)
async def support_page(request: Request) -> Response:
    async def action() -> None:
        await throttle(request, "support")
        async with transaction(request):
            await participation.support(context(request), request.state.obj)

    return await _act(request, "support", gettext("Thank you for your support."), action)


@guard("signed_in", load=perms.load_proposal)
async def unsupport_page(request: Request) -> Response:
    async def action() -> None:
        await throttle(request, "support")
        async with transaction(request):
            await participation.withdraw_support(context(request), request.state.obj)

    return await _act(request, "support", gettext("Your support was withdrawn."), action)


@guard("signed_in", load=perms.load_proposal)
async def comment_page(request: Request) -> Response:
    form = await request.form()
    values = form_values(form)
    if not values.get("parent_id"):
        values.pop("parent_id", None)
    try:
        data = schemas.CommentIn.model_validate(values)
    except ValidationError as exc:
        return await _render_detail(
            request, 422, comment_values=values, comment_errors=_errors(exc)
        )

    async def action() -> None:
        await throttle(request, "comment")
        async with transaction(request):
            await participation.comment(
                context(request),
                request.state.obj,
                text=data.text,
                stance=data.stance,
                parent_id=data.parent_id,
            )

    return await _act(
        request,
        "comments",
        gettext("Your comment is published."),
        action,
        key="comment_errors",
        comment_values=values,
    )


@guard("signed_in", load=perms.load_comment)
async def report_page(request: Request) -> Response:
    data, _, _ = await parse(request, schemas.ReportIn)
    reason = data.reason if data else ""

    async def action() -> None:
        async with transaction(request):
            await participation.report(context(request), request.state.obj, reason=reason)

    return await _act(
        request,
        f"comment-{request.state.obj.id}",
        gettext("Thank you: the moderators will look at this comment."),
        action,
    )


@guard("proposal.moderate", load=perms.load_comment)
async def hide_comment_page(request: Request) -> Response:
    data, _, errors = await parse(request, schemas.ReasonIn)
    comment = request.state.obj
    if data is None:
        request.state.obj = await perms.load_proposal_by_id(request, comment.proposal_id)
        return await _render_detail(request, 422, action_errors=errors)

    async def action() -> None:
        async with transaction(request):
            await participation.hide_comment(context(request), comment, reason=data.reason)

    return await _act(request, f"comment-{comment.id}", gettext("The comment is hidden."), action)


@guard("proposal.moderate", load=perms.load_proposal)
async def hide_page(request: Request) -> Response:
    data, _, errors = await parse(request, schemas.ReasonIn)
    if data is None:
        return await _render_detail(request, 422, action_errors=errors)

    async def action() -> None:
        async with transaction(request):
            await participation.hide_proposal(
                context(request), request.state.obj, reason=data.reason
            )

    return await _act(request, "title", gettext("The proposal is hidden."), action)


@guard("proposal.answer", load=perms.load_proposal)
async def respond_page(request: Request) -> Response:
    data, _, errors = await parse(request, schemas.ResponseIn)
    if data is None:
        return await _render_detail(request, 422, answer_errors=errors)

    async def action() -> None:
        async with transaction(request):
            await participation.respond(context(request), request.state.obj, data)

    return await _act(
        request, "answer", gettext("The city's answer is published."), action, key="answer_errors"
    )


@guard("proposal.answer", load=perms.load_proposal)
async def adopt_page(request: Request) -> Response:
    form = await request.form()
    values = form_values(form)
    try:
        data = schemas.AdoptIn.model_validate(
            {k: v for k, v in values.items() if k in ("organization_id", "area") and v}
        )
        org = await managed_city(request, data.organization_id)
        async with transaction(request):
            _, challenge = await participation.adopt(context(request), request.state.obj, org, data)
    except ValidationError as exc:
        return await _render_detail(request, 422, adopt_errors=_errors(exc))
    except ServiceError as exc:
        return await _render_detail(request, exc.status_code, adopt_errors=errors_of(exc))
    return redirect(
        request,
        f"/challenges/{challenge.id}/edit",
        notice=gettext("The proposal is adopted. Complete the challenge draft, then publish it."),
    )


@guard("proposal.answer", load=perms.load_proposal)
async def post_update_page(request: Request) -> Response:
    data, _, errors = await parse(request, schemas.UpdateIn)
    if data is None:
        return await _render_detail(request, 422, update_errors=errors)

    async def action() -> None:
        async with transaction(request):
            await participation.post_staff_update(
                context(request), title=data.title, body=data.body, proposal=request.state.obj
            )

    return await _act(request, "updates", gettext("Update published."), action, key="update_errors")


# --- timelines and their feeds -------------------------------------------------------------


def _atom(request: Request, *, path: str, title: str, page: str, updates: list[Update]) -> Response:
    base = request.app.state.settings.base_url
    feed = FeedGenerator()
    feed.id(f"{base}{path}")
    feed.title(title)
    feed.link(href=f"{base}{page}", rel="alternate")
    feed.link(href=f"{base}{path}", rel="self")
    feed.updated(max((u.at for u in updates), default=datetime.now(UTC)))
    for update in reversed(updates):
        entry = feed.add_entry()
        entry.id(f"{base}/updates/{update.id}")
        title, body = update.shown()
        entry.title(title)
        entry.link(href=f"{base}{update.link or page}")
        entry.summary(body or title)
        entry.published(update.at)
        entry.updated(update.at)
    return Response(feed.atom_str(pretty=True), media_type="application/atom+xml")


@guard("public", load=perms.load_proposal)
async def proposal_feed(request: Request) -> Response:
    proposal = request.state.obj
    return _atom(
        request,
        path=f"/proposals/{proposal.id}/updates.atom",
        title=f"{gettext('Updates')}: {proposal.title}",
        page=f"/proposals/{proposal.id}",
        updates=await repository.updates_of_proposal(proposal),
    )


@guard("challenge.view", load=challenge_perms.load_challenge)
async def challenge_feed(request: Request) -> Response:
    challenge = request.state.obj
    return _atom(
        request,
        path=f"/challenges/{challenge.id}/updates.atom",
        title=f"{gettext('Updates')}: {challenge.title}",
        page=f"/challenges/{challenge.id}",
        updates=await repository.updates_of_challenge(challenge.id),
    )


@guard("public", load=load_organization)
async def city_page(request: Request) -> Response:
    org = request.state.obj
    return render(
        request,
        "participation/city.html",
        org=org,
        updates=await repository.updates_of_city(org.id),
        is_government=org.kind is OrganizationKind.government,
    )


@guard("public", load=load_organization)
async def city_feed(request: Request) -> Response:
    org = request.state.obj
    return _atom(
        request,
        path=f"/cities/{org.id}/updates.atom",
        title=f"{gettext('Updates')}: {org.name}",
        page=f"/cities/{org.id}/updates",
        updates=await repository.updates_of_city(org.id),
    )


# --- the challenge page's section ----------------------------------------------------------


async def challenge_section(request: Request, challenge: Challenge) -> Section | None:
    """Where the challenge came from (a citizen proposal) and its timeline of updates."""
    proposal = await repository.proposal_of_challenge(challenge.id)
    updates = await repository.updates_of_challenge(challenge.id, limit=10)
    if proposal is None and not updates:
        return Section(
            "participation/challenge_section.html",
            "bottom",
            {"proposal": None, "updates": [], "challenge_id": challenge.id},
        )
    return Section(
        "participation/challenge_section.html",
        "top" if proposal is not None else "bottom",
        {"proposal": proposal, "updates": updates, "challenge_id": challenge.id},
    )


routes: list[BaseRoute] = [
    Route("/proposals", list_page, methods=["GET"]),
    Route("/proposals/new", new_page, methods=["GET", "POST"]),
    Route("/proposals/{proposal_id:int}", detail_page, methods=["GET"]),
    Route("/proposals/{proposal_id:int}/edit", edit_page, methods=["GET", "POST"]),
    Route("/proposals/{proposal_id:int}/photo", photo, methods=["GET"]),
    Route("/proposals/{proposal_id:int}/photo", photo_page, methods=["POST"]),
    Route("/proposals/{proposal_id:int}/photo/remove", remove_photo_page, methods=["POST"]),
    Route("/proposals/{proposal_id:int}/support", support_page, methods=["POST"]),
    Route("/proposals/{proposal_id:int}/unsupport", unsupport_page, methods=["POST"]),
    Route("/proposals/{proposal_id:int}/comments", comment_page, methods=["POST"]),
    Route("/proposals/{proposal_id:int}/hide", hide_page, methods=["POST"]),
    Route("/proposals/{proposal_id:int}/response", respond_page, methods=["POST"]),
    Route("/proposals/{proposal_id:int}/adopt", adopt_page, methods=["POST"]),
    Route("/proposals/{proposal_id:int}/updates", post_update_page, methods=["POST"]),
    Route("/proposals/{proposal_id:int}/updates.atom", proposal_feed, methods=["GET"]),
    Route("/comments/{comment_id:int}/report", report_page, methods=["POST"]),
    Route("/comments/{comment_id:int}/hide", hide_comment_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/updates.atom", challenge_feed, methods=["GET"]),
    Route("/cities/{organization_id:int}/updates", city_page, methods=["GET"]),
    Route("/cities/{organization_id:int}/updates.atom", city_feed, methods=["GET"]),
]
