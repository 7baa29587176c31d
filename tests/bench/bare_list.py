"""The baseline of the list figure: a bare Starlette route running the public list's SQL.

The statement comes from `service.challenges.repository.list_sql`, as in the app; it runs
with raw asyncpg on a pool opened in the lifespan (as many connections as the app's pool,
Tortoise's asyncpg default of 1 to 5), and the rows go out as JSON with the same page
cursor. It reads DATABASE_URL like the app.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.challenges.repository import ChallengeFilters, encode_cursor, list_sql

POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 5
JSON_COLUMNS = ("sdgs", "eligible_kinds")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    dsn = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    pool = await asyncpg.create_pool(dsn, min_size=POOL_MIN_SIZE, max_size=POOL_MAX_SIZE)
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


def _jsonable(record: asyncpg.Record) -> dict[str, Any]:
    row = dict(record)
    for key in JSON_COLUMNS:
        row[key] = json.loads(row[key])
    for key, value in row.items():
        if isinstance(value, datetime):
            row[key] = value.isoformat()
    return row


async def challenges(request: Request) -> Response:
    limit = int(request.query_params.get("limit", "20"))
    filters = ChallengeFilters(area=request.query_params.get("area", ""))
    statement, params = list_sql(filters, dialect="postgres", cursor=None, limit=limit)
    pool: asyncpg.Pool = request.app.state.pool
    rows = await pool.fetch(statement, *params)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last["published_at"], last["id"])
    return JSONResponse(
        {"items": [_jsonable(row) for row in rows[:limit]], "next_cursor": next_cursor}
    )


app = Starlette(routes=[Route("/api/v1/challenges", challenges)], lifespan=lifespan)
