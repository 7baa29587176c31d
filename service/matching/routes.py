"""API of the matching area: theses, startup profiles, recommended challenges, demo days."""

from __future__ import annotations

from typing import Any

from spectree import Response as Doc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from service.accounts.models import APPLICANT_KINDS, Organization, OrganizationKind
from service.accounts.permissions import guard, load_organization
from service.core import csv_export
from service.core.api import ErrorOut, api, json
from service.core.web import context, transaction
from service.matching import explain, schemas
from service.matching import service as matching
from service.matching.models import DemoDay, InvestorThesis, StartupProfile
from service.matching.permissions import load_demo_day

V1 = "/api/v1"
SECURED: dict[str, list[str]] = {"bearer": []}
TAGS = ["matching"]


def thesis_out(org: Organization, thesis: InvestorThesis | None) -> schemas.ThesisOut:
    if thesis is None:
        return schemas.ThesisOut(
            organization_id=org.id,
            sectors=[],
            stages=[],
            ticket_min_minor=None,
            ticket_max_minor=None,
            currency="EUR",
            regions=[],
            regions_strict=False,
            stages_strict=False,
            text="",
            ranked=org.is_verified,
        )
    return schemas.ThesisOut(
        organization_id=org.id,
        sectors=list(thesis.sectors),
        stages=list(thesis.stages),
        ticket_min_minor=thesis.ticket_min_minor,
        ticket_max_minor=thesis.ticket_max_minor,
        currency=thesis.currency,
        regions=list(thesis.regions),
        regions_strict=thesis.regions_strict,
        stages_strict=thesis.stages_strict,
        text=thesis.text,
        ranked=org.is_verified,
        updated_at=thesis.updated_at,
    )


def profile_out(org: Organization, profile: StartupProfile | None) -> schemas.ProfileOut:
    if profile is None:
        return schemas.ProfileOut(
            organization_id=org.id,
            sectors=[],
            stage=None,
            funding_ask_minor=None,
            currency="EUR",
            region=org.region,
            text="",
            dealflow_opt_in=False,
            share_scores=False,
            track=schemas.TrackOut(),
        )
    signals: dict[str, Any] = dict(profile.track or {})
    return schemas.ProfileOut(
        organization_id=org.id,
        sectors=list(profile.sectors),
        stage=profile.stage.value if profile.stage else None,
        funding_ask_minor=matching.funding_ask(org.kind, profile.funding_ask_minor),
        currency=profile.currency,
        region=profile.region,
        text=profile.text,
        dealflow_opt_in=profile.dealflow_opt_in,
        share_scores=profile.share_scores,
        track=schemas.TrackOut(
            **{k: v for k, v in signals.items() if k in schemas.TrackOut.model_fields},
            score=profile.track_score,
        ),
        updated_at=profile.updated_at,
    )


async def load_investor(request: Request) -> Organization:
    """The investor organization of the path (404 for any other kind, before the body)."""
    org = await load_organization(request)
    if org.kind is not OrganizationKind.investor:
        raise matching.NotAnInvestor()
    return org


async def load_applicant(request: Request) -> Organization:
    """The startup, university or research centre of the path (404 for any other kind)."""
    org = await load_organization(request)
    if org.kind not in APPLICANT_KINDS:
        raise matching.NotAnApplicant()
    return org


