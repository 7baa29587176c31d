"""Runs every comparison and prints the table.

A comparison measures a candidate server against a baseline server on the same path, with the
same process setup and the same load, in alternating rounds after a warm-up. Its figure is the
median requests/s of the candidate divided by the median of the baseline. A figure below its
target is reported, never turned into a failure: the exit code only says whether the harness
itself could measure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from service.config import ROOT
from tests.bench import bare_bytes, dashboards, dealflow, load, payouts, procs, report, servers
from tests.bench.environment import AppEnvironment
from tests.bench.postgres import DEFAULT_ADMIN_URL, BenchDatabase, SeedReport, pin
from tests.bench.servers import BenchError, RunningServer, ServerSpec

APP = ServerSpec(
    name="app",
    description="service.app:create_app, full middleware stack and lifespan",
    target="service.app:create_app",
    factory=True,
    # /readyz answering 200 proves the lifespan connected the database and Redis.
    ready_paths=("/healthz", "/readyz"),
)
BARE = ServerSpec(
    name="bare",
    description="bare Starlette app, one route returning the same JSON",
    target="tests.bench.bare:app",
)
LIST_LIMIT = 20
LIST_PATH = f"/api/v1/challenges?area=mobility&limit={LIST_LIMIT}"
APP_PG = ServerSpec(
    name="app-pg",
    description="the same app on the seeded PostgreSQL database",
    target="service.app:create_app",
    factory=True,
    ready_paths=("/healthz", "/readyz"),
)
BARE_PG = ServerSpec(
    name="bare-pg",
    description="bare Starlette route running the list's SQL (repository.list_sql) with raw "
    "asyncpg, a pool of 1-5 connections like the app's, rows returned as JSON",
    target="tests.bench.bare_list:app",
    ready_paths=(LIST_PATH,),
)
# The page figures: the app as it runs in production (templates compiled once and never
# re-checked on disk), against a bare route answering the very bytes the app answered.
APP_PAGES = ServerSpec(
    name="app-prod",
    description="the same app on the seeded PostgreSQL database with ENV=production",
    target="service.app:create_app",
    factory=True,
    ready_paths=("/healthz", "/readyz"),
)
BARE_BYTES = ServerSpec(
    name="bare-bytes",
    description="bare Starlette route answering, for each path, the bytes the app answered "
    "(recorded from app-prod once before the runs)",
    target="tests.bench.bare_bytes:app",
)


def whole_answer(answer: servers.Response) -> object:
    return answer.status, answer.content_type, answer.body


def page_answer(answer: servers.Response) -> object:
    """The same page: the same challenges in the same order, and the same next cursor."""
    try:
        body = json.loads(answer.body)
        ids = [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"not a page of challenges ({exc}): {answer.body[:300]!r}") from exc
    if len(ids) != LIST_LIMIT or not cursor:
        raise BenchError(f"a page of {len(ids)} challenges, expected a full page of {LIST_LIMIT}")
    return answer.status, ids, cursor


@dataclass(frozen=True)
class Comparison:
    figure: str
    path: str
    candidate: ServerSpec
    baseline: ServerSpec
    target: float
    # What of the two answers must be equal for the figure to compare the same work.
    check: Callable[[servers.Response], object] = whole_answer
    # Both servers run on the bench's seeded PostgreSQL database.
    postgres: bool = False
    # A page figure: the candidate runs with ENV=production, the baseline serves its bytes.
    page: bool = False


COMPARISONS = [
    Comparison(
        figure="req/s on /healthz, full app / bare Starlette",
        path="/healthz",
        candidate=APP,
        baseline=BARE,
        target=0.8,
    ),
    Comparison(
        figure="req/s on the challenge list (PostgreSQL), full app / bare asyncpg route",
        path=LIST_PATH,
        candidate=APP_PG,
        baseline=BARE_PG,
        target=0.5,
        check=page_answer,
        postgres=True,
    ),
    Comparison(
        figure="req/s on a deal flow page of 20 of 100,000 ranked (PostgreSQL), full app / bare "
        "asyncpg route",
        path=dealflow.PATH,
        candidate=dealflow.APP_DEALFLOW,
        baseline=dealflow.BARE_DEALFLOW,
        target=0.5,
        check=dealflow.page_answer,
        postgres=True,
    ),
    *(
        Comparison(
            figure=f"{what}, full app (production) / the same bytes served bare",
            path=path,
            candidate=APP_PAGES,
            baseline=BARE_BYTES,
            target=target,
            postgres=True,
            page=True,
        )
        for what, path, target in [
            ("pages/s of the home page /", "/", 0.10),
            ("pages/s of the challenge list /challenges", "/challenges", 0.10),
            ("req/s of the API list (PostgreSQL)", LIST_PATH, 0.15),
            ("req/s of /healthz", "/healthz", 0.8),
        ]
    ),
]

# Below this share of its core, a server was not the bottleneck of its run.
SATURATED = 0.90


@dataclass(frozen=True)
class Options:
    rounds: int
    duration: float
    warmup: float
    connections: int
    loadgen: str
    postgres_url: str
    challenges: int
    # Payouts per run of the payout figure; 0 leaves that figure out.
    payouts: int = 300
    # "all", "pages": only the page figures (no payouts, no deal flow), or "dashboards": only
    # the dashboards at 10k and 1M ledger rows (dashboards.py).
    only: str = "all"


@dataclass(frozen=True)
class Run:
    round: int
    server: str
    result: load.LoadResult
    # Shares of the server's core: used by the server, and by anything else (None: not pinned).
    server_cpu: float
    others_cpu: float | None
    # Share of the load core busy with anything (None: not pinned).
    load_core: float | None = None
    # Share of a core used by the database's server processes (None: no database of ours).
    db_cpu: float | None = None

    @property
    def load_side(self) -> float:
        """How busy the load side was: the generator, or its whole core when pinned."""
        return max(self.result.cpu, self.load_core or 0.0)

    @property
    def core_busy(self) -> float:
        return self.server_cpu + (self.others_cpu or 0.0)

    @property
    def per_cpu_second(self) -> float:
        """Requests per second of server CPU: barely moved by other processes on the core."""
        return self.result.rps / self.server_cpu if self.server_cpu > 0 else 0.0

    @property
    def crowded(self) -> bool:
        return self.others_cpu is not None and self.others_cpu > 1 - SATURATED


@dataclass
class Outcome:
    comparison: Comparison
    runs: list[Run] = field(default_factory=list)

    def of(self, server: str) -> list[Run]:
        return [run for run in self.runs if run.server == server]

    def median_rps(self, server: str) -> float:
        return statistics.median(run.result.rps for run in self.of(server))

    def median_ms(self, server: str, which: str) -> float | None:
        values = [
            value for run in self.of(server) if (value := getattr(run.result, which)) is not None
        ]
        return statistics.median(values) if values else None

    @property
    def ratio(self) -> float:
        baseline = self.median_rps(self.comparison.baseline.name)
        return self.median_rps(self.comparison.candidate.name) / baseline if baseline else 0.0

    @property
    def cpu_ratio(self) -> float:
        """Like `ratio`, per second of server CPU instead of per second of wall time."""
        candidate, baseline = (
            statistics.median(run.per_cpu_second for run in self.of(spec.name))
            for spec in (self.comparison.candidate, self.comparison.baseline)
        )
        return candidate / baseline if baseline else 0.0

    @property
    def crowded(self) -> bool:
        """Other processes took a share of the servers' core in a typical run of either side."""
        return any(
            statistics.median(run.others_cpu or 0.0 for run in self.of(spec.name)) > 1 - SATURATED
            for spec in (self.comparison.candidate, self.comparison.baseline)
        )

    @property
    def conclusive(self) -> bool:
        """False when the load generator, not the server, set the pace (its core idled, or the
        server had spare CPU while the generator used all of its own)."""
        for spec in (self.comparison.candidate, self.comparison.baseline):
            runs = self.of(spec.name)
            if statistics.median(run.core_busy for run in runs) < SATURATED:
                return False
            server = statistics.median(run.server_cpu for run in runs)
            load_side = statistics.median(run.load_side for run in runs)
            if server < SATURATED and load_side >= SATURATED:
                return False
        return True

    @property
    def verdict(self) -> str:
        if not self.conclusive or self.crowded:
            return "n/a"
        return "yes" if self.ratio >= self.comparison.target else "NO"

    def round_ratios(self) -> list[float]:
        candidate = {run.round: run.result.rps for run in self.of(self.comparison.candidate.name)}
        baseline = {run.round: run.result.rps for run in self.of(self.comparison.baseline.name)}
        return [candidate[r] / baseline[r] for r in sorted(candidate) if baseline.get(r)]


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Benchmark figures, each a ratio against a baseline measured in the same run.",
    )
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per server")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per server")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    parser.add_argument(
        "--loadgen",
        choices=["auto", "wrk", "httpx"],
        default="auto",
        help="auto: wrk when installed, else the httpx load generator",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_ADMIN_URL,
        help="a local PostgreSQL server where the bench may create and drop its database "
        "(the list figure is skipped when it is not reachable)",
    )
    parser.add_argument(
        "--challenges", type=int, default=100_000, help="challenges seeded for the list figure"
    )
    parser.add_argument(
        "--payouts", type=int, default=300, help="payouts per run of the payout figure (0: none)"
    )
    parser.add_argument(
        "--only",
        choices=["all", "pages", "dashboards"],
        default="all",
        help="pages: only the page figures (the app against the same bytes served bare); "
        "dashboards: only the dashboards and public ledgers at 10k and 1M ledger rows",
    )
    args = parser.parse_args(argv)
    if not (1 <= args.rounds <= 20 and 1 <= args.duration <= 30 and 0 <= args.warmup <= 30):
        parser.error("rounds 1-20, duration 1-30 s, warm-up 0-30 s")
    if not 1 <= args.connections <= 1024:
        parser.error("connections 1-1024")
    if not 1_000 <= args.challenges <= 1_000_000:
        parser.error("challenges 1,000-1,000,000")
    if not (args.payouts == 0 or 50 <= args.payouts <= 5_000):
        parser.error("payouts 0 or 50-5,000")
    return Options(
        args.rounds,
        args.duration,
        args.warmup,
        args.connections,
        args.loadgen,
        args.postgres_url,
        args.challenges,
        0 if args.only == "pages" else args.payouts,
        args.only,
    )


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _database_processes(database: BenchDatabase | None, pinning: procs.Pinning) -> list[int]:
    """The database's server processes (one per pooled connection), moved to the load core:
    the servers' core then holds nothing but the server under load."""
    if database is None:
        return []
    pids = database.backend_pids()
    if pinning.load_cpu is not None:
        pin(pids, pinning.load_cpu)
    return pids


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            found[pid] = procs.cpu_seconds(pid)
    return found


