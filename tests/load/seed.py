"""The load database at national scale, written with COPY into a database of its own.

`civic_load` (see tests/load/data.py) is created on the local PostgreSQL server, migrated with
the app's own migrations (`service.db.migrate`), then filled in one pass of COPY statements:
100,000 challenges, 200,000 proposals with 1,000,000 supports and 100,000 comments, 20,000
applications (1,000 of them the deadline rush's drafts), 1,000,000 ledger entries (balanced
funding transactions), 100,000 startups ranked for 5,000 investors (their top 200 each), and
the residents, applicants and investors who sign in. One password hash serves every account
(hashing 100,000 passwords would take longer than the rest of the seed). The small scale
(`--scale small`, database `civic_load_small`) seeds 1/50 of that in seconds, for a smoke run.

A table `load_seed` records the version, the migrations and the scale seeded: `reusable()` says
whether an existing database can serve another run (the same version, migrations and scale,
every seeded table at least at its count), so a run seeds only once. `drop()` removes it.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from service.accounts.actor import hash_token
from service.accounts.passwords import hash_password
from service.config import ROOT, Settings
from service.core.vocab import Area
from tests.load import data as D

SEED = 20261207


def seeded() -> dict[str, int]:
    """Tables filled by the seed and their counts (the scenarios only ever add rows to them)."""
    return {
        "challenges": D.CHALLENGES,
        "proposals": D.PROPOSALS,
        "proposal_supports": D.SUPPORTS,
        "proposal_comments": D.COMMENTS,
        "applications": D.APPLICATIONS,
        "ledger_entries": D.LEDGER_ENTRIES,
        "startup_profiles": D.STARTUPS,
        "matches": D.INVESTORS * D.RANKED_PER_INVESTOR,
    }


def migrations_digest() -> str:
    """The migrations' text: a database migrated by other ones is seeded again (a migration
    applied while it was still empty would otherwise never run)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "service" / "migrations").glob("0*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def exists(name: str | None = None) -> bool:
    name = name or D.DATABASE
    admin = await asyncpg.connect(D.ADMIN_URL)
    try:
        return bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await admin.close()


async def reusable(name: str | None = None) -> str | None:
    """None when the database holds this version's seed; else why it must be seeded again."""
    name = name or D.DATABASE
    if not await exists(name):
        return "no database yet"
    connection = await asyncpg.connect(_pg(D.database_url(name)))
    try:
        if not await connection.fetchval("SELECT to_regclass('load_seed') IS NOT NULL"):
            return "the seed did not finish"
        row = json.loads(await connection.fetchval("SELECT to_jsonb(s) FROM load_seed s"))
        version, digest = row.get("version"), row.get("digest")
        if version != D.SEED_VERSION:
            return f"seeded by version {version}, this is {D.SEED_VERSION}"
        if digest != migrations_digest():
            return "the migrations changed since it was seeded"
        if row.get("scale") != D.SCALE_NAME:
            return f"seeded at the {row.get('scale')} scale, this run is {D.SCALE_NAME}"
        for table, count in seeded().items():
            found = await connection.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
            if found < count:
                return f"{table} holds {found:,} rows, fewer than the {count:,} seeded"
    finally:
        await connection.close()
    return None


async def drop(name: str | None = None) -> None:
    name = name or D.DATABASE
    admin = await asyncpg.connect(D.ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def create(name: str | None = None) -> dict[str, float]:
    """Drop, create, migrate and seed; returns the seconds each step took."""
    import service.areas  # noqa: F401 - registers the areas, whose models the database loads
    from service import db

    name = name or D.DATABASE
    timings: dict[str, float] = {}
    began = time.monotonic()
    await drop(name)
    admin = await asyncpg.connect(D.ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await db.migrate(Settings(database_url=D.database_url(name)))
    timings["migrate"] = time.monotonic() - began
    _say("migrate", timings["migrate"])
    connection = await asyncpg.connect(_pg(D.database_url(name)))
    try:
        for step in STEPS:
            started = time.monotonic()
            await step(connection, Context(random.Random(f"{SEED}:{step.__name__}")))
            timings[step.__name__] = time.monotonic() - started
            _say(step.__name__, timings[step.__name__])
        started = time.monotonic()
        await _sequences(connection)
        await connection.execute("VACUUM (ANALYZE)")
        await connection.execute("CHECKPOINT")
        await connection.execute(
            "CREATE TABLE load_seed (version text NOT NULL, digest text NOT NULL,"
            " scale text NOT NULL, seeded_at timestamptz NOT NULL)"
        )
        await connection.execute(
            "INSERT INTO load_seed VALUES ($1, $2, $3, now())",
            D.SEED_VERSION,
            migrations_digest(),
            D.SCALE_NAME,
        )
        timings["analyze"] = time.monotonic() - started
        _say("analyze", timings["analyze"])
    finally:
        await connection.close()
    return timings


def _say(step: str, seconds: float) -> None:
    print(f"    {step:<14} {seconds:6.1f} s", file=sys.stderr, flush=True)


class Context:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = datetime.now(UTC)


async def _copy(connection: Any, table: str, columns: list[str], rows: Iterator[tuple]) -> None:
    await connection.copy_records_to_table(table, records=rows, columns=columns)


# --- organizations and people -------------------------------------------------------------


async def organizations(connection: Any, ctx: Context) -> None:
    now = ctx.now
    old = now - timedelta(days=4 * 365)

    def rows() -> Iterator[tuple]:
        for n in range(D.CITIES):
            region = D.REGIONS[n % len(D.REGIONS)]
            yield (D.CITY_FIRST + n, f"City of {region} {n}", "government", "ES", region, old)
        for n in range(D.INVESTORS):
            yield (D.investor_org(n), f"Ventures {n}", "investor", "ES", "Madrid", old)
        for n in range(D.STARTUPS):
            region = D.REGIONS[n % len(D.REGIONS)]
            yield (D.STARTUP_FIRST + n, f"Startup {n}", "startup", "ES", region, old)

    await _copy(
        connection,
        "organizations",
        ["id", "name", "kind", "country", "region", "verified_at", "created_at", "time_zone"],
        ((*row, row[5], "Europe/Madrid") for row in rows()),
    )


async def users(connection: Any, ctx: Context) -> None:
    now = ctx.now
    joined = now - timedelta(days=30)
    password_hash = hash_password(D.PASSWORD)

    def rows() -> Iterator[tuple]:
        for n in range(1, D.RESIDENTS + 1):
            yield (n, D.resident_email(n), f"Resident {n}")
        for n in range(D.RUSH_APPLICANTS):
            yield (D.applicant_user(n), f"applicant{n}@load.example.org", f"Applicant {n}")
        for n in range(D.INVESTORS):
            yield (D.investor_user(n), f"investor{n}@load.example.org", f"Investor {n}")

    await _copy(
        connection,
        "users",
        [
            "id",
            "email",
            "name",
            "password_hash",
            "language",
            "email_verified_at",
            "is_operator",
            "token_version",
            "created_at",
            "time_zone",
        ],
        ((i, e, n, password_hash, "en", joined, False, 0, joined, "UTC") for i, e, n in rows()),
    )
    memberships = [
        (D.applicant_user(n), D.applicant_startup(n), "owner", joined)
        for n in range(D.RUSH_APPLICANTS)
    ] + [(D.investor_user(n), D.investor_org(n), "owner", joined) for n in range(D.INVESTORS)]
    await _copy(
        connection,
        "memberships",
        ["user_id", "organization_id", "role", "created_at"],
        iter(memberships),
    )
    await _copy(
        connection,
        "web_sessions",
        [
            "token_hash",
            "csrf_token",
            "created_at",
            "expires_at",
            "ip",
            "mfa",
            "user_id",
            "device",
            "place",
            "user_agent",
            "last_seen_at",
        ],
        (
            (
                hash_token(D.session_token(n)),
                D.csrf_token(n),
                now,
                now + timedelta(days=30),
                "127.0.0.1",
                False,
                n,
                "Locust",
                "",
                "locust",
                now,
            )
            for n in [
                *range(1, D.RESIDENTS_WITH_SESSION + 1),
                *(D.investor_user(i) for i in range(D.INVESTORS)),
            ]
        ),
    )


# --- challenges -----------------------------------------------------------------------------

ACTIONS = ["Cut delays in", "Measure", "Rethink", "Digitise", "Scale up", "Fix", "Plan"]
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


def _challenge_status(rng: random.Random, now: datetime, opens: datetime, closes: datetime) -> str:
    if rng.random() < 0.04:
        return "cancelled"
    if now < opens:
        return "published"
    if now < closes:
        return "open"
    if now < closes + timedelta(days=30):
        return rng.choice(["closed", "judging"])
    return rng.choice(["judging", "awarded", "in_delivery", "completed", "completed"])


async def challenges(connection: Any, ctx: Context) -> None:
    rng, now = ctx.rng, ctx.now
    areas = [a.value for a in Area]

    def rows() -> Iterator[tuple]:
        for number in range(1, D.CHALLENGES + 1):
            city = D.CITY_FIRST + number % D.CITIES
            region = D.REGIONS[(city - D.CITY_FIRST) % len(D.REGIONS)]
            area = areas[rng.randrange(len(areas))]
            topic = TOPICS[rng.randrange(len(TOPICS))]
            title = f"{ACTIONS[rng.randrange(len(ACTIONS))]} {topic} in {region} #{number}"
            summary = f"A {area.replace('_', ' ')} challenge on {topic} for {region}."
            problem = (
                f"Residents of {region} report problems with {topic}. The current approach is "
                "slow and costly; we want tested ideas that work within a year and a budget."
            )
            created = now - timedelta(days=rng.uniform(0, 3 * 365))
            published: datetime | None = created + timedelta(days=rng.uniform(0, 10))
            opens = created + timedelta(days=rng.uniform(0, 30))
            closes = opens + timedelta(days=rng.uniform(30, 120))
            roll = rng.random()
            if number == D.RUSH_CHALLENGE:
                # Opened for the rush; the run sets its deadline.
                status, opens, closes = "open", now - timedelta(days=30), now + timedelta(days=1)
            elif roll < 0.05:
                status, published = "draft", None
            else:
                status = _challenge_status(rng, now, opens, closes)
            cancelled = (
                (published or created) + timedelta(days=1) if status == "cancelled" else None
            )
            reward = rng.randrange(5_000, 500_000) * 100
            yield (
                number,
                city,
                title,
                summary,
                problem,
                "en",
                area,
                _json(sorted(rng.sample(range(1, 18), rng.randint(1, 3)))),
                region,
                _json(["startup", "university", "research_center"]),
                "[]",
                reward,
                "EUR",
                reward,
                "EUR",
                "",
                opens,
                closes,
                closes + timedelta(days=rng.uniform(20, 60)),
                status,
                rng.random() < 0.2,
                f"{title} {summary} {problem}".lower(),
                created,
                published or created,
                published,
                cancelled,
                "Budget withdrawn." if cancelled else "",
            )

    await _copy(
        connection,
        "challenges",
        [
            "id",
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
            "reward_reference_minor",
            "reward_reference_currency",
            "reward_reference_source",
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
        ],
        rows(),
    )


# --- participation --------------------------------------------------------------------------


def hot_proposal(rng: random.Random) -> int:
    """A proposal id, one in three among the most talked-about (the first 1,000)."""
    if rng.random() < 1 / 3:
        return 1 + rng.randrange(D.HOT_PROPOSALS)
    return 1 + rng.randrange(D.PROPOSALS)


async def participation(connection: Any, ctx: Context) -> None:
    rng, now = ctx.rng, ctx.now
    counts = [0] * (D.PROPOSALS + 1)
    supports: list[tuple[int, int, datetime]] = []
    supporters = range(D.RESIDENTS_WITH_SESSION + 1, D.RESIDENTS + 1)
    for user in supporters:
        chosen: set[int] = set()
        while len(chosen) < D.SUPPORTS_PER_SEEDED_RESIDENT:
            chosen.add(hot_proposal(rng))
        for proposal in chosen:
            counts[proposal] += 1
            supports.append((proposal, user, now - timedelta(minutes=rng.randrange(40_000))))
    areas = [a.value for a in Area]

    def proposals() -> Iterator[tuple]:
        for n in range(1, D.PROPOSALS + 1):
            region = D.REGIONS[n % len(D.REGIONS)]
            topic = TOPICS[n % len(TOPICS)]
            title = f"More {topic} near us, {region} #{n}"
            description = (
                f"Our street needs better {topic}. Neighbours have asked for it for years; a "
                "small pilot would show what works."
            )
            created = now - timedelta(minutes=rng.randrange(60 * 24 * 365))
            yield (
                n,
                title,
                description,
                "Families, older people and shop owners.",
                region,
                areas[n % len(areas)],
                _json([1 + n % 17]),
                "open",
                counts[n],
                "",
                "",
                f"{title} {description}".lower(),
                created,
                created,
                1 + rng.randrange(D.RESIDENTS),
            )

    await _copy(
        connection,
        "proposals",
        [
            "id",
            "title",
            "description",
            "affected",
            "region",
            "area",
            "sdgs",
            "status",
            "support_count",
            "response",
            "hidden_reason",
            "search_text",
            "created_at",
            "updated_at",
            "author_id",
        ],
        proposals(),
    )
    await _copy(
        connection,
        "proposal_supports",
        ["proposal_id", "user_id", "created_at"],
        iter(supports),
    )
    stances = ["neutral", "for", "against"]
    await _copy(
        connection,
        "proposal_comments",
        [
            "proposal_id",
            "author_id",
            "stance",
            "text",
            "report_count",
            "hidden_reason",
            "created_at",
        ],
        (
            (
                hot_proposal(rng),
                1 + rng.randrange(D.RESIDENTS),
                stances[n % 3],
                f"I walk past there every day; comment {n}.",
                0,
                "",
                now - timedelta(minutes=rng.randrange(40_000)),
            )
            for n in range(D.COMMENTS)
        ),
    )


# --- applications ---------------------------------------------------------------------------


async def applications(connection: Any, ctx: Context) -> None:
    now = ctx.now

    def rows() -> Iterator[tuple]:
        for n in range(D.RUSH_APPLICANTS):
            yield (D.RUSH_CHALLENGE, D.applicant_startup(n), "draft", None, D.applicant_user(n))
        # The others: submitted to other challenges, by the other startups.
        for n in range(D.APPLICATIONS - D.RUSH_APPLICANTS):
            challenge = 2 + n % (D.CHALLENGES - 1)
            startup = D.STARTUP_FIRST + D.RUSH_APPLICANTS + n % (D.STARTUPS - D.RUSH_APPLICANTS)
            yield (challenge, startup, "submitted", now - timedelta(days=40), None)

    await _copy(
        connection,
        "applications",
        [
            "challenge_id",
            "organization_id",
            "status",
            "submitted_at",
            "created_by_id",
            "title",
            "summary",
            "proposal",
            "team",
            "budget_minor",
            "lead_share_pct",
            "created_at",
            "updated_at",
        ],
        (
            (
                *row,
                "Live arrival times",
                "Screens at every stop, fed by the buses' own positions.",
                "A pilot on three lines, then the whole network.",
                "Four engineers and a designer.",
                5_000_000,
                100,
                now - timedelta(days=50),
                now - timedelta(days=50),
            )
            for row in rows()
        ),
    )


# --- the ledger -----------------------------------------------------------------------------


async def ledger(connection: Any, ctx: Context) -> None:
    """Balanced funding transactions: the city's funding source gives, the escrow receives."""
    rng, now = ctx.rng, ctx.now
    transactions = D.LEDGER_ENTRIES // 2
    sources = {city: city for city in range(D.CITY_FIRST, D.CITY_FIRST + D.CITIES)}
    accounts = [
        (city, f"funding_source:organization:{city}:EUR", "funding_source", "EUR", city, None, now)
        for city in sources
    ] + [
        (
            D.CITIES + c,
            f"escrow:challenge:{c}:EUR",
            "escrow",
            "EUR",
            None,
            c,
            now,
        )
        for c in range(1, D.CHALLENGES + 1)
    ]
    await _copy(
        connection,
        "ledger_accounts",
        ["id", "key", "kind", "currency", "organization_id", "challenge_id", "created_at"],
        iter(accounts),
    )
    moves: list[tuple[int, int, int]] = []

    def txns() -> Iterator[tuple]:
        for n in range(1, transactions + 1):
            # Challenge 1 (the rush's) is funded like the others.
            challenge = 1 + (n - 1) % D.CHALLENGES
            city = D.CITY_FIRST + challenge % D.CITIES
            amount = rng.randrange(1_000, 100_000) * 100
            moves.append((n, city, -amount))
            moves.append((n, D.CITIES + challenge, amount))
            yield (
                n,
                f"fund:load:{n}",
                "fund",
                challenge,
                city,
                amount,
                "EUR",
                "Seeded funding",
                now - timedelta(minutes=rng.randrange(500_000)),
            )

    await _copy(
        connection,
        "ledger_transactions",
        [
            "id",
            "key",
            "kind",
            "challenge_id",
            "city_id",
            "amount_minor",
            "currency",
            "memo",
            "created_at",
        ],
        txns(),
    )
    await _copy(
        connection,
        "ledger_entries",
        ["transaction_id", "account_id", "amount_minor"],
        iter(moves),
    )


# --- investors ------------------------------------------------------------------------------


async def investors(connection: Any, ctx: Context) -> None:
    rng, now = ctx.rng, ctx.now
    await _copy(
        connection,
        "startup_profiles",
        [
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
        (
            (
                D.STARTUP_FIRST + n,
                _json(rng.sample(D.SECTORS, rng.randint(1, 3))),
                D.STAGES[rng.randrange(len(D.STAGES))],
                rng.randrange(50, 5_000) * 100_000,
                "EUR",
                D.REGIONS[n % len(D.REGIONS)],
                f"Startup {n} builds tools for city services.",
                True,
                rng.random() < 0.5,
                now,
                "{}",
                0.0,
            )
            for n in range(D.STARTUPS)
        ),
    )
    await _copy(
        connection,
        "investor_theses",
        [
            "organization_id",
            "sectors",
            "stages",
            "currency",
            "regions",
            "regions_strict",
            "stages_strict",
            "text",
            "updated_at",
        ],
        (
            (
                D.investor_org(n),
                _json(rng.sample(D.SECTORS, 2)),
                _json(rng.sample(D.STAGES, 2)),
                "EUR",
                "[]",
                False,
                False,
                "Tools that make city services faster.",
                now,
            )
            for n in range(D.INVESTORS)
        ),
    )
    components = _json({"sector": 1.0, "stage": 0.5, "ticket": 1.0})
    reasons = _json([{"code": "sector", "values": {"sectors": ["mobility"]}}])

    def matches() -> Iterator[tuple]:
        for n in range(D.INVESTORS):
            ranked = rng.sample(range(D.STARTUPS), D.RANKED_PER_INVESTOR)
            for rank, startup in enumerate(ranked, start=1):
                yield (
                    D.investor_org(n),
                    D.STARTUP_FIRST + startup,
                    rank,
                    1.0 - rank / (D.RANKED_PER_INVESTOR + 1),
                    components,
                    reasons,
                    now,
                )

    await _copy(
        connection,
        "matches",
        ["investor_id", "startup_id", "rank", "score", "components", "reasons", "computed_at"],
        matches(),
    )


async def tracks(connection: Any, ctx: Context) -> None:
    """Each startup's stored track record as the app derives it from the seeded applications
    (`matching.track.signals_for`), so that the app's watcher of track records
    (`matching.watch_track_records`, every 10 minutes) finds nothing changed: otherwise its
    first tick would queue the ranking of every startup with an application again."""
    import service.areas  # noqa: F401 - registers the areas, whose models the database loads
    from service import db
    from service.matching import track

    await db.init_db(Settings(database_url=D.database_url()))
    try:
        rows = await connection.fetch("SELECT organization_id, share_scores FROM startup_profiles")
        consenting = [int(r["organization_id"]) for r in rows if r["share_scores"]]
        ids = [int(r["organization_id"]) for r in rows]
        await connection.execute(
            "CREATE TEMPORARY TABLE seeded_tracks (organization_id int, track jsonb, score float8)"
        )
        for start in range(0, len(ids), 10_000):
            signals = await track.signals_for(ids[start : start + 10_000], consenting=consenting)
            await _copy(
                connection,
                "seeded_tracks",
                ["organization_id", "track", "score"],
                ((org, _json(found), track.track_score(found)) for org, found in signals.items()),
            )
        await connection.execute(
            "UPDATE startup_profiles p SET track = t.track, track_score = t.score "
            "FROM seeded_tracks t WHERE t.organization_id = p.organization_id"
        )
        await connection.execute("DROP TABLE seeded_tracks")
    finally:
        await db.close_db()


STEPS = [organizations, users, challenges, participation, applications, ledger, investors, tracks]


async def _sequences(connection: Any) -> None:
    """Every id sequence past the largest id written, so the app's inserts never collide."""
    rows = await connection.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND column_default LIKE 'nextval(%'"
    )
    for row in rows:
        table, column = row["table_name"], row["column_name"]
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "  # noqa: S608
            f"GREATEST((SELECT COALESCE(MAX({column}), 0) FROM {table}), 1))"
        )
