"""The dashboard figure: the public dashboards and ledgers at 10,000 and at 1,000,000 ledger rows.

Dashboards and public ledgers read the ledger's sums (service/rewards/aggregates.py), so the
time they take must not grow with the ledger. The bench creates a PostgreSQL database of its
own (the list figure's organizations and challenges, postgres.py), writes a ledger of 10,000
rows (ledger entries: balanced transactions of two entries each) with COPY, as tests/load/seed.py
does, rebuilds the sums with the app's own `aggregates.rebuild()`, and times each page served
by the app with production settings, one request at a time. It then grows the same ledger to
1,000,000 rows (the same challenges, a hundred times their transactions), rebuilds the sums
again, and times the same pages: the figure is the time at 1M over the time at 10k (target
at most 1.5 for every page). `python -m tests.bench --only dashboards` measures just this.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.bench import procs, servers
from tests.bench.environment import AppEnvironment
from tests.bench.postgres import BenchDatabase, _connect
from tests.bench.servers import BenchError, ServerSpec

SMALL_ROWS = 10_000
LARGE_ROWS = 1_000_000
# Published challenges, of which this many hold money (a realistic share of the catalogue).
CHALLENGES = 5_000
FUNDED = 1_000
TARGET = 1.5
# One request at a time: seconds of warm-up and of measuring per page and scale.
WARMUP = 0.5
MEASURE = 3.0
MIN_REQUESTS = 15
MONTHS = 48

APP = ServerSpec(
    name="app-dashboards",
    description="the app on the bench's PostgreSQL database with ENV=production",
    target="service.app:create_app",
    factory=True,
    ready_paths=("/healthz", "/readyz"),
)

# (kind, share of the transactions, the account debited, the account credited)
KINDS = [
    ("fund", 0.45, "funding_source", "escrow"),
    ("allocate", 0.15, "escrow", "allocation"),
    ("release", 0.15, "allocation", "payable"),
    ("payout", 0.18, "payable", "paid_out"),
    ("refund", 0.05, "escrow", "refunded"),
    ("reversal", 0.02, "paid_out", "payable"),
]
CHALLENGE_ACCOUNTS = ["escrow", "allocation", "payable", "paid_out", "refunded"]


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Funded:
    challenge: int
    city: int
    # Account id by kind, in this challenge's currency.
    accounts: dict[str, int]


@dataclass
class Ledger:
    """The funded challenges and their accounts; `grow` writes transactions up to a size."""

    funded: list[Funded]
    weights: list[float]
    transactions: int = 0

    @property
    def rows(self) -> int:
        return 2 * self.transactions


async def prepare_ledger(url: str, rng: random.Random) -> Ledger:
    """Picks the funded challenges (published ones, a few of them much busier than the rest)
    and writes their accounts."""
    async with _connect(url) as connection:
        rows = await connection.fetch(
            "SELECT id, organization_id FROM challenges "
            "WHERE published_at IS NOT NULL AND status <> 'draft' ORDER BY id"
        )
        if len(rows) < FUNDED:
            raise BenchError(f"only {len(rows)} published challenges to fund")
        chosen = sorted(rng.sample(list(rows), FUNDED), key=lambda r: int(r["id"]))
        accounts: list[tuple[Any, ...]] = []
        sources: dict[int, int] = {}
        funded: list[Funded] = []
        now = datetime.now(UTC)
        for row in chosen:
            challenge, city = int(row["id"]), int(row["organization_id"])
            if city not in sources:
                sources[city] = len(accounts) + 1
                key = f"funding_source:organization:{city}:EUR"
                accounts.append((sources[city], key, "funding_source", "EUR", city, None, now))
            by_kind = {"funding_source": sources[city]}
            for kind in CHALLENGE_ACCOUNTS:
                by_kind[kind] = len(accounts) + 1
                key = f"{kind}:challenge:{challenge}:EUR"
                accounts.append((by_kind[kind], key, kind, "EUR", None, challenge, now))
            funded.append(Funded(challenge, city, by_kind))
        await connection.copy_records_to_table(
            "ledger_accounts",
            records=accounts,
            columns=[
                "id",
                "key",
                "kind",
                "currency",
                "organization_id",
                "challenge_id",
                "created_at",
            ],
        )
    # Zipf-like: the busiest challenge has many times the transactions of the quietest.
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(funded))]
    rng.shuffle(weights)
    return Ledger(funded, weights)


async def grow(url: str, ledger: Ledger, rows: int, rng: random.Random) -> float:
    """Writes transactions (two entries each) until the ledger holds `rows` entries; seconds."""
    began = time.monotonic()
    first, last = ledger.transactions + 1, rows // 2
    now = datetime.now(UTC)
    kinds = [k for k, _, _, _ in KINDS]
    shares = [s for _, s, _, _ in KINDS]
    sides = {k: (debit, credit) for k, _, debit, credit in KINDS}
    count = last - first + 1
    picks = rng.choices(ledger.funded, weights=ledger.weights, k=count)
    drawn = rng.choices(kinds, weights=shares, k=count)
    moves: list[tuple[int, int, int]] = []

    def txns() -> Iterator[tuple[Any, ...]]:
        for n, target, kind in zip(range(first, last + 1), picks, drawn, strict=True):
            amount = rng.randrange(100, 50_000) * 100
            debit, credit = sides[kind]
            moves.append((n, target.accounts[debit], -amount))
            moves.append((n, target.accounts[credit], amount))
            yield (
                n,
                f"{kind}:bench:{n}",
                kind,
                target.challenge,
                target.city,
                target.city if kind in ("fund", "refund") else None,
                amount,
                "EUR",
                f"tr_{n:010d}" if kind == "payout" else "",
                now - timedelta(minutes=rng.randrange(MONTHS * 30 * 24 * 60)),
            )

    async with _connect(url) as connection:
        await connection.copy_records_to_table(
            "ledger_transactions",
            records=txns(),
            columns=[
                "id",
                "key",
                "kind",
                "challenge_id",
                "city_id",
                "counterpart_id",
                "amount_minor",
                "currency",
                "memo",
                "created_at",
            ],
        )
        await connection.copy_records_to_table(
            "ledger_entries",
            records=moves,
            columns=["transaction_id", "account_id", "amount_minor"],
        )
        for table in ("ledger_accounts", "ledger_transactions", "ledger_entries"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
    ledger.transactions = last
    return time.monotonic() - began


async def rebuild(url: str) -> float:
    """The sums recomputed from the ledger by the app's own code, in one transaction; then
    VACUUM (ANALYZE) so the planner sees the new sizes. Seconds."""
    from tortoise.transactions import in_transaction

    import service.areas  # noqa: F401 - registers the areas, whose models the database loads
    from service import db
    from service.config import Settings
    from service.rewards import aggregates

    began = time.monotonic()
    await db.init_db(Settings(database_url=url))
    try:
        async with in_transaction() as connection:
            await aggregates.rebuild(connection)
    finally:
        await db.close_db()
    async with _connect(url) as connection:
        await connection.execute("VACUUM (ANALYZE)")
    return time.monotonic() - began


async def _counts(url: str) -> dict[str, int]:
    async with _connect(url) as connection:
        return {
            table: int(await connection.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608
            for table in ("ledger_entries", "ledger_transactions", "ledger_months")
        }


async def _busiest(url: str) -> tuple[int, int]:
    """The challenge with the most transactions and the city with the most."""
    async with _connect(url) as connection:
        challenge = await connection.fetchval(
            "SELECT challenge_id FROM ledger_transactions GROUP BY challenge_id "
            "ORDER BY count(*) DESC, challenge_id LIMIT 1"
        )
        city = await connection.fetchval(
            "SELECT city_id FROM ledger_transactions GROUP BY city_id "
            "ORDER BY count(*) DESC, city_id LIMIT 1"
        )
    return int(challenge), int(city)


@dataclass(frozen=True)
class Timing:
    requests: int
    min_ms: float
    p50_ms: float
    p90_ms: float


def time_page(base_url: str, path: str) -> Timing:
    """One request at a time: warm-up, then every request's time for MEASURE seconds."""
    url = base_url + path
    until = time.monotonic() + WARMUP
    while time.monotonic() < until:
        answer = servers.fetch(url, timeout=30.0)
        if answer.status != 200:
            raise BenchError(f"{path} answered {answer.status}: {answer.body[:300]!r}")
    times: list[float] = []
    until = time.monotonic() + MEASURE
    while time.monotonic() < until or len(times) < MIN_REQUESTS:
        started = time.perf_counter()
        answer = servers.fetch(url, timeout=30.0)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status != 200:
            raise BenchError(f"{path} answered {answer.status}: {answer.body[:300]!r}")
    times.sort()
    return Timing(
        len(times), times[0], statistics.median(times), times[int(0.9 * (len(times) - 1))]
    )