def _busy(cpu: int | None) -> float:
    return procs.core_busy_seconds(cpu) if cpu is not None else 0.0


def _measure(
    server: RunningServer,
    generator: load.LoadGenerator,
    path: str,
    *,
    number: int,
    duration: float,
    connections: int,
    pinning: procs.Pinning,
    database: BenchDatabase | None,
) -> Run:
    """One load run; also how busy the server's core was, by the server and by the rest, how
    busy the load core was, and the CPU the database spent."""
    server.check_alive()
    db_pids = _database_processes(database, pinning)
    db_before = _cpu_by_pid(db_pids)
    core, load_core = pinning.server_cpu, pinning.load_cpu
    core_before, load_before = _busy(core), _busy(load_core)
    cpu_before, started = server.cpu_seconds(), time.monotonic()
    result = generator.run(server.base_url + path, duration=duration, connections=connections)
    wall = time.monotonic() - started
    core_after, load_after = _busy(core), _busy(load_core)
    server.check_alive()
    used = server.cpu_seconds() - cpu_before
    db_after = _cpu_by_pid(db_pids)
    if result.requests == 0 or result.errors >= result.requests:
        raise BenchError(f"no successful request to {server.spec.name} {path}")
    if wall <= 0:
        raise BenchError("the clock did not move during a load run")
    db_used = sum(db_after[pid] - db_before[pid] for pid in db_after if pid in db_before)
    return Run(
        round=number,
        server=server.spec.name,
        result=result,
        server_cpu=used / wall,
        others_cpu=None if core is None else max(0.0, core_after - core_before - used) / wall,
        load_core=None if load_core is None else (load_after - load_before) / wall,
        db_cpu=None if database is None else db_used / wall,
    )


