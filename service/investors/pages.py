"""Web pages of the investors area.

Investor side: the thesis editor with its live count of matching startups, the deal flow with
filters, a startup's detail, the watchlist and the intro requests. Startup side: the profile
with its opt-in and consent, and who viewed it or asked for an intro. City side: the picks.
Every page works without JavaScript; the thesis count updates as one types when it runs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from service.accounts.models import Organization
from service.accounts.permissions import guard, path_int
from service.core.amounts import input_value, read_amount
from service.core.errors import ServiceError
from service.core.forms import errors_of, form_values, redirect, render, translate_error
from service.core.i18n import gettext
from service.core.vocab import Area, Stage, area_label
from service.core.web import context, transaction
from service.investors import matching_bridge as matching
from service.investors import permissions as perms
from service.investors import routes as api_routes
from service.investors import schemas
from service.investors import service as investors
from service.investors.models import IntroRequest, IntroStatus

CURRENCY = "EUR"


def _labels() -> dict[str, Any]:
    return {
        "stage_label": matching.stage_label,
        "areas": [(a.value, area_label(a.value)) for a in Area],
        "stages": [(s.value, matching.stage_label(s.value)) for s in Stage],
        "intro_status_label": intro_status_label,
        "sectors_label": lambda sectors: ", ".join(area_label(str(s)) for s in sectors),
    }


def intro_status_label(status: str) -> str:
    labels = {
        "open": gettext("Waiting for an answer"),
        "accepted": gettext("Accepted"),
        "declined": gettext("Declined"),
        "expired": gettext("Expired"),
    }
    return labels.get(status, status)


LIST_PAGE = 50


def _cursor(request: Request) -> int | None:
    """An id cursor from the query (anything else starts from the top)."""
    raw = request.query_params.get("cursor", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


def _paged(lines: list[Any], key: Any) -> tuple[list[Any], int | None]:
    shown = lines[:LIST_PAGE]
    return shown, (key(shown[-1]) if len(lines) > LIST_PAGE else None)


def _listish(values: dict[str, Any], name: str) -> list[str]:
    value = values.get(name, [])
    return [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value else [])


# --- thesis --------------------------------------------------------------------------------


def _parse_thesis(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    sectors = _listish(values, "sectors")
    stages = _listish(values, "stages")
    if any(s not in Area.__members__ for s in sectors):
        errors["sectors"] = gettext("Choose one of the options.")
    if any(s not in Stage.__members__ for s in stages):
        errors["stages"] = gettext("Choose one of the options.")
    tickets = {
        name: read_amount(values, name, CURRENCY, errors, required=False)
        for name in ("ticket_min", "ticket_max")
    }
    low, high = tickets["ticket_min"], tickets["ticket_max"]
    if low is not None and high is not None and low > high:
        errors["ticket_max"] = gettext("The maximum must not be below the minimum.")
    regions = [r.strip() for r in str(values.get("regions", "")).split(",") if r.strip()]
    if any(len(r) > 120 for r in regions) or len(regions) > 30:
        errors["regions"] = gettext("This is too long.")
    text = str(values.get("text", "")).strip()
    if len(text) > 5000:
        errors["text"] = gettext("This is too long.")
    return {
        "sectors": sectors,
        "stages": stages,
        "stages_strict": values.get("stages_strict") == "on",
        "ticket_min_minor": low,
        "ticket_max_minor": high,
        "regions": regions,
        "regions_strict": values.get("regions_strict") == "on",
        "text": text,
    }, errors


def _thesis_values(thesis: Any) -> dict[str, Any]:
    if thesis is None:
        return {}
    return {
        "sectors": list(thesis.sectors),
        "stages": list(thesis.stages),
        "stages_strict": "on" if thesis.stages_strict else "",
        "ticket_min": input_value(thesis.ticket_min_minor, CURRENCY),
        "ticket_max": input_value(thesis.ticket_max_minor, CURRENCY),
        "regions": ", ".join(thesis.regions),
        "regions_strict": "on" if thesis.regions_strict else "",
        "text": thesis.text,
    }


async def _count(request: Request, parsed: dict[str, Any]) -> int | None:
    try:
        return await matching.preview_count(parsed, settings=request.app.state.settings)
    except ServiceError:
        return None


async def _render_thesis(
    request: Request,
    org: Organization,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    parsed, parse_errors = _parse_thesis(values)
    count = None if parse_errors else await _count(request, parsed)
    return render(
        request,
        "investors/thesis.html",
        status,
        org=org,
        values=values,
        errors=errors,
        count=count,
        **_labels(),
    )


@guard("investors.thesis", load=perms.load_investor)
async def thesis_page(request: Request) -> Response:
    org: Organization = request.state.obj
    return await _render_thesis(request, org, _thesis_values(await matching.thesis_of(org.id)), {})


@guard("investors.thesis", load=perms.load_investor)
async def save_thesis_page(request: Request) -> Response:
    org: Organization = request.state.obj
    values = form_values(await request.form())
    parsed, errors = _parse_thesis(values)
    if errors:
        return await _render_thesis(request, org, values, errors, 422)
    if values.get("action") == "preview":
        return await _render_thesis(request, org, values, {})
    try:
        async with transaction(request):
            await matching.save_thesis(context(request), org, **parsed)
    except ServiceError as exc:
        return await _render_thesis(request, org, values, errors_of(exc), exc.status_code)
    return redirect(request, f"/investors/{org.id}/thesis", notice=gettext("Thesis saved."))


@guard("investors.thesis", load=perms.load_investor)
async def thesis_preview(request: Request) -> Response:
    """The live count, for the thesis form's script: a plain sentence."""
    values: dict[str, Any] = {}
    for key in request.query_params:
        items = request.query_params.getlist(key)
        values[key] = items if key in ("sectors", "stages") else items[0]
    parsed, errors = _parse_thesis(values)
    if errors:
        return PlainTextResponse(gettext("Correct the fields to see how many startups match."))
    count = await _count(request, parsed)
    if count is None:
        return PlainTextResponse(gettext("Correct the fields to see how many startups match."))
    return PlainTextResponse(count_sentence(count))


