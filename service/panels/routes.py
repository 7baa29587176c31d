"""API of the citizens' panels area: open, volunteer, draw, withdraw, score, sessions,
recommendation, stipends, and the ranking with the panel's share."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from spectree import Response as Doc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from service.accounts.permissions import guard, loaded, path_int
from service.applications.models import Application
from service.challenges import permissions as challenge_perms
from service.core.api import ErrorOut, api, json
from service.core.errors import NotFound
from service.core.i18n import gettext
from service.core.web import context, transaction
from service.panels import permissions as perms
from service.panels import schemas
from service.panels import service as panels
from service.panels.models import Panel, PanelSession, Volunteer, VolunteerStatus

TAG = "panels"
V1 = "/api/v1"
SECURED: dict[str, list[str]] = {"bearer": []}
PANEL = f"{V1}/panels/{{panel_id:int}}"


async def panel_out(panel: Panel) -> schemas.PanelOut:
    members = await panels.pool_of(panel, statuses=(VolunteerStatus.member,))
    sessions = await PanelSession.filter(panel_id=panel.id).order_by("starts_at", "id")
    paid, paid_minor = await panels.stipend_totals(panel)
    return schemas.PanelOut(
        id=panel.id,
        challenge_id=panel.challenge_id,
        status=panel.status.value,
        size=panel.size,
        quotas=panel.features,
        pool_counts=await panels.pool_counts(panel),
        recruitment_opens_at=panel.recruitment_opens_at,
        recruitment_closes_at=panel.recruitment_closes_at,
        stipend_minor=panel.stipend_minor,
        currency=panel.currency,
        score_share_pct=panel.score_share_pct,
        members=[
            schemas.MemberOut(seat=m.seat or 0, name=panels.member_label(m))
            for m in sorted(members, key=lambda m: m.seat or 0)
        ],
        sessions=[schemas.SessionOut(starts_at=s.starts_at, place=s.place) for s in sessions],
        recommendation=panel.recommendation,
        stipends_paid=paid,
        stipends_paid_minor=paid_minor,
        draw=panel.draw,
        draw_error=panels.draw_error_text(panel.draw_error),
        progress=panel.progress,
        audit=[
            schemas.EventOut(kind=e.kind, at=e.at, detail=panels.event_detail(e.detail))
            for e in await panels.events_of(panel)
        ],
    )


def _json(model: Any, status: int = 200) -> Response:
    return json(model, status)


async def load_volunteer(request: Request) -> perms.PanelVolunteer:
    """The panel of the path, with the volunteer of the path."""
    view = await perms.load_panel(request)
    target = await Volunteer.get_or_none(
        id=path_int(request, "volunteer_id"), panel_id=view.panel.id
    )
    if target is None:
        raise NotFound(gettext("No such volunteer."))
    return perms.PanelVolunteer(view, target)


def spec_of(data: schemas.PanelIn) -> panels.PanelSpec:
    """The service's panel spec from the validated input (the API's JSON or the page's form)."""
    return panels.PanelSpec(
        size=data.size,
        features=[f.model_dump() for f in data.features],
        recruitment_opens_at=data.recruitment_opens_at,
        recruitment_closes_at=data.recruitment_closes_at,
        stipend_minor=data.stipend_minor,
        score_share_pct=data.score_share_pct,
    )