def _same_answer(comparison: Comparison, running: dict[str, RunningServer]) -> None:
    """Both servers must answer the path alike, or the figure compares different work."""
    answers = {
        spec.name: servers.fetch(running[spec.name].base_url + comparison.path)
        for spec in (comparison.candidate, comparison.baseline)
    }
    first, second = answers.values()
    if first.status != 200 or comparison.check(first) != comparison.check(second):
        shown = {name: (a.status, a.content_type, a.body[:500]) for name, a in answers.items()}
        raise BenchError(f"{comparison.path} answers differ: {shown}")


def compare(
    comparison: Comparison,
    running: dict[str, RunningServer],
    generator: load.LoadGenerator,
    options: Options,
    pinning: procs.Pinning,
    database: BenchDatabase | None = None,
) -> Outcome:
    _same_answer(comparison, running)
    order = (comparison.candidate, comparison.baseline)
    outcome = Outcome(comparison)
    width = max(len(spec.name) for spec in order)
    for number in range(0 if options.warmup > 0 else 1, options.rounds + 1):
        for spec in order:
            warmup = number == 0
            if warmup:
                _progress(f"  warm-up  {spec.name:<{width}} {options.warmup:g} s")
            run = _measure(
                running[spec.name],
                generator,
                comparison.path,
                number=number,
                duration=options.warmup if warmup else options.duration,
                connections=options.connections,
                pinning=pinning,
                database=database,
            )
            if warmup:
                continue
            outcome.runs.append(run)
            _progress(
                f"  round {number}  {spec.name:<{width}} {report.rate(run.result.rps):>8} req/s"
                f"  (server {report.percent(run.server_cpu)} of its core)"
            )
    return outcome


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGINT (also when inherited as ignored), SIGTERM and SIGHUP all stop the servers."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {
        sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _server_stack() -> str:
    parts = []
    for module in ("httptools", "uvloop"):
        try:
            __import__(module)
        except ImportError:
            continue
        parts.append(module)
    import uvicorn

    extras = f" ({', '.join(parts)})" if parts else ""
    return f"uvicorn {uvicorn.__version__}{extras}"