def count_sentence(count: int) -> str:
    from service.core.i18n import ngettext

    return ngettext(
        "%(n)s startup in the deal flow matches this thesis now.",
        "%(n)s startups in the deal flow match this thesis now.",
        count,
    ) % {"n": count}


# --- deal flow -----------------------------------------------------------------------------


def _query(request: Request) -> tuple[schemas.DealflowQuery, dict[str, Any], dict[str, str]]:
    raw = {k: v for k, v in request.query_params.items() if v != ""}
    values: dict[str, Any] = dict(raw)
    amount_errors: dict[str, str] = {}
    for name in ("ask_min", "ask_max"):
        if name in raw:
            minor = read_amount(raw, name, CURRENCY, amount_errors)
            raw[name] = str(minor) if minor is not None else "x"
    for name in ("won", "delivered"):
        if name in raw:
            raw[name] = "true"
    try:
        return schemas.DealflowQuery.model_validate(raw), values, {}
    except ValidationError as exc:
        # An amount that cannot be read says why ("x" above makes the query invalid).
        errors: dict[str, str] = dict(amount_errors)
        for error in exc.errors():
            key, message = translate_error(dict(error))
            errors.setdefault(key, message)
        return schemas.DealflowQuery(), values, errors


@guard("investors.dealflow", load=perms.load_investor)
async def dealflow_page(request: Request) -> Response:
    org: Organization = request.state.obj
    query, values, errors = _query(request)
    page = await investors.dealflow(
        org,
        query.filters(),
        settings=request.app.state.settings,
        limit=query.limit,
        offset=query.cursor or 0,
    )
    kept = {k: v for k, v in values.items() if k != "cursor"}
    return render(
        request,
        "investors/dealflow.html",
        422 if errors else 200,
        org=org,
        page=page,
        values=values,
        errors=errors,
        query_string=urlencode(kept),
        **_labels(),
    )


