"""The deal-flow figure: a page of 20 of an investor's ranking over 100,000 startups.

Seeded into the list figure's database after its challenges: 100,000 verified startups with
deal-flow profiles (nine in ten opted in), one verified investor organization with one member,
its ranking of every startup (100,000 stored matches), and a track record for one in five of
the first 2,000 ranked (an award on a seeded challenge, with two approved milestones), so the
page's track-record statement has work to do.

The candidate is the full app, signed in as the investor's member: a pure ASGI wrapper puts a
fresh bearer token on each request (the load generators send no headers), so every request
goes through the token check, the actor's memberships, the permission guard and the deal-flow
service. The baseline (bare_dealflow.py) runs the same statements with raw asyncpg.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.bench import servers
from tests.bench.servers import BenchError, ServerSpec

STARTUPS = 100_000
PAGE = 20
# Explicit ids far above the seeded ones: the sequences are left alone.
INVESTOR_ID = 2_000_000_000
USER_ID = 2_000_000_000
PATH = f"/api/v1/investors/{INVESTOR_ID}/dealflow?limit={PAGE}"
SECTORS = ["mobility", "energy", "water", "waste", "health", "education", "environment"]
STAGES = ["idea", "pre_seed", "seed", "series_a", "series_b", "growth"]

APP_DEALFLOW = ServerSpec(
    name="app-dealflow",
    description="the same app on the seeded database, signed in as the investor's member "
    "(a bearer token added by a pure ASGI wrapper)",
    target="tests.bench.dealflow:create_app",
    factory=True,
    ready_paths=("/healthz", "/readyz"),
)
BARE_DEALFLOW = ServerSpec(
    name="bare-dealflow",
    description="bare Starlette route running the deal flow's statements "
    "(service.investors.repository) with raw asyncpg, a pool of 1-5 connections",
    target="tests.bench.bare_dealflow:app",
    ready_paths=(PATH,),
)


def page_answer(answer: servers.Response) -> object:
    """The same page: the same startups in the same order, and the same next cursor."""
    try:
        body = json.loads(answer.body)
        ids = [item["startup_organization_id"] for item in body["items"]]
        wins = [len(item["track_record"]["challenges_won"]) for item in body["items"]]
        cursor = body["next_cursor"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"not a page of the deal flow ({exc}): {answer.body[:300]!r}") from exc
    if len(ids) != PAGE or not cursor:
        raise BenchError(f"a page of {len(ids)} startups, expected a full page of {PAGE}")
    return answer.status, ids, wins, cursor


class WithToken:
    """Signs every request in as the bench investor's member (a token renewed every 5 min)."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self.app = app
        self.secret = secret
        self.header = b""
        self.renew_at = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            now = time.monotonic()
            if now >= self.renew_at:
                from service.accounts import tokens

                token = tokens.issue(self.secret, user_id=USER_ID, version=0, mfa=False)
                self.header = f"Bearer {token}".encode()
                self.renew_at = now + 300
            scope["headers"] = [*scope["headers"], (b"authorization", self.header)]
        await self.app(scope, receive, send)


def create_app() -> ASGIApp:
    from service.app import create_app as create_service_app

    app = create_service_app()
    return WithToken(app, app.state.settings.secret_key)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