@dataclass
class Setup:
    """What a run measures: the comparisons it can make, and the database of the list figure."""

    comparisons: list[Comparison]
    skipped: dict[str, str] = field(default_factory=dict)
    database: BenchDatabase | None = None
    postgres_note: str = ""


def header(
    options: Options,
    pinning: procs.Pinning,
    generator: load.LoadGenerator,
    env: AppEnvironment,
    setup: Setup,
) -> str:
    rounds = f"{options.rounds} rounds of {options.duration:g} s"
    database = setup.database
    postgres = f", PostgreSQL database {database.name} (app-pg)" if database else ""
    return "\n".join(
        [
            "Civic Challenges benchmark: one run on this machine; "
            "each figure is a ratio against a baseline measured in the same run",
            f"  machine   {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}",
            f"  servers   one {_server_stack()} process each, --no-access-log --log-level warning",
            f"  pinning   {pinning.note}",
            f"  load      {generator.describe()}, {options.connections} connections, "
            f"127.0.0.1 only",
            f"  schedule  {options.warmup:g} s warm-up per server, then {rounds}, "
            "servers alternating",
            *dict.fromkeys(
                f"  compared  {c.candidate.name}: {c.candidate.description}; "
                f"{c.baseline.name}: {c.baseline.description}"
                for c in setup.comparisons
            ),
            f"  app       {APP.target} with its lifespan; SQLite {env.database_url} (app)"
            f"{postgres}, embedded Redis {env.redis_url}, "
            f"LOG_LEVEL={os.environ.get('LOG_LEVEL') or 'INFO (default)'}",
            *([f"  database  {setup.postgres_note}"] if setup.postgres_note else []),
        ]
    )


