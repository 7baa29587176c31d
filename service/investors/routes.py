"""API of the investors area: deal flow, startup detail, watchlist, intro requests, city picks."""

from __future__ import annotations

from spectree import Response as Doc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from service.accounts.models import Organization, OrganizationKind
from service.accounts.permissions import actor_of, guard, path_int
from service.core import csv_export
from service.core.api import ErrorOut, api, json
from service.core.errors import NotFound, PermissionDenied
from service.core.i18n import gettext
from service.core.web import context, transaction
from service.investors import permissions as perms
from service.investors import schemas
from service.investors import service as investors
from service.investors.models import IntroRequest

V1 = "/api/v1"
TAG = "investors"
SECURED: dict[str, list[str]] = {"bearer": []}
INVESTOR = f"{V1}/investors/{{investor_id:int}}"
INTRO = f"{V1}/intro-requests/{{intro_request_id:int}}"
CITY = f"{V1}/cities/{{city_id:int}}"


def track_out(track: investors.TrackRecord) -> schemas.TrackRecordOut:
    return schemas.TrackRecordOut(
        challenges_won=[
            schemas.WinOut(
                challenge_id=w.challenge_id,
                title=w.title,
                url=f"/challenges/{w.challenge_id}",
                city_organization_id=w.city_id,
                city_name=w.city_name,
                milestones_delivered=w.delivered,
            )
            for w in track.wins
        ],
        milestones_delivered=track.milestones_delivered,
        cities=track.cities,
    )


def _money(amount: int | None, currency: str) -> schemas.Money | None:
    return None if amount is None else schemas.Money(amount_minor=amount, currency=currency)


def item_out(item: investors.DealItem) -> schemas.DealItemOut:
    return schemas.DealItemOut(
        startup_organization_id=item.startup_id,
        name=item.name,
        kind=item.kind,
        country=item.country,
        rank=item.rank,
        score=item.score,
        reasons=[schemas.ReasonOut.model_validate(r) for r in item.reasons],
        components=item.components,
        sectors=item.sectors,
        stage=item.stage,
        funding_ask=_money(item.funding_ask_minor, item.currency),
        region=item.region,
        description=item.text,
        watched=item.watched,
        track_record=track_out(item.track),
    )


