"""Challenge pages: browse and search, detail, draft and edit, publish, questions, files."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise.expressions import Q

from service.accounts.models import Organization, OrganizationKind, Role
from service.accounts.permissions import actor_of, guard
from service.challenges import attachments, feeds, presenters, repository, schemas, sections
from service.challenges import permissions as perms
from service.challenges import proposals as proposals_of
from service.challenges import questions as questions_service
from service.challenges import service as challenges
from service.challenges.models import Challenge, ChallengeStatus, Question
from service.challenges.routes import filters_of
from service.core import zones
from service.core.amounts import input_value, read_amount
from service.core.bodylimit import accepts_upload
from service.core.errors import ServiceError, field_and_message
from service.core.forms import errors_of, form_values, parse, redirect, render, translate_error
from service.core.i18n import current_locale, gettext
from service.core.money import to_major, to_minor
from service.core.vocab import SDGS, Area, area_label, kind_label, sdg_label, status_label
from service.core.web import context, transaction
from service.translation import service as translation

CRITERIA_ROWS = 6
# The most recent challenges a typed title is compared with.
SIMILAR_CANDIDATES = 300
STATUS_CHOICES = [
    "upcoming",
    "open",
    "closed",
    "judging",
    "awarded",
    "in_delivery",
    "completed",
    "cancelled",
]


@lru_cache(maxsize=32)
def _choices(language: str) -> dict[str, Any]:
    """The filters' and forms' choices with their labels in one language: the same on every
    page, so they are built once per language (tuples, which no template can change)."""
    return {
        "areas": tuple((a.value, area_label(a.value)) for a in Area),
        "sdg_choices": tuple((g, sdg_label(g)) for g in SDGS),
        "applicant_kinds": tuple(
            (k, kind_label(k)) for k in ("startup", "university", "research_center")
        ),
        "status_choices": tuple((s, status_label(s)) for s in STATUS_CHOICES),
    }


def vocabulary() -> dict[str, Any]:
    return {
        # Labels are read in the request's language, which is the cache's key.
        **_choices(current_locale.get()),
        "area_label": area_label,
        "sdg_label": sdg_label,
        "kind_label": kind_label,
        "status_label": status_label,
    }


# --- browsing ----------------------------------------------------------------------------


@guard("public")
async def list_page(request: Request) -> Response:
    params = request.query_params
    raw = {
        key: params.get(key)
        for key in (
            "q",
            "area",
            "sdg",
            "region",
            "eligible_kind",
            "min_reward",
            "closing_before",
            "sort",
            "cursor",
        )
    }
    raw = {k: v for k, v in raw.items() if v}
    statuses = params.getlist("status")
    platform = request.app.state.settings.platform_currency
    if raw.get("closing_before") and len(str(raw["closing_before"])) == 10:
        raw["closing_before"] = f"{raw['closing_before']}T00:00:00+00:00"
    errors: dict[str, str] = {}
    query_input = dict(raw)
    if raw.get("min_reward"):
        # Typed as the viewer's language writes amounts ("50.000" is fifty thousand in
        # Spanish), in the platform currency; the query takes it as a plain decimal.
        minimum = read_amount(raw, "min_reward", platform, errors, required=False)
        query_input.pop("min_reward")
        if minimum is not None:
            query_input["min_reward"] = str(to_major(minimum, platform))
    try:
        query = schemas.ChallengeQuery.model_validate({**query_input, "status": statuses})
    except ValidationError as exc:
        for error in exc.errors():
            key, message = field_and_message(dict(error))
            errors[key] = message
        query = schemas.ChallengeQuery()
    try:
        page = await repository.list_public(
            filters_of(query, platform=platform), cursor=query.cursor, limit=20
        )
    except ServiceError as exc:
        errors.update(errors_of(exc))
        page = await repository.list_public(
            filters_of(schemas.ChallengeQuery(), platform=platform), limit=20
        )
    now = datetime.now(UTC)
    items = [presenters.summary_out(row, now) for row in page.items]
    next_params = request.query_params.multi_items()
    next_query = "&".join(f"{k}={v}" for k, v in next_params if k != "cursor")
    return render(
        request,
        "challenges/list.html",
        status_code=422 if errors else 200,
        items=items,
        next_cursor=page.next_cursor,
        next_query=next_query,
        values={**raw, "status": statuses},
        errors=errors,
        platform_currency=platform,
        min_reward_typed=input_value(to_minor(50000, platform), platform),
        **vocabulary(),
    )


@guard("challenge.view", load=perms.load_challenge)
async def detail_page(request: Request) -> Response:
    return await _render_detail(request)


async def _render_detail(request: Request, status_code: int = 200, **extra: Any) -> Response:
    challenge = await repository.get(request.state.obj.id)
    assert challenge is not None
    parts = await repository.detail_parts(challenge)
    actor = actor_of(request)
    following = actor.user is not None and await repository.is_following(challenge, actor.user.id)
    org_id = challenge.organization_id
    return render(
        request,
        "challenges/detail.html",
        status_code=status_code,
        challenge=challenge,
        out=presenters.detail_out(challenge, parts),
        parts=parts,
        following=following,
        can_edit=actor.has_role(org_id, Role.editor, Role.manager),
        can_publish=actor.has_role(org_id, Role.manager),
        sections=await sections.sections_of(request, challenge),
        award_of={w.application_id: w.award_id for w in parts["winners"]},
        question_signers=await questions_service.signers(parts["questions"]),
        # Whether the reader could sign a question with an organization's name.
        may_sign=questions_service.signer_of(actor) is not None,
        **vocabulary(),
        **extra,
    )


# --- drafting ----------------------------------------------------------------------------


def form_to_terms(form: FormData, where: tzinfo) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's flat fields as the API's nested shape, and the errors of its dates.

    The dates are wall-clock times in the city's zone (`where`, the organization's): a
    time that does not exist there that day (clocks going forward) or happens twice
    (clocks going back) is refused by its field rather than shifted by an hour.
    """
    values = form_values(form)
    date_errors: dict[str, str] = {}

    def when(name: str) -> str | None:
        moment = zones.form_moment(values, name, where, date_errors)
        return moment.isoformat() if isinstance(moment, datetime) else moment

    criteria = []
    for n in range(CRITERIA_ROWS):
        name = str(values.get(f"criterion_name_{n}", "")).strip()
        weight = str(values.get(f"criterion_weight_{n}", "")).strip()
        if name or weight:
            criteria.append({"name": name, "weight": weight or 0})
    # The reward as the viewer's locale writes it, in the currency typed beside it; its error
    # goes with the dates' (it names the field better than the schema's "whole number").
    currency = str(values.get("currency") or "EUR").strip().upper()
    amount = read_amount(values, "reward_amount", currency, date_errors)
    return {
        "organization_id": values.get("organization_id"),
        "title": values.get("title", ""),
        "summary": values.get("summary", ""),
        "problem_statement": values.get("problem_statement", ""),
        "language": values.get("language", "en"),
        "area": values.get("area", ""),
        "sdgs": form.getlist("sdgs"),
        "region": values.get("region", ""),
        "eligible_kinds": form.getlist("eligible_kinds"),
        "eligible_regions": [
            r.strip() for r in str(values.get("eligible_regions", "")).split(",") if r.strip()
        ],
        "reward": {
            "amount_minor": amount,
            "currency": values.get("currency", ""),
        },
        "criteria": criteria,
        "opens_at": when("opens_at"),
        "closes_at": when("closes_at"),
        "judging_ends_at": when("judging_ends_at"),
        "blind_judging": values.get("blind_judging") == "on",
        "amendment_reason": values.get("amendment_reason", ""),
    }, date_errors