@guard("matching.edit", load=load_investor)
@api.validate(
    json=schemas.ThesisIn,
    resp=Doc(HTTP_200=schemas.ThesisOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=TAGS,
    security=SECURED,
)
async def put_thesis(request: Request, json: schemas.ThesisIn) -> Response:
    """Save the investor's thesis. Its deal flow is ranked again shortly after (only once
    the organization is verified)."""
    org = request.state.obj
    async with transaction(request):
        thesis = await matching.save_thesis(context(request), org, json)
    return _json(thesis_out(org, thesis))


@guard("matching.view", load=load_investor)
@api.validate(resp=Doc(HTTP_200=schemas.ThesisOut, HTTP_404=ErrorOut), tags=TAGS, security=SECURED)
async def get_thesis(request: Request) -> Response:
    """The investor's thesis (empty lists until it saves one)."""
    org = request.state.obj
    return _json(thesis_out(org, await matching.get_thesis(org.id)))


@guard("matching.edit", load=load_applicant)
@api.validate(
    json=schemas.ProfileIn,
    resp=Doc(HTTP_200=schemas.ProfileOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=TAGS,
    security=SECURED,
)
async def put_profile(request: Request, json: schemas.ProfileIn) -> Response:
    """Save the startup's deal-flow profile; its track record is read from the platform."""
    org = request.state.obj
    async with transaction(request):
        profile = await matching.save_profile(context(request), org, json)
    return _json(profile_out(org, profile))


@guard("matching.view", load=load_applicant)
@api.validate(resp=Doc(HTTP_200=schemas.ProfileOut, HTTP_404=ErrorOut), tags=TAGS, security=SECURED)
async def get_profile(request: Request) -> Response:
    """The startup's deal-flow profile and its track record."""
    org = request.state.obj
    return _json(profile_out(org, await matching.get_profile(org.id)))


def reasons_out(reasons: list[dict[str, Any]]) -> list[schemas.ReasonOut]:
    return [
        schemas.ReasonOut(code=str(r["code"]), values=dict(r["values"]), text=explain.render(r))
        for r in reasons
    ]


@guard("matching.recommendations", load=load_organization)
@api.validate(
    query=schemas.RecommendationQuery,
    resp=Doc(HTTP_200=schemas.RecommendationPage, HTTP_404=ErrorOut),
    tags=TAGS,
    security=SECURED,
)
async def recommended_challenges(request: Request, query: schemas.RecommendationQuery) -> Response:
    """Open and upcoming challenges ranked for the organization, with reasons (best first;
    one page: the list is short by design). Empty for cities and investors."""
    org = request.state.obj
    found = await matching.recommended_challenges(
        org.id, query.limit, settings=request.app.state.settings
    )
    items = [
        schemas.RecommendationOut(
            challenge_id=challenge.id,
            title=challenge.title,
            area=challenge.area.value,
            region=challenge.region,
            closes_at=challenge.closes_at,
            score=round(r.score, 6),
            components={k: round(v, 6) for k, v in r.components.items()},
            reasons=reasons_out(r.reasons),
        )
        for r, challenge in found
    ]
    return _json(schemas.RecommendationPage(items=items))


# --- demo days -----------------------------------------------------------------------------


def demo_day_out(day: DemoDay) -> schemas.DemoDayOut:
    return schemas.DemoDayOut(
        id=day.id,
        title=day.title,
        starts_at=day.starts_at,
        slot_minutes=day.slot_minutes,
        status=day.status.value,
        total_score=day.total_score,
        meetings=[
            schemas.MeetingOut(
                investor_id=int(m["investor_id"]),  # type: ignore[call-overload]
                startup_id=int(m["startup_id"]),  # type: ignore[call-overload]
                slot=int(m["slot"]),  # type: ignore[call-overload]
                starts_at=matching.meeting_start(day, int(m["slot"])),  # type: ignore[call-overload]
                score=float(m["score"]),  # type: ignore[arg-type]
            )
            for m in day.meetings
        ],
    )


@guard("operator")
@api.validate(
    json=schemas.DemoDayIn,
    resp=Doc(HTTP_202=schemas.DemoDayOut, HTTP_403=ErrorOut, HTTP_422=ErrorOut),
    tags=TAGS,
    security=SECURED,
)
async def create_demo_day(request: Request, json: schemas.DemoDayIn) -> Response:
    """Schedule a demo day: the meetings that maximise the total match score under each
    investor's slots and each startup's maximum, computed by a job (status `queued`, then
    `scheduled`)."""
    async with transaction(request):
        day = await matching.create_demo_day(context(request), json)
    return _json(demo_day_out(day), 202)


@guard("operator", load=load_demo_day)
@api.validate(
    resp=Doc(HTTP_200=schemas.DemoDayOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut),
    tags=TAGS,
    security=SECURED,
)
async def get_demo_day(request: Request) -> Response:
    """A demo day and its meetings."""
    return _json(demo_day_out(request.state.obj))


async def _names(day: DemoDay) -> dict[int, str]:
    ids = {int(m["investor_id"]) for m in day.meetings}  # type: ignore[call-overload]
    ids |= {int(m["startup_id"]) for m in day.meetings}  # type: ignore[call-overload]
    return dict(await Organization.filter(id__in=sorted(ids)).values_list("id", "name"))


@guard("operator", load=load_demo_day)
@api.validate(
    resp=Doc(
        HTTP_200=(None, "The meetings as CSV (text/csv)"),
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
    ),
    tags=TAGS,
    security=SECURED,
    skip_validation=True,
)
async def demo_day_csv(request: Request) -> Response:
    """The demo day's meetings as CSV: slot, start, end, investor, startup, score."""
    day = request.state.obj
    return csv_export.response(
        matching.demo_day_csv(day, await _names(day)), f"demo-day-{day.id}.csv"
    )


@guard("operator", load=load_demo_day)
@api.validate(
    resp=Doc(
        HTTP_200=(None, "The meetings as iCalendar (text/calendar)"),
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
    ),
    tags=TAGS,
    security=SECURED,
    skip_validation=True,
)
async def demo_day_ics(request: Request) -> Response:
    """The demo day's meetings as an iCalendar file, one event per meeting."""
    day = request.state.obj
    host = request.url.hostname or "civic-challenges"
    return Response(
        matching.demo_day_ics(day, await _names(day), host=host),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="demo-day-{day.id}.ics"'},
    )


def _json(model: Any, status: int = 200) -> Response:
    return json(model, status)


ORG = f"{V1}/organizations/{{organization_id:int}}"
routes: list[BaseRoute] = [
    Route(f"{V1}/investors/{{organization_id:int}}/thesis", put_thesis, methods=["PUT"]),
    Route(f"{V1}/investors/{{organization_id:int}}/thesis", get_thesis, methods=["GET"]),
    Route(f"{V1}/startups/{{organization_id:int}}/profile", put_profile, methods=["PUT"]),
    Route(f"{V1}/startups/{{organization_id:int}}/profile", get_profile, methods=["GET"]),
    Route(f"{ORG}/recommended-challenges", recommended_challenges, methods=["GET"]),
    Route(f"{V1}/demo-days", create_demo_day, methods=["POST"]),
    Route(f"{V1}/demo-days/{{demo_day_id:int}}", get_demo_day, methods=["GET"]),
    Route(f"{V1}/demo-days/{{demo_day_id:int}}/schedule.csv", demo_day_csv, methods=["GET"]),
    Route(f"{V1}/demo-days/{{demo_day_id:int}}/schedule.ics", demo_day_ics, methods=["GET"]),
]