async def seed(url: str, *, random_seed: int = 20261128) -> int:
    """Writes the startups, the investor, its ranking and some track records; returns the
    number of matches stored."""
    rng = random.Random(random_seed)
    now = datetime.now(UTC)
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        first = await connection.fetchval("SELECT COALESCE(MAX(id), 0) FROM organizations") + 1
        await connection.copy_records_to_table(
            "organizations",
            records=[
                (first + n, f"Startup {n}", "startup", "ES", "Madrid", "Europe/Madrid", now, now)
                for n in range(STARTUPS)
            ],
            columns=[
                "id",
                "name",
                "kind",
                "country",
                "region",
                "time_zone",
                "verified_at",
                "created_at",
            ],
        )
        await connection.execute(
            "SELECT setval(pg_get_serial_sequence('organizations', 'id'), $1)",
            first + STARTUPS,
        )
        await connection.copy_records_to_table(
            "startup_profiles",
            records=[
                (
                    first + n,
                    _json(rng.sample(SECTORS, rng.randint(1, 3))),
                    STAGES[rng.randrange(len(STAGES))],
                    rng.randrange(50, 5_000) * 100_000,
                    "EUR",
                    "Madrid",
                    f"Startup {n} builds tools for city services.",
                    rng.random() < 0.9,
                    rng.random() < 0.5,
                    now,
                    "{}",
                    0.0,
                )
                for n in range(STARTUPS)
            ],
            columns=[
                "organization_id",
                "sectors",
                "stage",
                "funding_ask_minor",
                "currency",
                "region",
                "text",
                "dealflow_opt_in",
                "share_scores",
                "updated_at",
                "track",
                "track_score",
            ],
        )
        await connection.execute(
            "INSERT INTO organizations (id, name, kind, country, region, time_zone, verified_at, "
            "created_at) VALUES ($1, 'Bench Ventures', 'investor', 'ES', 'Madrid', "
            "'Europe/Madrid', $2, $2)",
            INVESTOR_ID,
            now,
        )
        await connection.execute(
            "INSERT INTO users (id, email, name, password_hash, language, email_verified_at, "
            "is_operator, token_version, time_zone, created_at) VALUES "
            "($1, 'bench-investor@example.org', 'Bench Investor', NULL, 'en', $2, FALSE, 0, '', "
            "$2)",
            USER_ID,
            now,
        )
        await connection.execute(
            "INSERT INTO memberships (user_id, organization_id, role, created_at) "
            "VALUES ($1, $2, 'owner', $3)",
            USER_ID,
            INVESTOR_ID,
            now,
        )
        reasons = _json([{"code": "sector", "values": {"sectors": ["mobility"]}}])
        components = _json({"sector": 1.0, "stage": 0.5, "ticket": 1.0})
        order = list(range(STARTUPS))
        rng.shuffle(order)
        await connection.copy_records_to_table(
            "matches",
            records=[
                (
                    INVESTOR_ID,
                    first + n,
                    rank,
                    1.0 - rank / (STARTUPS + 1),
                    components,
                    reasons,
                    now,
                )
                for rank, n in enumerate(order, start=1)
            ],
            columns=[
                "investor_id",
                "startup_id",
                "rank",
                "score",
                "components",
                "reasons",
                "computed_at",
            ],
        )
        await _track_records(connection, [first + n for n in order[:2_000:5]], now)
        await connection.execute(
            "ANALYZE organizations, startup_profiles, matches, applications, awards, milestones"
        )
    finally:
        await connection.close()
    return STARTUPS


async def _track_records(connection: Any, startups: list[int], now: datetime) -> None:
    challenges = await connection.fetch(
        "SELECT id FROM challenges WHERE published_at IS NOT NULL ORDER BY id LIMIT $1",
        len(startups),
    )
    for startup_id, challenge in zip(startups, challenges, strict=False):
        application_id = await connection.fetchval(
            "INSERT INTO applications (challenge_id, organization_id, title, summary, proposal, "
            "team, budget_minor, lead_share_pct, status, created_at, updated_at, submitted_at) "
            "VALUES ($1, $2, 'Pilot', 'A pilot.', '', '', 0, 100, 'awarded', $3, $3, $3) "
            "RETURNING id",
            challenge["id"],
            startup_id,
            now,
        )
        award_id = await connection.fetchval(
            "INSERT INTO awards (challenge_id, application_id, amount_minor, currency, "
            "rationale, created_by_id, created_at) VALUES ($1, $2, 1000000, 'EUR', 'Best', 0, $3)"
            " RETURNING id",
            challenge["id"],
            application_id,
            now,
        )
        for position in range(2):
            await connection.execute(
                "INSERT INTO milestones (award_id, title, amount_minor, currency, due_at, "
                "position, status, evidence, return_reason, approved_at, created_at) VALUES "
                "($1, 'Step', 500000, 'EUR', $2, $3, 'approved', '', '', $2, $2)",
                award_id,
                now - timedelta(days=10),
                position,
            )