def _errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        key, message = translate_error(dict(error))
        head = key.split(".")[0]
        if head == "reward":
            head = "reward_amount" if "amount" in key else "currency"
        errors.setdefault(head, message)
    return errors


async def _editable_orgs(request: Request) -> list[Organization]:
    actor = actor_of(request)
    ids = [
        org_id
        for org_id in actor.organizations_of_kind(OrganizationKind.government)
        if actor.has_role(org_id, Role.editor, Role.manager)
    ]
    return await Organization.filter(id__in=ids).order_by("name")


def _form_values_of(challenge: Challenge, criteria: list[Any], where: tzinfo) -> dict[str, Any]:
    values: dict[str, Any] = {
        "organization_id": str(challenge.organization_id),
        "title": challenge.title,
        "summary": challenge.summary,
        "problem_statement": challenge.problem_statement,
        "language": challenge.language,
        "area": challenge.area.value,
        "sdgs": [str(g) for g in challenge.sdgs],
        "region": challenge.region,
        "eligible_kinds": challenge.eligible_kinds,
        "eligible_regions": ", ".join(challenge.eligible_regions),
        "reward_amount": input_value(challenge.reward_amount_minor, challenge.currency),
        "currency": challenge.currency,
        # Shown back in the city's zone, as they were typed.
        "opens_at": zones.to_local_input(challenge.opens_at, where),
        "closes_at": zones.to_local_input(challenge.closes_at, where),
        "judging_ends_at": zones.to_local_input(challenge.judging_ends_at, where),
        "blind_judging": "on" if challenge.blind_judging else "",
    }
    for n, criterion in enumerate(criteria):
        values[f"criterion_name_{n}"] = criterion.name
        values[f"criterion_weight_{n}"] = str(criterion.weight)
    return values


