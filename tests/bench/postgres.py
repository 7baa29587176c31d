"""A PostgreSQL database of the bench's own for the list figure: created, migrated, seeded, dropped.

The database gets a random name on the server given by `--postgres-url` (by default the local
one, user postgres), the app's own migrations (`python -m service migrate`), and challenges
written with one COPY; `VACUUM (ANALYZE)` then gives the planner its statistics and leaves
autovacuum nothing to do during the runs, and a checkpoint writes the new pages out first.
`drop()` removes the database; the harness calls it on every way out (errors and Ctrl-C
included).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg

from service.challenges.models import ChallengeStatus
from service.config import ROOT
from service.core.vocab import Area
from tests.bench.servers import BenchError

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
CONNECT_TIMEOUT = 3.0
MIGRATE_TIMEOUT = 300.0

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


@contextlib.asynccontextmanager
async def _connect(url: str) -> AsyncIterator[Any]:
    connection = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    try:
        yield connection
    except BaseException:
        # Interrupted mid-statement (Ctrl-C in a COPY): no goodbye, the socket just closes.
        connection.terminate()
        raise
    await connection.close()


@dataclass(frozen=True)
class SeedReport:
    challenges: int
    public: int
    organizations: int
    migrate_seconds: float
    seed_seconds: float
    # VACUUM (ANALYZE) and the checkpoint.
    analyze_seconds: float


class BenchDatabase:
    """One database on a local PostgreSQL server; nothing else on that server is touched."""

    def __init__(self, admin_url: str = DEFAULT_ADMIN_URL) -> None:
        parts = urlsplit(admin_url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise BenchError(f"not a PostgreSQL URL: {admin_url}")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5432
        self.user = parts.username or "postgres"
        self.admin_url = admin_url.replace("postgres://", "postgresql://", 1)
        self.name = f"civic_bench_{uuid.uuid4().hex[:10]}"
        # Tortoise reads `postgres://`; asyncpg reads both.
        self.url = parts._replace(scheme="postgres", path=f"/{self.name}").geturl()
        self.server_version = ""
        self._created = False

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def unavailable(self) -> str | None:
        """Why this server cannot be used (None: it can)."""
        if self.host not in LOCAL_HOSTS:
            return f"{self.host} is not this machine; only a local PostgreSQL is used"
        try:
            with socket.create_connection((self.host, self.port), timeout=CONNECT_TIMEOUT):
                pass
        except OSError as exc:
            return f"nothing listens on {self.where} ({exc.strerror or exc})"
        try:
            self.server_version = _run(self._version())
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            return f"cannot sign in to {self.where} as {self.user}: {exc}"
        return None

    async def _version(self) -> str:
        async with _connect(self.admin_url) as connection:
            version = await connection.fetchval("SHOW server_version")
        return str(version).split()[0]

    def create(self, env: dict[str, str], challenges: int) -> SeedReport:
        """Create, migrate and seed the database; the caller drops it whatever happens."""
        self._created = True
        _run(self._admin(f'CREATE DATABASE "{self.name}"'))
        started = time.monotonic()
        self._migrate(env)
        migrated = time.monotonic()
        public, organizations = _run(seed(self.url, challenges))
        seeded = time.monotonic()
        _run(self._settle())
        return SeedReport(
            challenges=challenges,
            public=public,
            organizations=organizations,
            migrate_seconds=migrated - started,
            seed_seconds=seeded - migrated,
            analyze_seconds=time.monotonic() - seeded,
        )

    def _migrate(self, env: dict[str, str]) -> None:
        argv = [sys.executable, "-m", "service", "migrate"]
        try:
            completed = subprocess.run(
                argv,
                env={**env, "DATABASE_URL": self.url},
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=MIGRATE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise BenchError(
                f"`python -m service migrate` on {self.name} still running after "
                f"{MIGRATE_TIMEOUT:.0f} s (stopped)"
            ) from exc
        if completed.returncode != 0:
            raise BenchError(
                f"`python -m service migrate` on {self.name} failed ({completed.returncode}):\n"
                f"{completed.stdout}{completed.stderr}"
            )

    def backend_pids(self) -> list[int]:
        """Server processes serving connections to this database (the servers' pools)."""
        return _run(self._backend_pids())

    async def _backend_pids(self) -> list[int]:
        async with _connect(self.admin_url) as connection:
            rows = await connection.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                self.name,
            )
        return [int(row["pid"]) for row in rows]

    def drop(self) -> None:
        """Drop the database (its connections are ended first). Safe to call twice."""
        if not self._created:
            return
        _run(self._drop())
        self._created = False

    async def _drop(self) -> None:
        async with _connect(self.admin_url) as connection:
            if connection.get_server_version().major >= 13:
                await connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                return
            await connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                self.name,
            )
            await connection.execute(f'DROP DATABASE IF EXISTS "{self.name}"')

    async def _admin(self, statement: str) -> None:
        async with _connect(self.admin_url) as connection:
            await connection.execute(statement)

    async def _settle(self) -> None:
        async with _connect(self.url) as connection:
            await connection.execute("VACUUM (ANALYZE)")
            # Only a superuser may; without it the server writes the pages out when it will.
            with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
                await connection.execute("CHECKPOINT")


def pin(pids: list[int], cpu: int) -> int:
    """Moves processes to one core; returns how many moved (gone ones are skipped)."""
    moved = 0
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.sched_setaffinity(pid, {cpu})
            moved += 1
    return moved


# --- seed data ---