def _database_note(database: BenchDatabase, seeded: SeedReport, pinning: procs.Pinning) -> str:
    where = (
        f"its server processes moved to core {pinning.load_cpu} (the load core)"
        if pinning.load_cpu is not None
        else "its server processes not pinned"
    )
    return (
        f"PostgreSQL {database.server_version} on {database.where}, database {database.name} "
        f"(dropped at the end): {seeded.challenges:,} challenges ({seeded.public:,} public) of "
        f"{seeded.organizations} organizations; migrations {seeded.migrate_seconds:.1f} s, "
        f"seeding {seeded.seed_seconds:.1f} s (one COPY), VACUUM (ANALYZE) "
        f"{seeded.analyze_seconds:.1f} s; {where}"
    )


def _share(value: float | None) -> str:
    return "n/a" if value is None else report.percent(value)


def runs_table(outcomes: list[Outcome]) -> str:
    rows = [
        [
            str(run.round),
            run.server,
            report.rate(run.result.rps),
            report.millis(run.result.p50_ms),
            report.millis(run.result.p99_ms),
            str(run.result.errors),
            report.percent(run.server_cpu),
            _share(run.others_cpu),
            report.percent(run.result.cpu),
            _share(run.load_core),
            _share(run.db_cpu),
        ]
        for outcome in outcomes
        for run in outcome.runs
    ]
    headers = [
        "round",
        "server",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "server CPU",
        "others on its core",
        "load CPU",
        "load core",
        "database CPU",
    ]
    return report.table(headers, rows)


def figures_table(outcomes: list[Outcome], extra: list[list[str]] | None = None) -> str:
    rows = []
    for outcome in outcomes:
        comparison = outcome.comparison
        candidate, baseline = comparison.candidate.name, comparison.baseline.name
        spread = outcome.round_ratios()
        rows.append(
            [
                comparison.figure,
                report.rate(outcome.median_rps(candidate)),
                report.rate(outcome.median_rps(baseline)),
                f"{report.millis(outcome.median_ms(candidate, 'p50_ms'))}/"
                f"{report.millis(outcome.median_ms(candidate, 'p99_ms'))}",
                f"{report.millis(outcome.median_ms(baseline, 'p50_ms'))}/"
                f"{report.millis(outcome.median_ms(baseline, 'p99_ms'))}",
                report.ratio(outcome.ratio),
                f"{report.ratio(min(spread))}-{report.ratio(max(spread))}",
                report.ratio(outcome.cpu_ratio),
                f">= {report.ratio(comparison.target)}",
                outcome.verdict,
            ]
        )
    headers = [
        "figure",
        "candidate req/s",
        "baseline req/s",
        "cand. p50/p99 ms",
        "base p50/p99 ms",
        "ratio",
        "round ratios",
        "per CPU-s",
        "target",
        "met",
    ]
    return report.table(headers, rows + (extra or []))


def _why_idle(run: Run) -> str:
    """Who set the pace of a run whose server had CPU to spare."""
    parts = [f"load generator {report.percent(run.result.cpu)}"]
    if run.db_cpu is not None:
        parts.append(f"database {report.percent(run.db_cpu)}")
    if run.load_core is not None:
        parts.append(f"load core {report.percent(run.load_core)} busy")
    shares = ", ".join(parts)
    if run.db_cpu is not None and run.db_cpu >= max(run.result.cpu, run.server_cpu):
        return f"the database, not the server, set the pace ({shares} of a core)"
    return (
        f"the load side did not keep it busy ({shares} of a core: the generator too slow, "
        "or its own core crowded)"
    )


def _db_cost(outcome: Outcome) -> str | None:
    """Database CPU per request on either side, when the servers use the bench's database."""
    costs = []
    for spec in (outcome.comparison.candidate, outcome.comparison.baseline):
        per_request = [
            run.db_cpu / run.result.rps * 1000
            for run in outcome.of(spec.name)
            if run.db_cpu is not None and run.result.rps > 0
        ]
        if not per_request:
            return None
        costs.append(f"{spec.name} {statistics.median(per_request):.3f} ms")
    return f"{outcome.comparison.figure}: database CPU per request: {', '.join(costs)}"


