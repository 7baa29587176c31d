"""Open data API: OCDS release packages and CSV datasets, public and read-only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from spectree import Response as Doc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.accounts.permissions import guard, path_int
from service.challenges.models import Challenge
from service.core import csv_export
from service.core.api import ErrorOut, api, json
from service.core.errors import NotFound
from service.opendata import dashboards, datasets, ecosystem, ocds, pages, repository, schemas
from service.opendata.ocds import History, Publication

V1 = "/api/v1/opendata"
# Challenges read per round of queries when a whole dataset is written.
CHUNK = 500


class BulkQuery(BaseModel):
    cursor: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="From links.next of the previous page"
    )
    limit: int = Field(
        default=ocds.PAGE_SIZE, ge=1, le=ocds.MAX_PAGE_SIZE, description="Challenges per page"
    )


def publication(request: Request) -> Publication:
    settings = request.app.state.settings
    return Publication(
        prefix=settings.ocds_prefix,
        base_url=settings.base_url.rstrip("/"),
        publisher=settings.opendata_publisher,
    )


async def load_public_challenge(request: Request) -> Challenge:
    """Only a published challenge is open data: a draft is not found, even by its city."""
    challenge = await repository.public_challenge(path_int(request, "challenge_id"))
    if challenge is None:
        raise NotFound("No such challenge.")
    return challenge


# --- OCDS ----------------------------------------------------------------------------------


def _ocds(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, headers=headers)


@guard("public", load=load_public_challenge)
@api.validate(
    resp=Doc(HTTP_200=(None, "An OCDS 1.1 release package (application/json)"), HTTP_404=ErrorOut),
    tags=["opendata"],
    # A document of the Open Contracting Data Standard, validated against its own schema
    # in the tests, not against a model here.
    skip_validation=True,
)
async def challenge_package(request: Request) -> Response:
    """The challenge's OCDS 1.1 release package: one release per change (publication, each
    move, amendment, award, contract and payment), with stable ids (public once published;
    see the open data page)."""
    pub = publication(request)
    challenge = request.state.obj
    (history,) = await repository.histories([challenge])
    return _ocds(
        ocds.package(
            ocds.releases(history, pub),
            uri=f"{pub.base_url}{V1}/ocds/{challenge.id}",
            publication=pub,
            now=datetime.now(UTC),
        )
    )


@guard("public")
@api.validate(
    query=BulkQuery,
    resp=Doc(HTTP_200=(None, "An OCDS 1.1 release package (application/json)")),
    tags=["opendata"],
)
async def bulk_package(request: Request, query: BulkQuery) -> Response:
    """The releases of every published challenge, a page of challenges at a time (by id);
    the next page's address is in `links.next` and in the Link header."""
    pub = publication(request)
    challenges, cursor = await repository.page_of_challenges(query.cursor, query.limit)
    items = [r for h in await repository.histories(challenges) for r in ocds.releases(h, pub)]
    here = f"{pub.base_url}{V1}/ocds?limit={query.limit}"
    uri = here + (f"&cursor={query.cursor}" if query.cursor else "")
    next_uri = f"{here}&cursor={cursor}" if cursor else None
    return _ocds(
        ocds.package(items, uri=uri, publication=pub, now=datetime.now(UTC), next_uri=next_uri),
        headers={"Link": f'<{next_uri}>; rel="next"'} if next_uri else None,
    )


# --- CSV -----------------------------------------------------------------------------------


async def _all_histories() -> AsyncIterator[list[History]]:
    cursor = None
    while True:
        challenges, cursor = await repository.page_of_challenges(cursor, CHUNK)
        yield await repository.histories(challenges)
        if cursor is None:
            return


def _csv(text: str, filename: str) -> Response:
    return csv_export.response(text, filename)


CSV_DOC = Doc(HTTP_200=(None, "The dataset as CSV (text/csv); columns: see /opendata"))


@guard("public")
@api.validate(resp=CSV_DOC, tags=["opendata"], skip_validation=True)
async def challenges_csv(request: Request) -> Response:
    """Every published challenge, its terms, state and money, as CSV."""
    pub = publication(request)
    rows: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    async for chunk in _all_histories():
        sums = await repository.ledger_sums([h.challenge.id for h in chunk])
        rows += datasets.challenge_rows(
            chunk, sums, prefix=pub.prefix, base_url=pub.base_url, now=now
        )
    return _csv(datasets.write(datasets.CHALLENGES, rows), datasets.CHALLENGES.filename)