@guard("investors.dealflow", load=perms.load_investor)
@api.validate(
    query=schemas.DealflowQuery,
    resp=Doc(HTTP_200=schemas.DealflowOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def dealflow(request: Request, query: schemas.DealflowQuery) -> Response:
    """The investor's ranked deal flow: score, reasons and track record of each startup, with
    the cities' picks on the first page. Only for members of a verified investor organization."""
    page = await investors.dealflow(
        request.state.obj,
        query.filters(),
        settings=request.app.state.settings,
        limit=query.limit,
        offset=query.cursor or 0,
    )
    return json(
        schemas.DealflowOut(
            items=[item_out(i) for i in page.items],
            next_cursor=str(page.next_offset) if page.next_offset is not None else None,
            city_picks=[
                schemas.PickOut(
                    startup_organization_id=p.startup_id,
                    name=p.name,
                    city_organization_id=p.city_id,
                    city_name=p.city_name,
                    note=p.note,
                )
                for p in page.picks
            ],
        )
    )


CSV_DOC = Doc(
    HTTP_200=(None, "The deal flow as CSV (text/csv)"), HTTP_403=ErrorOut, HTTP_404=ErrorOut
)


@guard("investors.dealflow", load=perms.load_investor)
@api.validate(query=schemas.DealflowQuery, resp=CSV_DOC, tags=[TAG], security=SECURED)
async def dealflow_csv(request: Request, query: schemas.DealflowQuery) -> Response:
    """The investor's current list (with the same filters) as CSV."""
    return csv_response(
        await investors.dealflow_csv(
            request.state.obj, query.filters(), settings=request.app.state.settings
        )
    )


def csv_response(text: str) -> Response:
    return csv_export.response(text, "dealflow.csv")


@guard("investors.dealflow", load=perms.load_investor)
@api.validate(
    resp=Doc(HTTP_200=schemas.StartupOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def startup_detail(request: Request) -> Response:
    """A startup of the deal flow: its public challenge history and, only if it consented, its
    judge scores and comments. The visit is shown to the startup."""
    async with transaction(request):
        view = await investors.startup_for_investor(
            request.state.obj, path_int(request, "startup_id"), viewer=viewer_of(request)
        )
    return json(startup_out(view))


def viewer_of(request: Request) -> str:
    """The person viewing (or, not signed in, their address), as views are counted."""
    actor = actor_of(request)
    client = request.client.host if request.client else ""
    return investors.viewer_key(actor.user.id if actor.user else None, client)


def startup_out(view: investors.StartupView) -> schemas.StartupOut:
    p = view.profile
    return schemas.StartupOut(
        startup_organization_id=view.organization.id,
        name=view.organization.name,
        kind=view.organization.kind.value,
        sectors=list(p.sectors),
        stage=p.stage.value if p.stage else None,
        funding_ask=_money(view.funding_ask_minor, p.currency),
        region=p.region,
        description=p.text,
        score=view.score,
        reasons=[schemas.ReasonOut.model_validate(r) for r in view.match_reasons],
        scores_shared=view.scores_shared,
        history=[
            schemas.HistoryOut(
                challenge_id=h.challenge_id,
                title=h.title,
                city_name=h.city_name,
                status=h.status,
                won=h.won,
                mean_score=h.mean_score if view.scores_shared else None,
                comments=h.comments if view.scores_shared else [],
            )
            for h in view.history
        ],
        track_record=track_out(view.track),
        watched=view.watch is not None,
        note=view.watch.note if view.watch else None,
    )


# --- watchlist -----------------------------------------------------------------------------


@guard("investors.dealflow", load=perms.load_investor)
@api.validate(
    resp=Doc(HTTP_200=schemas.WatchlistOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def watchlist(request: Request) -> Response:
    """The investor's watched startups with their private notes."""
    lines = await investors.watchlist(request.state.obj)
    return json(
        schemas.WatchlistOut(
            items=[
                schemas.WatchOut(
                    startup_organization_id=line.watch.startup_id,
                    name=line.name,
                    note=line.watch.note,
                    created_at=line.watch.created_at,
                    track_record=track_out(line.track),
                )
                for line in lines
            ]
        )
    )


@guard("investors.dealflow", load=perms.load_investor)
@api.validate(
    json=schemas.WatchIn,
    resp=Doc(HTTP_204=None, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def watch(request: Request, json: schemas.WatchIn) -> Response:
    """Watch a startup (or change the private note); the investor is told when it wins a
    challenge or delivers a milestone."""
    async with transaction(request):
        await investors.watch(
            context(request), request.state.obj, path_int(request, "startup_id"), note=json.note
        )
    return Response(status_code=204)


@guard("investors.dealflow", load=perms.load_investor)
@api.validate(
    resp=Doc(HTTP_204=None, HTTP_403=ErrorOut, HTTP_404=ErrorOut), tags=[TAG], security=SECURED
)
async def unwatch(request: Request) -> Response:
    """Stop watching a startup (harmless if it was not watched)."""
    async with transaction(request):
        await investors.unwatch(
            context(request), request.state.obj, path_int(request, "startup_id")
        )
    return Response(status_code=204)


# --- intro requests ------------------------------------------------------------------------


def intro_out(line: investors.IntroLine) -> schemas.IntroOut:
    i = line.intro
    return schemas.IntroOut(
        id=i.id,
        investor_organization_id=i.investor_id,
        investor_name=line.investor_name,
        startup_organization_id=i.startup_id,
        startup_name=line.startup_name,
        message=i.message,
        reply=i.reply,
        status=line.status,
        created_at=i.created_at,
        expires_at=i.expires_at,
        answered_at=i.answered_at,
        investor_contact=schemas.ContactOut(**vars(line.investor_contact))
        if line.investor_contact
        else None,
        startup_contact=schemas.ContactOut(**vars(line.startup_contact))
        if line.startup_contact
        else None,
    )


async def _verified_investor_of(request: Request, organization_id: int) -> Organization:
    """The investor organization named in a body: the actor's, verified, or refused."""
    actor = actor_of(request)
    org = await Organization.get_or_none(id=organization_id)
    if org is None or org.kind is not OrganizationKind.investor or actor.role_in(org.id) is None:
        raise NotFound(
            gettext("No such investor organization of yours."),
            fields={"investor_organization_id": gettext("Not an investor organization of yours.")},
        )
    if not org.is_verified:
        raise PermissionDenied(gettext("An operator has not verified this organization yet."))
    return org


@guard("signed_in")
@api.validate(
    json=schemas.IntroIn,
    resp=Doc(
        HTTP_201=schemas.IntroOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
)
async def request_intro(request: Request, json: schemas.IntroIn) -> Response:
    """Ask a startup of the deal flow for an introduction. Open requests per investor are
    limited; each expires after 14 days; contacts are shared only when the startup accepts."""
    investor = await _verified_investor_of(request, json.investor_organization_id)
    async with transaction(request):
        intro = await investors.request_intro(
            context(request), investor, json.startup_organization_id, message=json.message
        )
        line = await investors.intro_line(intro)
    return _json(intro_out(line), 201)


def _json(model: schemas.IntroOut, status: int = 200) -> Response:
    return json(model, status)


@guard("investors.intro.view", load=perms.load_intro)
@api.validate(resp=Doc(HTTP_200=schemas.IntroOut, HTTP_404=ErrorOut), tags=[TAG], security=SECURED)
async def get_intro(request: Request) -> Response:
    """An intro request, for either side; contacts only once accepted."""
    return _json(intro_out(await investors.intro_line(request.state.obj)))


async def _answer(request: Request, body: schemas.AnswerIn, *, accept: bool) -> Response:
    intro: IntroRequest = request.state.obj
    async with transaction(request):
        intro = await investors.answer_intro(
            context(request), intro, accept=accept, reply=body.message
        )
        line = await investors.intro_line(intro)
    return _json(intro_out(line))


ANSWER_DOC = Doc(HTTP_200=schemas.IntroOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut, HTTP_422=ErrorOut)


@guard("investors.intro.answer", load=perms.load_intro)
@api.validate(json=schemas.AnswerIn, resp=ANSWER_DOC, tags=[TAG], security=SECURED)
async def accept_intro(request: Request, json: schemas.AnswerIn) -> Response:
    """Accept: both sides then see each other's contact. Accepting twice is harmless."""
    return await _answer(request, json, accept=True)


@guard("investors.intro.answer", load=perms.load_intro)
@api.validate(json=schemas.AnswerIn, resp=ANSWER_DOC, tags=[TAG], security=SECURED)
async def decline_intro(request: Request, json: schemas.AnswerIn) -> Response:
    """Decline, with an optional message. No contact is shared."""
    return await _answer(request, json, accept=False)


async def _intro_page(lines: list[investors.IntroLine], limit: int) -> Response:
    shown = lines[:limit]
    cursor = str(shown[-1].intro.id) if len(lines) > limit else None
    return json(schemas.IntroListOut(items=[intro_out(line) for line in shown], next_cursor=cursor))


LIST_DOC = Doc(HTTP_200=schemas.IntroListOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut)


@guard("investors.dealflow", load=perms.load_investor)
@api.validate(query=schemas.ListQuery, resp=LIST_DOC, tags=[TAG], security=SECURED)
async def investor_intros(request: Request, query: schemas.ListQuery) -> Response:
    """The investor's intro requests, newest first; contacts only on accepted ones."""
    lines = await investors.intros_of_investor(
        request.state.obj.id, before_id=query.cursor, limit=query.limit + 1
    )
    return await _intro_page(lines, query.limit)


@guard("investors.startup", load=perms.load_startup)
@api.validate(query=schemas.ListQuery, resp=LIST_DOC, tags=[TAG], security=SECURED)
async def startup_intros(request: Request, query: schemas.ListQuery) -> Response:
    """The intro requests a startup received, newest first, to accept or decline."""
    lines = await investors.intros_of_startup(
        request.state.obj.id, before_id=query.cursor, limit=query.limit + 1
    )
    return await _intro_page(lines, query.limit)


@guard("investors.startup", load=perms.load_startup)
@api.validate(
    query=schemas.ListQuery,
    resp=Doc(HTTP_200=schemas.ViewersOut, HTTP_404=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def startup_viewers(request: Request, query: schemas.ListQuery) -> Response:
    """Which investors viewed the startup's detail, how often and when last (latest first)."""
    offset = query.cursor or 0
    views = await investors.viewers_of(request.state.obj.id, offset=offset, limit=query.limit + 1)
    shown = views[: query.limit]
    return json(
        schemas.ViewersOut(
            items=[
                schemas.ViewerOut(
                    investor_organization_id=v.investor_id,
                    investor_name=v.investor.name,
                    views=v.views,
                    last_viewed_at=v.last_viewed_at,
                )
                for v in shown
            ],
            next_cursor=str(offset + query.limit) if len(views) > query.limit else None,
        )
    )


# --- city picks ----------------------------------------------------------------------------


@guard("investors.city_picks", load=perms.load_city)
@api.validate(
    json=schemas.PickIn,
    resp=Doc(HTTP_200=schemas.PickSaved, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def add_pick(request: Request, json: schemas.PickIn) -> Response:
    """A city's curators pin a startup of the deal flow, with a note, on top of every
    investor's list."""
    async with transaction(request):
        saved = await investors.pick(
            context(request), request.state.obj, json.startup_organization_id, note=json.note
        )
    return json_out(
        schemas.PickSaved(
            city_organization_id=saved.city_id,
            startup_organization_id=saved.startup_id,
            note=saved.note,
        )
    )


def json_out(model: schemas.PickSaved) -> Response:
    return json(model)


@guard("investors.city_picks", load=perms.load_city)
@api.validate(
    resp=Doc(HTTP_204=None, HTTP_403=ErrorOut, HTTP_404=ErrorOut), tags=[TAG], security=SECURED
)
async def remove_pick(request: Request) -> Response:
    """Unpin a startup from the city's picks (harmless if it was not pinned)."""
    async with transaction(request):
        await investors.unpick(context(request), request.state.obj, path_int(request, "startup_id"))
    return Response(status_code=204)


routes: list[BaseRoute] = [
    Route(f"{INVESTOR}/dealflow", dealflow, methods=["GET"]),
    Route(f"{INVESTOR}/dealflow.csv", dealflow_csv, methods=["GET"]),
    Route(f"{INVESTOR}/startups/{{startup_id:int}}", startup_detail, methods=["GET"]),
    Route(f"{INVESTOR}/watchlist", watchlist, methods=["GET"]),
    Route(f"{INVESTOR}/watchlist/{{startup_id:int}}", watch, methods=["PUT"]),
    Route(f"{INVESTOR}/watchlist/{{startup_id:int}}", unwatch, methods=["DELETE"]),
    Route(f"{INVESTOR}/intro-requests", investor_intros, methods=["GET"]),
    Route(f"{V1}/startups/{{startup_id:int}}/intro-requests", startup_intros, methods=["GET"]),
    Route(f"{V1}/startups/{{startup_id:int}}/viewers", startup_viewers, methods=["GET"]),
    Route(f"{V1}/intro-requests", request_intro, methods=["POST"]),
    Route(INTRO, get_intro, methods=["GET"]),
    Route(f"{INTRO}/accept", accept_intro, methods=["POST"]),
    Route(f"{INTRO}/decline", decline_intro, methods=["POST"]),
    Route(f"{CITY}/picks", add_pick, methods=["POST"]),
    Route(f"{CITY}/picks/{{startup_id:int}}", remove_pick, methods=["DELETE"]),
]