def notes(outcomes: list[Outcome], skipped: dict[str, str] | None = None) -> list[str]:
    """What makes a figure less trustworthy than it looks, and the figures not measured."""
    found = [f"{figure}: skipped, {reason}" for figure, reason in (skipped or {}).items()]
    for outcome in outcomes:
        runs = outcome.runs
        errors = sum(run.result.errors for run in runs)
        if errors:
            found.append(f"{outcome.comparison.figure}: {errors} failed requests counted")
        if any(run.result.capped for run in runs):
            found.append(f"{outcome.comparison.figure}: a run hit its request cap (bound)")
        crowded_runs = [run for run in runs if run.crowded]
        idle_runs = [
            run
            for run in runs
            if run.core_busy < SATURATED
            or (run.server_cpu < SATURATED and run.load_side >= SATURATED)
        ]
        if idle_runs:
            least = min(idle_runs, key=lambda run: run.server_cpu)
            found.append(
                f"{outcome.comparison.figure}: {least.server} used only "
                f"{report.percent(least.server_cpu)} of its core: {_why_idle(least)}, so that "
                "run's req/s understate the server" + ("" if outcome.conclusive else "; no verdict")
            )
        if crowded_runs:
            worst = max(run.others_cpu or 0.0 for run in crowded_runs)
            found.append(
                f"{outcome.comparison.figure}: other processes used up to "
                f"{report.percent(worst)} of the servers' core in {len(crowded_runs)} run(s), "
                "so req/s swing with them; the per CPU-s ratio "
                f"({report.ratio(outcome.cpu_ratio)}) discounts them"
                + ("; no verdict on a busy machine" if outcome.crowded else "")
            )
        spread = outcome.round_ratios()
        if max(spread) - min(spread) > 0.1 * outcome.ratio:
            found.append(f"{outcome.comparison.figure}: round ratios vary by more than 10%")
        cost = _db_cost(outcome)
        if cost:
            found.append(cost)
    return found


def _drop(database: BenchDatabase) -> None:
    """Drops the bench's database; a failure here is reported, not raised over the outcome."""
    try:
        database.drop()
    except Exception as exc:
        print(
            f"could not drop the bench database {database.name} on {database.where}: {exc}",
            file=sys.stderr,
        )


def prepare(
    options: Options,
    pinning: procs.Pinning,
    environment: AppEnvironment,
    stack: contextlib.ExitStack,
) -> Setup:
    """The comparisons this run can make; a seeded database when one of them needs it."""
    chosen = [c for c in COMPARISONS if options.only == "all" or c.page]
    setup = Setup(comparisons=[c for c in chosen if not c.postgres])
    wanted = [c for c in chosen if c.postgres]
    if not wanted:
        return setup
    database = BenchDatabase(options.postgres_url)
    problem = database.unavailable()
    if problem is not None:
        reason = f"no PostgreSQL to seed: {problem}"
        _progress(f"{reason}; figures on PostgreSQL skipped")
        setup.skipped = {c.figure: reason for c in wanted}
        setup.postgres_note = f"none ({problem}): figures on PostgreSQL skipped"
        return setup
    stack.callback(_drop, database)
    _progress(
        f"creating {database.name} on {database.where}: migrations, "
        f"{options.challenges:,} challenges, VACUUM (ANALYZE)"
    )
    seeded = database.create(environment.env(), options.challenges)
    if any(c.candidate is dealflow.APP_DEALFLOW for c in wanted):
        _progress(f"  deal flow: {dealflow.STARTUPS:,} startups ranked for one investor")
        asyncio.run(dealflow.seed(database.url))
    _progress(
        f"  migrated in {seeded.migrate_seconds:.1f} s, seeded in {seeded.seed_seconds:.1f} s, "
        f"analyzed in {seeded.analyze_seconds:.1f} s"
    )
    setup.comparisons += wanted
    setup.database = database
    setup.postgres_note = _database_note(database, seeded, pinning)
    return setup


def _server_env(
    comparison: Comparison, environment: AppEnvironment, database: BenchDatabase | None
) -> dict[str, str]:
    env = environment.env()
    if comparison.postgres:
        if database is None:
            raise BenchError(f"{comparison.figure} needs the bench's PostgreSQL database")
        env["DATABASE_URL"] = database.url
    if comparison.page:
        # As deployed: production settings (a secret of the run's own; cookies marked Secure).
        env.update(ENV="production", SECRET_KEY=secrets.token_urlsafe(48))
    return env