@guard("investors.dealflow", load=perms.load_investor)
async def dealflow_csv_page(request: Request) -> Response:
    query, _, _ = _query(request)
    table = await investors.dealflow_csv(
        request.state.obj, query.filters(), settings=request.app.state.settings
    )
    return api_routes.csv_response(table)


async def _render_startup(
    request: Request,
    org: Organization,
    startup_id: int,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    async with transaction(request):
        view = await investors.startup_for_investor(
            org, startup_id, viewer=api_routes.viewer_of(request)
        )
    return render(
        request,
        "investors/startup.html",
        status,
        org=org,
        view=view,
        errors=errors or {},
        values=values or {},
        **_labels(),
    )


@guard("investors.dealflow", load=perms.load_investor)
async def startup_page(request: Request) -> Response:
    return await _render_startup(request, request.state.obj, path_int(request, "startup_id"))


@guard("investors.dealflow", load=perms.load_investor)
async def watch_page(request: Request) -> Response:
    org: Organization = request.state.obj
    startup_id = path_int(request, "startup_id")
    values = form_values(await request.form())
    note = str(values.get("note", "")).strip()
    if len(note) > 2000:
        return await _render_startup(
            request, org, startup_id, 422, {"note": gettext("This is too long.")}, values
        )
    async with transaction(request):
        await investors.watch(context(request), org, startup_id, note=note)
    back = str(values.get("next", ""))
    target = (
        back
        if back.startswith(f"/investors/{org.id}/")
        else f"/investors/{org.id}/startups/{startup_id}"
    )
    return redirect(request, target, notice=gettext("Saved to your watchlist."))


@guard("investors.dealflow", load=perms.load_investor)
async def unwatch_page(request: Request) -> Response:
    org: Organization = request.state.obj
    startup_id = path_int(request, "startup_id")
    async with transaction(request):
        await investors.unwatch(context(request), org, startup_id)
    return redirect(
        request, f"/investors/{org.id}/watchlist", notice=gettext("Removed from your watchlist.")
    )


@guard("investors.dealflow", load=perms.load_investor)
async def watchlist_page(request: Request) -> Response:
    org: Organization = request.state.obj
    lines, cursor = _paged(
        await investors.watchlist(org, before_id=_cursor(request), limit=LIST_PAGE + 1),
        lambda line: line.watch.id,
    )
    return render(
        request,
        "investors/watchlist.html",
        org=org,
        lines=lines,
        next_cursor=cursor,
        **_labels(),
    )


@guard("investors.dealflow", load=perms.load_investor)
async def intro_page(request: Request) -> Response:
    org: Organization = request.state.obj
    startup_id = path_int(request, "startup_id")
    values = form_values(await request.form())
    try:
        async with transaction(request):
            await investors.request_intro(
                context(request), org, startup_id, message=str(values.get("message", ""))
            )
    except ServiceError as exc:
        errors = exc.fields or {"message": exc.detail}
        return await _render_startup(request, org, startup_id, exc.status_code, errors, values)
    return redirect(
        request,
        f"/investors/{org.id}/intros",
        notice=gettext("Intro request sent. The startup has 14 days to answer."),
    )


@guard("investors.dealflow", load=perms.load_investor)
async def intros_page(request: Request) -> Response:
    org: Organization = request.state.obj
    lines, cursor = _paged(
        await investors.intros_of_investor(org.id, before_id=_cursor(request), limit=LIST_PAGE + 1),
        lambda line: line.intro.id,
    )
    return render(
        request,
        "investors/intros.html",
        org=org,
        lines=lines,
        next_cursor=cursor,
        limit=request.app.state.settings.intro_open_limit,
        open_count=await investors.open_count(org.id),
        **_labels(),
    )


# --- startup side --------------------------------------------------------------------------


def _profile_values(profile: Any) -> dict[str, Any]:
    if profile is None:
        return {}
    return {
        "sectors": list(profile.sectors),
        "stage": profile.stage.value if profile.stage else "",
        "funding_ask": input_value(profile.funding_ask_minor, CURRENCY),
        "region": profile.region,
        "text": profile.text,
        "dealflow_opt_in": "on" if profile.dealflow_opt_in else "",
        "share_scores": "on" if profile.share_scores else "",
    }


def _parse_profile(
    values: dict[str, Any], *, raises_funds: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    sectors = _listish(values, "sectors")
    if any(s not in Area.__members__ for s in sectors):
        errors["sectors"] = gettext("Choose one of the options.")
    stage = str(values.get("stage", ""))
    if stage and stage not in Stage.__members__:
        errors["stage"] = gettext("Choose one of the options.")
    ask = None
    if raises_funds:
        ask = read_amount(values, "funding_ask", CURRENCY, errors, required=False)
    elif str(values.get("funding_ask", "")).strip():
        # The form has no such field for a university or a research centre.
        errors["__root__"] = gettext("Only a startup asks investors for funding.")
    region = str(values.get("region", "")).strip()
    if len(region) > 120:
        errors["region"] = gettext("This is too long.")
    text = str(values.get("text", "")).strip()
    if len(text) > 5000:
        errors["text"] = gettext("This is too long.")
    opt_in = values.get("dealflow_opt_in") == "on"
    if opt_in and not sectors:
        errors["sectors"] = gettext("Choose at least one sector to appear in the deal flow.")
    return {
        "sectors": sectors,
        "stage": Stage(stage) if stage in Stage.__members__ else None,
        "funding_ask_minor": ask,
        "region": region,
        "text": text,
        "dealflow_opt_in": opt_in,
        "share_scores": values.get("share_scores") == "on",
    }, errors


@guard("investors.startup", load=perms.load_startup)
async def profile_page(request: Request) -> Response:
    org: Organization = request.state.obj
    values = _profile_values(await matching.profile_of(org.id))
    return render(
        request,
        "investors/profile.html",
        org=org,
        values=values,
        raises_funds=matching.raises_funds(org.kind),
        **_labels(),
    )


@guard("investors.startup", load=perms.load_startup)
async def save_profile_page(request: Request) -> Response:
    org: Organization = request.state.obj
    values = form_values(await request.form())
    parsed, errors = _parse_profile(values, raises_funds=matching.raises_funds(org.kind))
    if errors:
        return render(
            request,
            "investors/profile.html",
            422,
            org=org,
            values=values,
            errors=errors,
            raises_funds=matching.raises_funds(org.kind),
            **_labels(),
        )
    try:
        async with transaction(request):
            await matching.save_profile(context(request), org, **parsed)
    except ServiceError as exc:
        return render(
            request,
            "investors/profile.html",
            exc.status_code,
            org=org,
            values=values,
            errors=errors_of(exc),
            raises_funds=matching.raises_funds(org.kind),
            **_labels(),
        )
    return redirect(request, f"/startups/{org.id}/profile", notice=gettext("Profile saved."))


@guard("investors.startup", load=perms.load_startup)
async def interest_page(request: Request) -> Response:
    org: Organization = request.state.obj
    lines, cursor = _paged(
        await investors.intros_of_startup(org.id, before_id=_cursor(request), limit=LIST_PAGE + 1),
        lambda line: line.intro.id,
    )
    return render(
        request,
        "investors/interest.html",
        org=org,
        # The latest viewers; all of them are in the API (GET .../viewers, paginated).
        views=await investors.viewers_of(org.id, limit=LIST_PAGE),
        lines=lines,
        next_cursor=cursor,
        **_labels(),
    )


async def _answer_page(request: Request, *, accept: bool) -> Response:
    intro: IntroRequest = request.state.obj
    values = form_values(await request.form())
    try:
        async with transaction(request):
            await investors.answer_intro(
                context(request), intro, accept=accept, reply=str(values.get("reply", ""))
            )
    except ServiceError as exc:
        return redirect(request, f"/startups/{intro.startup_id}/interest", notice=exc.detail)
    notice = (
        gettext("Accepted: you now see each other's contact.")
        if accept
        else gettext("Declined. The investor was told.")
    )
    return redirect(request, f"/startups/{intro.startup_id}/interest", notice=notice)


@guard("investors.intro.answer", load=perms.load_intro)
async def accept_page(request: Request) -> Response:
    return await _answer_page(request, accept=True)


@guard("investors.intro.answer", load=perms.load_intro)
async def decline_page(request: Request) -> Response:
    return await _answer_page(request, accept=False)


# --- city picks ----------------------------------------------------------------------------


async def _render_picks(
    request: Request,
    city: Organization,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "investors/picks.html",
        status,
        org=city,
        picks=await investors.picks_of_city(city),
        choices=await investors.pickable_for_city(city),
        errors=errors or {},
        values=values or {},
    )


@guard("investors.city_picks", load=perms.load_city)
async def picks_page(request: Request) -> Response:
    return await _render_picks(request, request.state.obj)


@guard("investors.city_picks", load=perms.load_city)
async def add_pick_page(request: Request) -> Response:
    city: Organization = request.state.obj
    values = form_values(await request.form())
    raw = str(values.get("startup_id", ""))
    if not raw.isdigit() or not 0 < int(raw) < 2**31:
        return await _render_picks(
            request, city, 422, {"startup_id": gettext("Choose one of the options.")}, values
        )
    try:
        async with transaction(request):
            await investors.pick(context(request), city, int(raw), note=str(values.get("note", "")))
    except ServiceError as exc:
        errors = exc.fields or {"startup_id": exc.detail}
        return await _render_picks(request, city, exc.status_code, errors, values)
    return redirect(request, f"/cities/{city.id}/picks", notice=gettext("Pinned for investors."))


@guard("investors.city_picks", load=perms.load_city)
async def remove_pick_page(request: Request) -> Response:
    city: Organization = request.state.obj
    async with transaction(request):
        await investors.unpick(context(request), city, path_int(request, "startup_id"))
    return redirect(request, f"/cities/{city.id}/picks", notice=gettext("Unpinned."))


INV = "/investors/{investor_id:int}"
STARTUP = f"{INV}/startups/{{startup_id:int}}"
routes: list[BaseRoute] = [
    Route(f"{INV}/thesis", thesis_page, methods=["GET"]),
    Route(f"{INV}/thesis", save_thesis_page, methods=["POST"]),
    Route(f"{INV}/thesis/preview", thesis_preview, methods=["GET"]),
    Route(f"{INV}/dealflow", dealflow_page, methods=["GET"]),
    Route(f"{INV}/dealflow.csv", dealflow_csv_page, methods=["GET"]),
    Route(STARTUP, startup_page, methods=["GET"]),
    Route(f"{STARTUP}/intro", intro_page, methods=["POST"]),
    Route(f"{INV}/watchlist", watchlist_page, methods=["GET"]),
    Route(f"{INV}/watchlist/{{startup_id:int}}", watch_page, methods=["POST"]),
    Route(f"{INV}/watchlist/{{startup_id:int}}/remove", unwatch_page, methods=["POST"]),
    Route(f"{INV}/intros", intros_page, methods=["GET"]),
    Route("/startups/{startup_id:int}/profile", profile_page, methods=["GET"]),
    Route("/startups/{startup_id:int}/profile", save_profile_page, methods=["POST"]),
    Route("/startups/{startup_id:int}/interest", interest_page, methods=["GET"]),
    Route("/intro-requests/{intro_request_id:int}/accept", accept_page, methods=["POST"]),
    Route("/intro-requests/{intro_request_id:int}/decline", decline_page, methods=["POST"]),
    Route("/cities/{city_id:int}/picks", picks_page, methods=["GET"]),
    Route("/cities/{city_id:int}/picks", add_pick_page, methods=["POST"]),
    Route(
        "/cities/{city_id:int}/picks/{startup_id:int}/remove", remove_pick_page, methods=["POST"]
    ),
]

__all__ = ["IntroStatus", "routes"]