@guard("public")
@api.validate(resp=CSV_DOC, tags=["opendata"], skip_validation=True)
async def awards_csv(request: Request) -> Response:
    """Every award of a published challenge, with its winners and what was paid, as CSV."""
    prefix = publication(request).prefix
    rows: list[dict[str, Any]] = []
    async for chunk in _all_histories():
        rows += datasets.award_rows(chunk, prefix=prefix)
    return _csv(datasets.write(datasets.AWARDS, rows), datasets.AWARDS.filename)


@guard("public")
@api.validate(resp=CSV_DOC, tags=["opendata"], skip_validation=True)
async def milestones_csv(request: Request) -> Response:
    """Every milestone of every award, with its due date and progress, as CSV."""
    rows: list[dict[str, Any]] = []
    async for chunk in _all_histories():
        rows += datasets.milestone_rows(chunk)
    return _csv(datasets.write(datasets.MILESTONES, rows), datasets.MILESTONES.filename)


@guard("public")
@api.validate(resp=CSV_DOC, tags=["opendata"], skip_validation=True)
async def payouts_csv(request: Request) -> Response:
    """Every payment made to a winner, as the ledger recorded it, as CSV."""
    rows: list[dict[str, Any]] = []
    async for chunk in _all_histories():
        rows += datasets.payout_rows(chunk)
    return _csv(datasets.write(datasets.PAYOUTS, rows), datasets.PAYOUTS.filename)


@guard("public")
@api.validate(resp=CSV_DOC, tags=["opendata"], skip_validation=True)
async def ledger_csv(request: Request) -> Response:
    """The ledger of every published challenge, as CSV (the columns of the per-challenge and
    per-city ledger CSVs)."""
    from service.rewards.routes import ledger_csv as write_ledger

    return await write_ledger(repository.public_ledger(), datasets.LEDGER.filename)


# --- dashboards and the ecosystem map ------------------------------------------------------


@guard("public")
@api.validate(resp=Doc(HTTP_200=schemas.DashboardOut), tags=["opendata"])
async def platform_dashboard(request: Request) -> Response:
    """The figures of the platform's dashboard: challenges by state and area, money committed,
    escrowed and paid by month per currency, days from award to first payment, cities."""
    d = await dashboards.build(dashboards.Scope(), now=datetime.now(UTC))
    return json(schemas.dashboard_out(d))


@guard("public", load=pages.load_city)
@api.validate(resp=Doc(HTTP_200=schemas.DashboardOut, HTTP_404=ErrorOut), tags=["opendata"])
async def city_dashboard(request: Request) -> Response:
    """The figures of one city's dashboard (a government organization), as for the platform."""
    d = await dashboards.build(dashboards.Scope(request.state.obj), now=datetime.now(UTC))
    return json(schemas.dashboard_out(d))


@guard("public")
@api.validate(
    query=schemas.EcosystemQuery, resp=Doc(HTTP_200=schemas.EcosystemOut), tags=["opendata"]
)
async def ecosystem_map(request: Request, query: schemas.EcosystemQuery) -> Response:
    """Organizations that worked together and their ties (award: a city and the winner it
    awarded; consortium: an application's lead and a partner that accepted), from public
    facts only. Filtered by kind or region, the chosen organizations come with the ties they
    have and the organizations at the other end."""
    g = ecosystem.filtered(await ecosystem.graph(), kind=query.kind, region=query.region)
    return json(schemas.ecosystem_out(g))


routes = [
    Route(f"{V1}/dashboard", platform_dashboard, methods=["GET"]),
    Route(f"{V1}/cities/{{organization_id:int}}/dashboard", city_dashboard, methods=["GET"]),
    Route(f"{V1}/ecosystem", ecosystem_map, methods=["GET"]),
    Route(f"{V1}/ocds", bulk_package, methods=["GET"]),
    Route(f"{V1}/ocds/{{challenge_id:int}}", challenge_package, methods=["GET"]),
    Route(f"{V1}/challenges.csv", challenges_csv, methods=["GET"]),
    Route(f"{V1}/awards.csv", awards_csv, methods=["GET"]),
    Route(f"{V1}/milestones.csv", milestones_csv, methods=["GET"]),
    Route(f"{V1}/payouts.csv", payouts_csv, methods=["GET"]),
    Route(f"{V1}/ledger.csv", ledger_csv, methods=["GET"]),
]
