"""Web pages of the citizens' panels area: the public panel page (quotas, pool as counts,
members, sessions, recommendation, the published draw and its audit trail), the volunteer form,
the staff's draw button, a member's scoring of the finalists, and the challenge page's section.

Handlers have the shape of the API's; on an error the page is shown again with the message and
what was typed kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from service.accounts.models import Organization
from service.accounts.permissions import actor_of, guard, path_int
from service.challenges.models import Application, Challenge, Criterion
from service.challenges.permissions import is_public
from service.challenges.sections import Section
from service.core import zones
from service.core.errors import NotFound, ServiceError
from service.core.forms import form_values, redirect, render
from service.core.i18n import gettext
from service.core.web import context, transaction
from service.panels import permissions as perms
from service.panels import routes as api
from service.panels import service as panels
from service.panels.models import (
    Panel,
    PanelScore,
    PanelStatus,
    Stipend,
    Volunteer,
    VolunteerStatus,
)


def status_label(status: str) -> str:
    labels = {
        "recruiting": gettext("Recruiting volunteers"),
        "drawing": gettext("Drawing the panel"),
        "drawn": gettext("Panel drawn"),
        "closed": gettext("Recommendation given"),
    }
    return labels.get(status, status)


def event_label(kind: str) -> str:
    labels = {
        "opened": gettext("Panel opened with its quotas"),
        "draw_started": gettext("Draw started, seed fixed"),
        "drawn": gettext("Panel drawn"),
        "draw_refused": gettext("Draw refused: the quotas cannot be met"),
        "withdrawn": gettext("A member withdrew"),
        "replaced": gettext("Seat re-drawn"),
        "replacement_refused": gettext("Seat not re-drawn: the quotas cannot be met"),
    }
    return labels.get(kind, kind)


def phase_label(phase: str) -> str:
    labels = {
        "queued": gettext("waiting for its turn"),
        "start": gettext("starting"),
        "cover": gettext("finding a panel for every group"),
        "optimise": gettext("evening out the chances, round"),
    }
    return labels.get(phase, phase)


async def challenge_section(request: Request, challenge: Challenge) -> Section | None:
    if not is_public(challenge):
        return None
    panel = await panels.panel_of_challenge(challenge.id)
    if panel is None:
        return None
    return Section(
        template="panels/_challenge_section.html",
        slot="bottom",
        values={"panel": panel, "status": status_label(panel.status.value)},
    )


async def _render_panel(
    request: Request,
    status_code: int = 200,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    panel: Panel = request.state.obj
    out = await api.panel_out(panel)
    actor = actor_of(request)
    staff = perms.is_staff(actor, panel)
    seated: list[tuple[Any, str, bool]] = []
    if staff:
        paid = set(await Stipend.filter(panel_id=panel.id).values_list("volunteer_id", flat=True))
        members = await panels.pool_of(panel, statuses=(VolunteerStatus.member,))
        seated = [
            (m, panels.member_label(m), m.id in paid)
            for m in sorted(members, key=lambda m: m.seat or 0)
        ]
    return render(
        request,
        "panels/panel.html",
        status_code=status_code,
        panel=panel,
        challenge=panel.challenge,
        out=out,
        staff=staff,
        seated=seated,
        mine=perms.mine_of(panel),
        scoring_open=panel.challenge.status in panels.SCORING
        and datetime.now(UTC) < panel.challenge.judging_ends_at,
        can_volunteer=actor.signed_in
        and perms.mine_of(panel) is None
        and panel.status is PanelStatus.recruiting,
        status_label=status_label,
        event_label=event_label,
        phase_label=phase_label,
        probabilities=sorted(
            ((int(k), p) for k, p in panel.draw.get("probabilities", {}).items()),
        ),
        values=values or {},
        errors=errors or {},
    )


@guard("panels.view", load=perms.load_panel)
async def panel_page(request: Request) -> Response:
    return await _render_panel(request)


@guard("panels.volunteer", load=perms.load_panel)
async def volunteer_submit(request: Request) -> Response:
    panel: Panel = request.state.obj
    values = form_values(await request.form())
    declared = {f["name"]: str(values.get(f"feature_{f['name']}", "")) for f in panel.features}
    try:
        async with transaction(request):
            await panels.volunteer(
                context(request),
                panel,
                features=declared,
                first_name=str(values.get("first_name", "")),
                show_name=values.get("show_name") == "on",
            )
    except ServiceError as exc:
        errors = {k.replace("features.", "feature_"): v for k, v in exc.fields.items()}
        return await _render_panel(
            request, exc.status_code, values=values, errors=errors or {"__root__": exc.detail}
        )
    return redirect(
        request,
        f"/panels/{panel.id}",
        notice=gettext("Thank you: you are in the pool. The draw takes place after recruitment."),
    )


@guard("panels.staff", load=perms.load_panel)
async def draw_submit(request: Request) -> Response:
    panel: Panel = request.state.obj
    try:
        async with transaction(request):
            await panels.start_draw(context(request), panel)
    except ServiceError as exc:
        return await _render_panel(request, exc.status_code, errors={"draw": exc.detail})
    return redirect(request, f"/panels/{panel.id}", notice=gettext("The draw has started."))


@guard("panels.staff", load=perms.load_panel)
async def session_submit(request: Request) -> Response:
    """The staff add a session (date and time in the city's time zone, and the place)."""
    panel: Panel = request.state.obj
    values = form_values(await request.form())
    city = await Organization.get(id=panel.organization_id)
    errors: dict[str, str] = {}
    starts_at = None
    text = str(values.get("starts_at") or "")
    try:
        starts_at = zones.to_utc(datetime.fromisoformat(text), zones.zone(city.time_zone or "UTC"))
    except zones.LocalTimeError as exc:
        errors["starts_at"] = str(exc)
    except ValueError:
        errors["starts_at"] = gettext("Enter a date and time.")
    if starts_at is None:
        return await _render_panel(request, 422, values=values, errors=errors)
    try:
        async with transaction(request):
            await panels.add_session(
                context(request), panel, starts_at=starts_at, place=str(values.get("place", ""))
            )
    except ServiceError as exc:
        return await _render_panel(
            request, exc.status_code, values=values, errors=exc.fields or {"__root__": exc.detail}
        )
    return redirect(request, f"/panels/{panel.id}", notice=gettext("The session is added."))


@guard("panels.staff", load=api.load_volunteer)
async def withdraw_submit(request: Request) -> Response:
    """The staff record that a member left; the seat is re-drawn by the same lottery."""
    panel: Panel = request.state.obj
    target: Volunteer = request.state.obj.target  # set by `load_volunteer`
    try:
        async with transaction(request):
            await panels.withdraw(context(request), panel, target)
    except ServiceError as exc:
        return await _render_panel(request, exc.status_code, errors={"__root__": exc.detail})
    return redirect(
        request,
        f"/panels/{panel.id}",
        notice=gettext("The withdrawal is recorded; the seat is being re-drawn."),
    )


@guard("panels.staff", load=api.load_volunteer)
async def stipend_submit(request: Request) -> Response:
    """The staff record a member's stipend paid by transfer: posted once from the escrow."""
    panel: Panel = request.state.obj
    target: Volunteer = request.state.obj.target  # set by `load_volunteer`
    values = form_values(await request.form())
    try:
        async with transaction(request):
            await panels.pay_stipend(
                context(request), panel, target, reference=str(values.get("reference", ""))
            )
    except ServiceError as exc:
        message = exc.fields.get("reference") or exc.detail
        return await _render_panel(request, exc.status_code, errors={"__root__": message})
    return redirect(
        request, f"/panels/{panel.id}", notice=gettext("The stipend is recorded in the ledger.")
    )


@guard("panels.staff", load=perms.load_panel)
async def recommendation_submit(request: Request) -> Response:
    """The staff publish the panel's recommendation, as the panel wrote it."""
    panel: Panel = request.state.obj
    values = form_values(await request.form())
    try:
        async with transaction(request):
            await panels.recommend(context(request), panel, text=str(values.get("text", "")))
    except ServiceError as exc:
        return await _render_panel(
            request, exc.status_code, values=values, errors=exc.fields or {"__root__": exc.detail}
        )
    return redirect(
        request, f"/panels/{panel.id}", notice=gettext("The recommendation is published.")
    )


async def _render_scoring(
    request: Request,
    status_code: int = 200,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    panel: Panel = request.state.obj
    challenge = panel.challenge
    finalists = await panels.finalists(challenge)
    recused = await panels.recused_from(challenge, perms.member_of(panel))
    mine = {
        s.application_id: s for s in await PanelScore.filter(volunteer_id=perms.member_of(panel).id)
    }
    criteria = await Criterion.filter(challenge_id=challenge.id).order_by("position", "id")
    if not challenge.blind_judging:
        await Application.fetch_for_list(finalists, "organization")
    return render(
        request,
        "panels/score.html",
        status_code=status_code,
        panel=panel,
        challenge=challenge,
        finalists=[a for a in finalists if a.id not in recused],
        blind=challenge.blind_judging,
        criteria=criteria,
        mine=mine,
        errors=errors or {},
        values=values or {},
    )


@guard("panels.member", load=perms.load_panel)
async def scoring_page(request: Request) -> Response:
    return await _render_scoring(request)


@guard("panels.member", load=perms.load_panel)
async def score_submit(request: Request) -> Response:
    panel: Panel = request.state.obj
    application = await Application.get_or_none(id=path_int(request, "application_id"))
    if application is None:
        raise NotFound()
    values = form_values(await request.form())
    conflict = values.get("declaration") == "conflict"
    scores: dict[int, int] = {}
    errors: dict[str, str] = {}
    if not conflict:
        for criterion in await Criterion.filter(challenge_id=panel.challenge_id):
            raw = str(values.get(f"c{criterion.id}", "")).strip()
            if not raw.isdigit() or not 0 <= int(raw) <= 10:
                errors[f"a{application.id}"] = gettext("Give every criterion a score from 0 to 10.")
                break
            scores[criterion.id] = int(raw)
    if not errors:
        try:
            async with transaction(request):
                await panels.score(
                    context(request),
                    panel,
                    perms.member_of(panel),
                    application,
                    conflict=conflict,
                    scores=None if conflict else scores,
                )
        except ServiceError as exc:
            errors[f"a{application.id}"] = next(iter(exc.fields.values()), exc.detail)
    if errors:
        return await _render_scoring(
            request, 422, errors=errors, values={"application_id": application.id, **values}
        )
    return redirect(
        request,
        f"/panels/{panel.id}/score#a{application.id}",
        notice=gettext("Your scores are saved."),
    )


@guard("panels.staff", load=perms.load_panel)
async def ranking_page(request: Request) -> Response:
    """Experts' and the panel's scores side by side, combined by the published share."""
    panel: Panel = request.state.obj
    rows = await panels.combined_ranking(panel, panel.challenge)
    titles = dict(
        await Application.filter(challenge_id=panel.challenge_id).values_list("id", "title")
    )
    return render(
        request,
        "panels/ranking.html",
        panel=panel,
        challenge=panel.challenge,
        rows=[(r, titles.get(r.application_id, "")) for r in rows],
    )


routes: list[BaseRoute] = [
    Route("/panels/{panel_id:int}/ranking", ranking_page, methods=["GET"]),
    Route("/panels/{panel_id:int}", panel_page, methods=["GET"]),
    Route("/panels/{panel_id:int}/volunteer", volunteer_submit, methods=["POST"]),
    Route("/panels/{panel_id:int}/draw", draw_submit, methods=["POST"]),
    Route("/panels/{panel_id:int}/sessions", session_submit, methods=["POST"]),
    Route("/panels/{panel_id:int}/recommendation", recommendation_submit, methods=["POST"]),
    Route(
        "/panels/{panel_id:int}/volunteers/{volunteer_id:int}/withdraw",
        withdraw_submit,
        methods=["POST"],
    ),
    Route(
        "/panels/{panel_id:int}/volunteers/{volunteer_id:int}/stipend",
        stipend_submit,
        methods=["POST"],
    ),
    Route("/panels/{panel_id:int}/score", scoring_page, methods=["GET"]),
    Route("/panels/{panel_id:int}/score/{application_id:int}", score_submit, methods=["POST"]),
]