@guard("panels.open", load=challenge_perms.load_challenge)
@api.validate(
    json=schemas.PanelIn,
    resp=Doc(
        HTTP_201=schemas.PanelOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
)
async def open_panel(request: Request, json: schemas.PanelIn) -> Response:
    """Open a citizens' panel for a challenge: size, features with quotas per value,
    recruitment window, stipend and the panel's share of the jury's score (city managers)."""
    async with transaction(request):
        panel = await panels.open_panel(context(request), request.state.obj, spec_of(json))
    return _json(await panel_out(panel), 201)


@guard("panels.view", load=perms.load_panel)
@api.validate(resp=Doc(HTTP_200=schemas.PanelOut, HTTP_404=ErrorOut), tags=[TAG])
async def get_panel(request: Request) -> Response:
    """The panel as published: quotas, the pool as counts per value, the draw (seed,
    portfolio, anonymous probabilities), members, sessions, recommendation, audit trail."""
    return _json(await panel_out(loaded(request, perms.PanelView).panel))


@guard("panels.volunteer", load=perms.load_panel)
@api.validate(
    json=schemas.VolunteerIn,
    resp=Doc(
        HTTP_201=schemas.VolunteerOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut, HTTP_422=ErrorOut
    ),
    tags=[TAG],
    security=SECURED,
)
async def add_volunteer(request: Request, json: schemas.VolunteerIn) -> Response:
    """Volunteer for the panel with your features (kept private: only the city's panel staff
    see them; the public sees counts per value)."""
    async with transaction(request):
        found = await panels.volunteer(
            context(request),
            loaded(request, perms.PanelView).panel,
            features=json.features,
            first_name=json.first_name,
            show_name=json.show_name,
        )
    return _json(schemas.VolunteerOut(id=found.id, status=found.status.value), 201)


POOL_PAGE = 50


class PoolQuery(BaseModel):
    cursor: int | None = Field(default=None, ge=1, le=2**31 - 1, description="From next_cursor")
    limit: int = Field(default=POOL_PAGE, ge=1, le=200)
    status: VolunteerStatus | None = Field(default=None, description="Only volunteers with it")


async def pool_page(
    panel: Panel,
    *,
    cursor: int | None,
    status: VolunteerStatus | None = None,
    limit: int = POOL_PAGE,
) -> tuple[list[Volunteer], int | None]:
    """One page of the pool in the order volunteers signed up, and the next page's cursor
    (the last id shown; None on the last page)."""
    rows = Volunteer.filter(panel_id=panel.id)
    if status is not None:
        rows = rows.filter(status=status)
    if cursor is not None:
        rows = rows.filter(id__gt=cursor)
    # One row more than the page tells whether another page follows.
    found = await rows.order_by("id").limit(limit + 1)
    page = found[:limit]
    return page, (page[-1].id if len(found) > limit else None)


@guard("panels.staff", load=perms.load_panel)
@api.validate(
    query=PoolQuery,
    resp=Doc(HTTP_200=schemas.PoolOut, HTTP_404=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def list_pool(request: Request, query: PoolQuery) -> Response:
    """The pool with what each volunteer declared (the city's panel staff only), in the order
    they signed up, a page at a time."""
    rows, cursor = await pool_page(
        loaded(request, perms.PanelView).panel,
        cursor=query.cursor,
        status=query.status,
        limit=query.limit,
    )
    return _json(
        schemas.PoolOut(
            items=[
                schemas.PoolMemberOut(
                    id=v.id,
                    user_id=v.user_id,
                    features=v.features,
                    status=v.status.value,
                    seat=v.seat,
                    pool_number=v.pool_number,
                    probability=v.probability,
                )
                for v in rows
            ],
            next_cursor=str(cursor) if cursor is not None else None,
        )
    )


@guard("panels.staff", load=perms.load_panel)
@api.validate(
    resp=Doc(HTTP_202=schemas.PanelOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def start_draw(request: Request) -> Response:
    """Draw the panel (queued; follow `progress`). Quotas no panel can meet are refused with
    the value that is short."""
    async with transaction(request):
        panel = await panels.start_draw(context(request), loaded(request, perms.PanelView).panel)
    return _json(await panel_out(panel), 202)


@guard("panels.staff.volunteer", load=load_volunteer)
@api.validate(
    resp=Doc(HTTP_200=schemas.VolunteerOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def withdraw(request: Request) -> Response:
    """Record that a volunteer or member withdrew; a member's seat is re-drawn (queued)."""
    view = loaded(request, perms.PanelVolunteer)
    async with transaction(request):
        found = await panels.withdraw(context(request), view.panel, view.volunteer)
    return _json(schemas.VolunteerOut(id=found.id, status=found.status.value))


@guard("panels.member", load=perms.load_panel)
@api.validate(
    json=schemas.ScoreIn,
    resp=Doc(HTTP_200=schemas.ScoreOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def score(request: Request, json: schemas.ScoreIn) -> Response:
    """A member scores a finalist on the challenge's criteria (0-10), or declares a conflict."""
    view = loaded(request, perms.PanelView)
    panel = view.panel
    application = await Application.get_or_none(id=json.application_id)
    if application is None:
        raise NotFound()
    async with transaction(request):
        found = await panels.score(
            context(request),
            panel,
            view.member,
            application,
            conflict=json.conflict_of_interest,
            scores=json.scores,
        )
    return _json(
        schemas.ScoreOut(
            application_id=found.application_id,
            conflict_of_interest=found.conflict_of_interest,
            scores=found.scores,
        )
    )


@guard("panels.staff", load=perms.load_panel)
@api.validate(
    resp=Doc(HTTP_200=schemas.CombinedRankingOut, HTTP_404=ErrorOut), tags=[TAG], security=SECURED
)
async def combined_ranking(request: Request) -> Response:
    """Experts' and the panel's scores side by side, combined by the panel's published share."""
    panel = loaded(request, perms.PanelView).panel
    rows = await panels.combined_ranking(panel, panel.challenge)
    return _json(
        schemas.CombinedRankingOut(
            challenge_id=panel.challenge_id,
            panel_share_pct=panel.score_share_pct,
            items=[
                schemas.CombinedOut(
                    rank=r.rank,
                    application_id=r.application_id,
                    experts=r.experts,
                    panel=r.panel,
                    combined=r.combined,
                )
                for r in rows
            ],
        )
    )


@guard("panels.staff", load=perms.load_panel)
@api.validate(
    json=schemas.SessionIn,
    resp=Doc(HTTP_201=schemas.SessionOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def add_session(request: Request, json: schemas.SessionIn) -> Response:
    """Add a session of the panel (date and place, public)."""
    async with transaction(request):
        found = await panels.add_session(
            context(request),
            loaded(request, perms.PanelView).panel,
            starts_at=json.starts_at,
            place=json.place,
        )
    return _json(schemas.SessionOut(starts_at=found.starts_at, place=found.place), 201)


@guard("panels.staff", load=perms.load_panel)
@api.validate(
    json=schemas.RecommendationIn,
    resp=Doc(HTTP_200=schemas.PanelOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def recommend(request: Request, json: schemas.RecommendationIn) -> Response:
    """Publish the panel's recommendation (text)."""
    async with transaction(request):
        panel = await panels.recommend(
            context(request), loaded(request, perms.PanelView).panel, text=json.text
        )
    return _json(await panel_out(panel))


@guard("panels.staff.volunteer", load=load_volunteer)
@api.validate(
    json=schemas.StipendIn,
    resp=Doc(HTTP_201=schemas.StipendOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def pay_stipend(request: Request, json: schemas.StipendIn) -> Response:
    """Record a member's stipend paid by bank transfer: posted once to the ledger, from the
    challenge's escrow (public as totals)."""
    view = loaded(request, perms.PanelVolunteer)
    async with transaction(request):
        found = await panels.pay_stipend(
            context(request), view.panel, view.volunteer, reference=json.reference
        )
    return _json(
        schemas.StipendOut(
            id=found.id,
            seat=view.volunteer.seat,
            amount_minor=found.amount_minor,
            currency=found.currency,
            reference=found.reference,
        ),
        201,
    )


routes: list[BaseRoute] = [
    Route(f"{V1}/challenges/{{challenge_id:int}}/panel", open_panel, methods=["POST"]),
    Route(PANEL, get_panel, methods=["GET"]),
    Route(f"{PANEL}/volunteers", add_volunteer, methods=["POST"]),
    Route(f"{PANEL}/volunteers", list_pool, methods=["GET"]),
    Route(f"{PANEL}/draw", start_draw, methods=["POST"]),
    Route(f"{PANEL}/volunteers/{{volunteer_id:int}}/withdraw", withdraw, methods=["POST"]),
    Route(f"{PANEL}/volunteers/{{volunteer_id:int}}/stipend", pay_stipend, methods=["POST"]),
    Route(f"{PANEL}/scores", score, methods=["POST"]),
    Route(f"{PANEL}/ranking", combined_ranking, methods=["GET"]),
    Route(f"{PANEL}/sessions", add_session, methods=["POST"]),
    Route(f"{PANEL}/recommendation", recommend, methods=["POST"]),
]
