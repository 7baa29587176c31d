"""The baseline of the deal-flow figure: a bare Starlette route running the deal flow's SQL.

The page of the ranking, which of them are watched and the city picks come from
`service.investors.repository`, as in the app; the won challenges of its startups (with their
delivered milestones) are read in one statement here, where the app reads the whole track
record through `service.matching.track.track_records` (a fixed few statements).
They run with raw asyncpg on a pool opened in the lifespan (1 to 5 connections, like the
app's), and the page goes out as JSON. No sign-in, no permission check. It reads
DATABASE_URL like the app.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.config import Settings
from service.investors.repository import DELIVERED, Filters, dealflow_sql, picks_sql, watched_sql
from service.matching.scoring import floor_threshold

POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 5
FLOOR = floor_threshold(float(Settings.model_fields["matching_preview_floor"].default))
_DELIVERED_SQL = ", ".join(f"'{s}'" for s in DELIVERED)
# Every award of the page's startups, with its challenge, city and delivered milestones (the
# statuses are the track record's fixed constants; the ids travel as a parameter).
WINS_SQL = (
    "SELECT ap.organization_id AS startup_id, c.id AS challenge_id, "  # noqa: S608
    "c.title AS challenge_title, c.organization_id AS city_id, city.name AS city_name, "
    "(SELECT COUNT(*) FROM milestones ms WHERE ms.award_id = aw.id "
    f"AND ms.status IN ({_DELIVERED_SQL})) AS delivered "
    "FROM awards aw JOIN applications ap ON ap.id = aw.application_id "
    "JOIN challenges c ON c.id = aw.challenge_id "
    "JOIN organizations city ON city.id = c.organization_id "
    "WHERE ap.organization_id = ANY($1::int[]) ORDER BY aw.id"
)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    dsn = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    pool = await asyncpg.create_pool(dsn, min_size=POOL_MIN_SIZE, max_size=POOL_MAX_SIZE)
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


async def dealflow(request: Request) -> Response:
    investor_id = int(request.path_params["investor_id"])
    limit = int(request.query_params.get("limit", "20"))
    pool: asyncpg.Pool = request.app.state.pool
    statement, params = dealflow_sql(
        "postgres", investor_id, Filters(), limit=limit + 1, offset=0, floor=FLOOR
    )
    rows = await pool.fetch(statement, *params)
    page = rows[:limit]
    ids = [row["startup_id"] for row in page]
    wins: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await pool.fetch(WINS_SQL, ids):
        wins[row["startup_id"]].append(
            {
                "challenge_id": row["challenge_id"],
                "title": row["challenge_title"],
                "url": f"/challenges/{row['challenge_id']}",
                "city_organization_id": row["city_id"],
                "city_name": row["city_name"],
                "milestones_delivered": row["delivered"],
            }
        )
    statement, params = watched_sql("postgres", investor_id, ids)
    watched = {row["startup_id"] for row in await pool.fetch(statement, *params)}
    statement, params = picks_sql("postgres", limit=10)
    picks = [dict(row) for row in await pool.fetch(statement, *params)]
    items = [
        {
            "startup_organization_id": row["startup_id"],
            "name": row["name"],
            "rank": row["rank"],
            "score": row["score"],
            "reasons": json.loads(row["reasons"]),
            "components": json.loads(row["components"]),
            "sectors": json.loads(row["sectors"]),
            "stage": row["stage"],
            "funding_ask": {"amount_minor": row["funding_ask_minor"], "currency": row["currency"]},
            "region": row["region"],
            "description": row["text"],
            "watched": row["startup_id"] in watched,
            "track_record": {
                "challenges_won": wins[row["startup_id"]],
                "milestones_delivered": sum(
                    w["milestones_delivered"] for w in wins[row["startup_id"]]
                ),
            },
        }
        for row in page
    ]
    return JSONResponse(
        {
            "items": items,
            "next_cursor": str(limit) if len(rows) > limit else None,
            "city_picks": [{"startup_organization_id": p["startup_id"]} for p in picks],
        }
    )


app = Starlette(
    routes=[Route("/api/v1/investors/{investor_id:int}/dealflow", dealflow)], lifespan=lifespan
)