def _readability(values: dict[str, Any]) -> list[tuple[str, float, bool]]:
    from service.challenges.readability import score

    results = []
    for field in ("summary", "problem_statement"):
        result = score(str(values.get(field, "")), str(values.get("language", "en")))
        if result is not None:
            results.append((field, result.score, result.hard))
    return results


async def _alike(
    title: str, region: str, org_ids: list[int], *, exclude_id: int | None = None
) -> dict[str, Any]:
    """What looks like the challenge being drafted, whatever language it was written in: the
    challenges (public ones, and the drafts of the author's organizations) and the region's
    open citizen proposals with a similar title, five of each at most."""
    if len(title.strip()) < 4:
        return {"similar_challenges": [], "similar_proposals": []}
    visible = Q(status__not=ChallengeStatus.draft) | Q(organization_id__in=org_ids)
    rows = (
        await Challenge.filter(visible)
        .exclude(id=exclude_id or 0)
        .order_by("-id")
        .limit(SIMILAR_CANDIDATES)
        .only("id", "title", "status", "organization_id")
    )
    by_id = {c.id: c for c in rows}
    found = [
        by_id[i]
        for i in await translation.most_alike(
            "challenge", title, {i: c.title for i, c in by_id.items()}
        )
    ]
    proposals = await proposals_of.open_alike(region, title)
    return {
        "similar_challenges": found,
        "similar_proposals": proposals,
        "tr": await translation.shown([c.title for c in found] + [p.title for p in proposals]),
    }