def record_pages(app: RunningServer, comparisons: list[Comparison], directory: Path) -> Path:
    """Fetches each page figure's path from the app once and writes the answers for
    bare_bytes: the baseline then serves the very same bytes."""
    answers = {}
    for comparison in comparisons:
        if not comparison.page:
            continue
        answer = servers.fetch(app.base_url + comparison.path)
        if answer.status != 200:
            raise BenchError(
                f"{comparison.path} answered {answer.status} on {app.spec.name}: "
                f"{answer.body[:300]!r}"
            )
        answers[comparison.path] = (answer.status, answer.content_type, answer.body)
    path = directory / "recorded.json"
    bare_bytes.write(path, answers)
    return path


def bench(options: Options) -> int:
    pinning = procs.Pinning.detect()
    with tempfile.TemporaryDirectory(prefix="civic-bench-") as tmp, contextlib.ExitStack() as stack:
        directory = Path(tmp)
        _progress("starting: migrations, embedded Redis")
        environment = AppEnvironment(directory)
        stack.callback(environment.close)
        # The page figures run on PostgreSQL alone.
        environment.start(sqlite=options.only == "all")
        setup = prepare(options, pinning, environment, stack)
        generator = load.choose(options.loadgen, pinning, directory, ROOT)
        _progress("starting the servers")
        running: dict[str, RunningServer] = {}
        for comparison in setup.comparisons:
            env = _server_env(comparison, environment, setup.database)
            for spec in (comparison.candidate, comparison.baseline):
                if spec is BARE_BYTES and spec.name not in running:
                    recorded = record_pages(running[APP_PAGES.name], setup.comparisons, directory)
                    env = dict(env, BENCH_RECORDED=str(recorded))
                if spec.name not in running:
                    server = servers.launch(
                        spec, env=env, pinning=pinning, cwd=ROOT, log_dir=directory
                    )
                    stack.callback(server.stop)
                    running[spec.name] = server
        print(header(options, pinning, generator, environment, setup), flush=True)
        outcomes = [
            compare(
                comparison,
                running,
                generator,
                options,
                pinning,
                setup.database if comparison.postgres else None,
            )
            for comparison in setup.comparisons
        ]
        payout_figure = (
            payouts.measure(
                options.payouts,
                options.rounds,
                options.postgres_url,
                pinning,
                environment,
                directory,
                stack,
            )
            if options.payouts
            else payouts.PayoutFigure(skipped="--payouts 0")
        )
    print()
    print("Runs")
    print(runs_table(outcomes))
    if payout_figure.runs:
        print()
        print("Payout runs (p50/p99: from sending the jobs to each payout's paid_at)")
        print(payout_figure.runs_table())
    print()
    print(
        "Figures (medians over the rounds; ratio = candidate req/s (or payouts/s) / baseline's; "
        "per CPU-s = the same per second of server (or worker) CPU)"
    )
    print(figures_table(outcomes, [payout_figure.figure_row()] if payout_figure.measured else None))
    found = notes(outcomes, setup.skipped) + payout_figure.notes()
    if found:
        print()
        print("Notes")
        for note in found:
            print(f"  - {note}")
    print()
    met = [o for o in outcomes if o.verdict == "yes"]
    missed = [o.comparison.figure for o in outcomes if o.verdict == "NO"]
    unknown = [o.comparison.figure for o in outcomes if o.verdict == "n/a"]
    skipped = list(setup.skipped)
    met_count = len(met) + (payout_figure.verdict == "yes")
    if not payout_figure.measured:
        skipped.append(payouts.FIGURE)
    elif payout_figure.verdict == "NO":
        missed.append(payouts.FIGURE)
    elif payout_figure.verdict == "n/a":
        unknown.append(payouts.FIGURE)
    measured = len(outcomes) + payout_figure.measured
    print(
        f"  {met_count} of {measured} figures meet their target"
        + (f"; below target: {', '.join(missed)}" if missed else "")
        + (f"; no verdict: {', '.join(unknown)}" if unknown else "")
        + (f"; skipped: {', '.join(skipped)}" if skipped else "")
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    try:
        with _stop_on_signals():
            code = 0 if options.only == "dashboards" else bench(options)
            if code == 0 and options.only in ("all", "dashboards"):
                code = dashboards.measure(options.postgres_url)
            return code
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench interrupted; servers stopped", file=sys.stderr)
        return 130