def _pages(challenge: int, city: int) -> list[tuple[str, str]]:
    return [
        ("platform dashboard", "/opendata/dashboard"),
        ("city dashboard", f"/opendata/cities/{city}"),
        ("challenge ledger", f"/challenges/{challenge}/ledger"),
        ("city ledger", f"/organizations/{city}/ledger"),
    ]


def table(pages: list[tuple[str, str]], small: list[Timing], large: list[Timing]) -> str:
    head = [
        "page",
        "path",
        "10k p50 ms",
        "1M p50 ms",
        "10k min",
        "1M min",
        "10k p90",
        "1M p90",
        "requests",
        "ratio",
        "target",
        "met",
    ]
    rows = [head]
    for (name, path), a, b in zip(pages, small, large, strict=True):
        ratio = b.p50_ms / a.p50_ms
        rows.append(
            [
                name,
                path,
                f"{a.p50_ms:.1f}",
                f"{b.p50_ms:.1f}",
                f"{a.min_ms:.1f}",
                f"{b.min_ms:.1f}",
                f"{a.p90_ms:.1f}",
                f"{b.p90_ms:.1f}",
                f"{a.requests}+{b.requests}",
                f"{ratio:.2f}",
                f"<= {TARGET}",
                "yes" if ratio <= TARGET else "NO",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join(
        "  "
        + "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    )


def measure(postgres_url: str) -> int:
    """Runs the dashboard figure and prints it; 0 unless the bench itself failed."""
    rng = random.Random(20261207)
    pinning = procs.Pinning.detect()
    began = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="civic-bench-dash-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        directory = Path(tmp)
        environment = AppEnvironment(directory)
        stack.callback(environment.close)
        environment.start(sqlite=False)
        database = BenchDatabase(postgres_url)
        problem = database.unavailable()
        if problem is not None:
            print(f"dashboard figure skipped: no PostgreSQL to seed ({problem})")
            return 0
        stack.callback(database.drop)
        _progress(f"creating {database.name}: migrations, {CHALLENGES:,} challenges")
        env = environment.env()
        seeded = database.create(env, CHALLENGES)
        _progress(
            f"  migrated in {seeded.migrate_seconds:.1f} s, challenges in "
            f"{seeded.seed_seconds:.1f} s"
        )
        ledger = asyncio.run(prepare_ledger(database.url, rng))
        seconds = asyncio.run(grow(database.url, ledger, SMALL_ROWS, rng))
        rebuilt = asyncio.run(rebuild(database.url))
        _progress(
            f"  {SMALL_ROWS:,} ledger rows in {seconds:.1f} s, sums rebuilt in {rebuilt:.1f} s"
        )
        challenge, city = asyncio.run(_busiest(database.url))
        pages = _pages(challenge, city)
        env.update(DATABASE_URL=database.url, ENV="production", SECRET_KEY="b" * 64)
        server = servers.launch(APP, env=env, pinning=pinning, cwd=Path.cwd(), log_dir=directory)
        stack.callback(server.stop)
        small_counts = asyncio.run(_counts(database.url))
        _progress("  timing the pages at 10k rows")
        loads = [os.getloadavg()[0]]
        small = [time_page(server.base_url, path) for _, path in pages]
        seconds = asyncio.run(grow(database.url, ledger, LARGE_ROWS, rng))
        rebuilt = asyncio.run(rebuild(database.url))
        _progress(
            f"  grown to {LARGE_ROWS:,} rows in {seconds:.1f} s, sums rebuilt in {rebuilt:.1f} s"
        )
        large_counts = asyncio.run(_counts(database.url))
        _progress("  timing the pages at 1M rows")
        loads.append(os.getloadavg()[0])
        large = [time_page(server.base_url, path) for _, path in pages]
        loads.append(os.getloadavg()[0])
        total = time.monotonic() - began
    print()
    print(
        "Dashboards and public ledgers at 10k and 1M ledger rows (one request at a time, "
        "the app with production settings on PostgreSQL; ratio = p50 at 1M / p50 at 10k)"
    )
    print(
        f"  {FUNDED:,} funded challenges of {CHALLENGES:,}; challenge {challenge} the busiest, "
        f"city {city} the busiest city; load average (1 min) before 10k, before and after 1M: "
        + ", ".join(f"{x:.1f}" for x in loads)
        + f" on {os.cpu_count()} CPUs"
    )
    for label, counts in (("10k", small_counts), ("1M", large_counts)):
        print(
            f"  at {label}: {counts['ledger_entries']:,} entries, "
            f"{counts['ledger_transactions']:,} transactions, "
            f"{counts['ledger_months']:,} monthly sums"
        )
    print(table(pages, small, large))
    worst = max(b.p50_ms / a.p50_ms for a, b in zip(small, large, strict=True))
    met = sum(b.p50_ms / a.p50_ms <= TARGET for a, b in zip(small, large, strict=True))
    print()
    print(
        f"  {met} of {len(pages)} pages meet the target (worst ratio {worst:.2f}, "
        f"target <= {TARGET}); run took {total:.0f} s"
    )
    return 0