@guard("signed_in")
async def new_page(request: Request) -> Response:
    orgs = await _editable_orgs(request)
    if request.method == "GET":
        return render(
            request,
            "challenges/form.html",
            orgs=orgs,
            challenge=None,
            values={"language": "en", "currency": "EUR"},
            rows=range(CRITERIA_ROWS),
            readability=[],
            **vocabulary(),
        )
    form = await request.form()
    values = form_values(form)
    chosen = next((o for o in orgs if str(o.id) == str(values.get("organization_id"))), None)
    terms, date_errors = form_to_terms(form, zones.zone(chosen.time_zone if chosen else None))
    show = {
        "orgs": orgs,
        "challenge": None,
        "rows": range(CRITERIA_ROWS),
        "readability": _readability(values),
        **vocabulary(),
    }

    async def again(status_code: int, **extra: Any) -> Response:
        """The form back with what was typed and what looks like it."""
        alike = await _alike(
            str(values.get("title", "")), str(values.get("region", "")), [o.id for o in orgs]
        )
        return render(
            request, "challenges/form.html", status_code, values=values, **show, **alike, **extra
        )

    if form.get("check_similar"):
        # Only a look at what exists: nothing is saved.
        return await again(200, checked=True)
    try:
        data = schemas.ChallengeIn.model_validate(terms)
    except ValidationError as exc:
        return await again(422, errors={**_errors(exc), **date_errors})
    if date_errors:
        return await again(422, errors=date_errors)
    org = next((o for o in orgs if o.id == data.organization_id), None)
    if org is None:
        return await again(
            422, errors={"organization_id": gettext("Choose one of your organizations.")}
        )
    async with transaction(request):
        challenge = await challenges.create(context(request), org, data)
    return redirect(
        request,
        f"/challenges/{challenge.id}/edit",
        notice=gettext("Draft saved. Check the readability notes before publishing."),
    )


@guard("challenge.draft", load=perms.load_challenge)
async def edit_page(request: Request) -> Response:
    challenge: Challenge = request.state.obj
    orgs = await Organization.filter(id=challenge.organization_id)
    show = {
        "orgs": orgs,
        "challenge": challenge,
        # The rule `challenges.edit` enforces: past these statuses the page shows no form.
        "editable": challenge.status in challenges.EDITABLE,
        "rows": range(CRITERIA_ROWS),
        **vocabulary(),
    }
    where = zones.zone(orgs[0].time_zone if orgs else None)

    async def alike(values: dict[str, Any]) -> dict[str, Any]:
        return await _alike(
            str(values.get("title", "")),
            str(values.get("region", "")),
            [challenge.organization_id],
            exclude_id=challenge.id,
        )

    if request.method == "GET":
        values = _form_values_of(challenge, await repository.criteria(challenge), where)
        if challenge.status is ChallengeStatus.draft:
            show.update(await alike(values))
        return render(
            request, "challenges/form.html", values=values, readability=_readability(values), **show
        )
    form = await request.form()
    values = form_values(form)
    if form.get("check_similar"):
        return render(
            request,
            "challenges/form.html",
            values=values,
            readability=_readability(values),
            checked=True,
            **show,
            **await alike(values),
        )
    terms, date_errors = form_to_terms(form, where)
    terms["organization_id"] = challenge.organization_id
    try:
        data = schemas.ChallengePatch.model_validate(terms)
        if date_errors:
            return render(
                request,
                "challenges/form.html",
                422,
                values=values,
                errors=date_errors,
                readability=_readability(values),
                **show,
            )
        async with transaction(request):
            await challenges.update(context(request), challenge, data)
    except ValidationError as exc:
        return render(
            request,
            "challenges/form.html",
            422,
            values=values,
            errors={**_errors(exc), **date_errors},
            readability=_readability(values),
            **show,
        )
    except ServiceError as exc:
        return render(
            request,
            "challenges/form.html",
            exc.status_code,
            values=values,
            errors=errors_of(exc),
            readability=_readability(values),
            **show,
        )
    return redirect(request, f"/challenges/{challenge.id}", notice=gettext("Challenge saved."))


@guard("challenge.publish", load=perms.load_challenge)
async def publish_page(request: Request) -> Response:
    try:
        async with transaction(request):
            await challenges.publish(context(request), request.state.obj)
    except ServiceError as exc:
        return await _render_detail(
            request, exc.status_code, action_error=exc.fields or {"": exc.detail}
        )
    return redirect(request, f"/challenges/{request.state.obj.id}", notice=gettext("Published."))