ORGANIZATIONS = [
    ("City of Valparaíso", "CL", "Valparaíso"),
    ("Municipality of Porto Alegre", "BR", "Rio Grande do Sul"),
    ("Lisbon City Council", "PT", "Lisboa"),
    ("Ayuntamiento de Valencia", "ES", "Comunitat Valenciana"),
    ("Prefeitura de Recife", "BR", "Pernambuco"),
    ("Gobierno Regional de Biobío", "CL", "Biobío"),
    ("Câmara Municipal do Porto", "PT", "Norte"),
    ("Diputación de Granada", "ES", "Andalucía"),
]
ZONE = {
    "CL": "America/Santiago",
    "BR": "America/Sao_Paulo",
    "PT": "Europe/Lisbon",
    "ES": "Europe/Madrid",
}
CURRENCY = {"CL": "CLP", "BR": "BRL", "PT": "EUR", "ES": "EUR"}
APPLICANT_KINDS = ["research_center", "startup", "university"]
TOPICS = [
    "bus lanes",
    "bike sharing",
    "street lighting",
    "school meals",
    "flood warnings",
    "waste sorting",
    "leak detection",
    "heat islands",
    "open data",
    "clinic queues",
    "market stalls",
    "tree canopy",
    "noise mapping",
    "parking sensors",
    "river cleanup",
]
ACTIONS = ["Cut delays in", "Measure", "Rethink", "Digitise", "Scale up", "Fix", "Plan"]

CHALLENGE_COLUMNS = [
    "organization_id",
    "title",
    "summary",
    "problem_statement",
    "language",
    "area",
    "sdgs",
    "region",
    "eligible_kinds",
    "eligible_regions",
    "reward_amount_minor",
    "currency",
    "opens_at",
    "closes_at",
    "judging_ends_at",
    "status",
    "blind_judging",
    "search_text",
    "created_at",
    "updated_at",
    "published_at",
    "cancelled_at",
    "cancel_reason",
    "reward_reference_currency",
    "reward_reference_source",
]
S = ChallengeStatus
# After judging ends, where a challenge stands.
SETTLED = [S.judging, S.awarded, S.awarded, S.in_delivery, S.completed, S.completed]


def _status(rng: random.Random, now: datetime, opens: datetime, closes: datetime) -> S:
    if rng.random() < 0.04:
        return S.cancelled
    if now < opens:
        return S.published
    if now < closes:
        return S.open
    if now < closes + timedelta(days=30):
        return rng.choice([S.closed, S.judging])
    return rng.choice(SETTLED)


def challenge_rows(
    count: int, organizations: list[tuple[int, str, str]], now: datetime, rng: random.Random
) -> Iterator[tuple[Any, ...]]:
    """Challenges of every area; about 94% public (published_at set), the rest drafts or
    cancelled before publication; dates over the last three years."""
    areas = list(Area)
    for number in range(count):
        org_id, country, region = organizations[number % len(organizations)]
        area = areas[rng.randrange(len(areas))]
        topic = TOPICS[rng.randrange(len(TOPICS))]
        title = f"{ACTIONS[rng.randrange(len(ACTIONS))]} {topic} in {region} #{number}"
        summary = f"A {area.value.replace('_', ' ')} challenge on {topic} for {region}."
        problem = (
            f"Residents of {region} report problems with {topic}. The current approach is slow "
            f"and costly; we want tested ideas that work within a year and a public budget."
        )
        created = now - timedelta(days=rng.uniform(0, 3 * 365))
        published: datetime | None = created + timedelta(days=rng.uniform(0, 10))
        opens = (published or created) + timedelta(days=rng.uniform(0, 30))
        closes = opens + timedelta(days=rng.uniform(30, 120))
        judging_ends = closes + timedelta(days=rng.uniform(20, 60))
        roll = rng.random()
        if roll < 0.05:
            status, published = S.draft, None
        elif roll < 0.06:
            status, published = S.cancelled, None
        else:
            status = _status(rng, now, opens, closes)
        cancelled = (published or created) + timedelta(days=1) if status is S.cancelled else None
        sdgs = sorted(rng.sample(range(1, 18), rng.randint(1, 3)))
        kinds = sorted(rng.sample(APPLICANT_KINDS, rng.randint(1, 3)))
        yield (
            org_id,
            title,
            summary,
            problem,
            "en",
            area.value,
            json.dumps(sdgs, separators=(",", ":")),
            region,
            json.dumps(kinds, separators=(",", ":")),
            "[]",
            rng.randrange(5_000, 500_000) * 100,
            CURRENCY[country],
            opens,
            closes,
            judging_ends,
            status.value,
            rng.random() < 0.2,
            f"{title} {summary} {problem}".lower(),
            created,
            published or created,
            published,
            cancelled,
            "Budget withdrawn." if cancelled else "",
            "",
            "",
        )


async def seed(url: str, count: int, *, random_seed: int = 20240501) -> tuple[int, int]:
    """Writes the organizations and `count` challenges; returns (public challenges, orgs)."""
    rng = random.Random(random_seed)
    now = datetime.now(UTC)
    # No transaction: the database is the bench's own, and dropped whole on any failure.
    async with _connect(url) as connection:
        organizations = []
        for name, country, region in ORGANIZATIONS:
            org_id = await connection.fetchval(
                "INSERT INTO organizations (name, kind, country, region, time_zone, "
                "verified_at, created_at) VALUES ($1, 'government', $2, $3, $4, $5, $5) "
                "RETURNING id",
                name,
                country,
                region,
                ZONE[country],
                now - timedelta(days=4 * 365),
            )
            organizations.append((int(org_id), country, region))
        await connection.copy_records_to_table(
            "challenges",
            records=challenge_rows(count, organizations, now, rng),
            columns=CHALLENGE_COLUMNS,
        )
        public = await connection.fetchval(
            "SELECT count(*) FROM challenges WHERE published_at IS NOT NULL AND status <> 'draft'"
        )
    return int(public), len(organizations)