@guard("challenge.cancel", load=perms.load_challenge)
async def cancel_page(request: Request) -> Response:
    data, _, errors = await parse(request, schemas.CancelIn)
    if data is None:
        return await _render_detail(request, 422, action_error=errors)
    try:
        async with transaction(request):
            await challenges.cancel(context(request), request.state.obj, reason=data.reason)
    except ServiceError as exc:
        return await _render_detail(request, exc.status_code, action_error={"": exc.detail})
    return redirect(
        request,
        f"/challenges/{request.state.obj.id}",
        notice=gettext("The challenge was cancelled."),
    )


# --- questions, following ----------------------------------------------------------------


@guard("challenge.participate", load=perms.load_challenge)
async def ask_page(request: Request) -> Response:
    data, values, errors = await parse(request, schemas.QuestionIn)
    if data is None:
        return await _render_detail(request, 422, question_values=values, question_errors=errors)
    try:
        async with transaction(request):
            await questions_service.ask(
                context(request), request.state.obj, text=data.text, signed=data.signed
            )
    except ServiceError as exc:
        return await _render_detail(
            request, exc.status_code, question_values=values, question_errors=errors_of(exc)
        )
    return redirect(
        request,
        f"/challenges/{request.state.obj.id}#questions",
        notice=gettext("Your question is published. You will be told when it is answered."),
    )


@guard("question.answer", load=perms.load_question)
async def answer_page(request: Request) -> Response:
    question: Question = request.state.obj
    data, _, _errors = await parse(request, schemas.AnswerIn)
    target = f"/challenges/{question.challenge_id}#question-{question.id}"
    if data is None:
        return redirect(request, target, notice=gettext("The answer was empty; nothing changed."))
    async with transaction(request):
        await challenges.answer(context(request), question, text=data.text)
    return redirect(request, target, notice=gettext("Answer published."))


@guard("challenge.participate", load=perms.load_challenge)
async def follow_page(request: Request) -> Response:
    form = await request.form()
    async with transaction(request):
        if form.get("action") == "unfollow":
            await challenges.unfollow(context(request), request.state.obj)
            notice = gettext("You no longer follow this challenge.")
        else:
            await challenges.follow(context(request), request.state.obj)
            notice = gettext("You follow this challenge.")
    return redirect(request, f"/challenges/{request.state.obj.id}", notice=notice)


# --- attachments -------------------------------------------------------------------------


@guard("challenge.draft", load=perms.load_challenge)
@accepts_upload()
async def upload_page(request: Request) -> Response:
    challenge = request.state.obj
    try:
        await attachments.upload(request, challenge)
    except ServiceError as exc:
        return await _render_detail(request, exc.status_code, upload_error=exc.detail)
    return redirect(
        request, f"/challenges/{challenge.id}#attachments", notice=gettext("File attached.")
    )


@guard("challenge.view", load=perms.load_attachment)
async def download(request: Request) -> Response:
    attachment = request.state.obj
    return await attachments.file_response(
        request,
        stored_name=attachment.stored_name,
        content_type=attachment.content_type,
        filename=attachment.original_name,
    )


routes = [
    Route("/challenges", list_page, methods=["GET"]),
    Route("/challenges/new", new_page, methods=["GET", "POST"]),
    Route("/challenges/feed.atom", feeds.atom, methods=["GET"]),
    Route("/challenges/deadlines.ics", feeds.calendar, methods=["GET"]),
    Route("/challenges/{challenge_id:int}", detail_page, methods=["GET"]),
    Route("/challenges/{challenge_id:int}/edit", edit_page, methods=["GET", "POST"]),
    Route("/challenges/{challenge_id:int}/publish", publish_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/cancel", cancel_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/questions", ask_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/follow", follow_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/attachments", upload_page, methods=["POST"]),
    Route(
        "/challenges/{challenge_id:int}/attachments/{attachment_id:int}", download, methods=["GET"]
    ),
    Route("/questions/{question_id:int}/answer", answer_page, methods=["POST"]),
]
