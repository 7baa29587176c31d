"""The payout figure: payouts per second through the real worker when Stripe fails one transfer
call in ten, against the same worker when Stripe fails none, measured in the same run.

Processes: the worker (`python -m service worker`) alone on the servers' core; the fake Stripe
server (`python -m service fake-stripe`) and the database's server processes on the load core.
The harness makes the data in a PostgreSQL database of its own (created and dropped like the
list figure's), releases milestones and watches the database.

One run: the treasurer releases N approved milestones with their `rewards.pay` jobs held back,
then all N jobs are sent at once. The run lasts until the last payout is paid (its `paid_at`);
its rate is N / that time, and p50/p99 are the times from the send to each payout's `paid_at`.
The faults are `error_500` (nothing done) and `error_500_after` (the transfer made, the answer
lost), exactly one in every ten calls to POST and GET /v1/transfers, at seeded places. After a
warm-up run without faults, rounds alternate: with faults, then without.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import statistics
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tortoise.connection import get_connection

import service.areas  # noqa: F401 - registers the areas, whose models the database loads
from service import db
from service.config import ROOT, Env, Settings
from service.core.jobs import Job, JobQueue
from service.core.redis import connect
from service.core.tasks import heartbeat_key
from service.integrations.fake_stripe import TEST_API_KEY
from service.rewards.gateway import StripeGateway
from service.rewards.models import Payout, PayoutStatus
from tests.bench import procs, report
from tests.bench.environment import AppEnvironment
from tests.bench.postgres import BenchDatabase, pin
from tests.bench.servers import BenchError
from tests.rewards.payout_world import (
    PayoutWorld,
    WorkerProcess,
    build_world,
    release,
    worker_env,
)

FIGURE = "payouts/s through the worker, 1 in 10 Stripe transfer calls failing / none failing"
TARGET = 0.8
FAULT_EVERY = 10
FAULT_KINDS = ("error_500", "error_500_after")
TRANSFER_ROUTES = ("POST /v1/transfers", "GET /v1/transfers")
# Each challenge of the city: 4 winners with 6 milestones each.
WINNERS_EACH, MILESTONES_EACH = 4, 6
START_TIMEOUT = 60.0
RUN_TIMEOUT = 300.0
SEED = 20261127
# As the harness has it: above this share of the worker's core taken by other processes, a run's
# pace is theirs as much as the worker's, and the figure gets no verdict.
CROWDED = 0.10

# Traffic stays on this machine: no proxy from the environment is ever used.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class FakeStripeProcess:
    """`python -m service fake-stripe` on a free port, controlled over its /_fake/ endpoints."""

    def __init__(self, directory: Path, pinning: procs.Pinning) -> None:
        self.port = procs.free_port()
        self.log_path = directory / "fake-stripe.log"
        argv = [sys.executable, "-m", "service", "fake-stripe", "--port", str(self.port)]
        argv += ["--currency", "eur", "--seed", str(SEED)]
        with self.log_path.open("wb") as log:
            self.process = procs.spawn(
                pinning.load(argv), cwd=str(ROOT), stdout=log.fileno(), stderr=log.fileno()
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - our own server on 127.0.0.1
            self.url + path, data=data, method=method, headers={"content-type": "application/json"}
        )
        with _opener.open(request, timeout=10) as answer:
            return json.loads(answer.read())

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise BenchError(f"the fake Stripe server exited:\n{_tail(self.log_path)}")
            try:
                self.control("GET", "/_fake/counts")
                return
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise BenchError("the fake Stripe server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        procs.stop(self.process)


class Held:
    """Keeps the jobs a release queues, to send them all at the start of a run."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    async def send(self, job: Job) -> None:
        self.jobs.append(job)


@dataclass(frozen=True)
class PayoutRun:
    round: int
    faults: bool
    payouts: int
    seconds: float
    # From the send to each payout's paid_at, in seconds.
    latencies: list[float]
    # Shares of a core over the run: the worker, anything else on the worker's core, the fake
    # Stripe server, the database's server processes, the whole load core (None: not pinned).
    worker_cpu: float
    others_cpu: float | None
    fake_cpu: float
    db_cpu: float
    load_core: float | None
    transfer_calls: int
    injected: int

    @property
    def rate(self) -> float:
        return self.payouts / self.seconds if self.seconds > 0 else 0.0

    @property
    def per_cpu_second(self) -> float:
        used = self.worker_cpu * self.seconds
        return self.payouts / used if used > 0 else 0.0

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class PayoutFigure:
    runs: list[PayoutRun] = field(default_factory=list)
    skipped: str = ""
    note: str = ""

    def of(self, faults: bool) -> list[PayoutRun]:
        return [run for run in self.runs if run.faults is faults and run.round > 0]

    def median_rate(self, faults: bool) -> float:
        return statistics.median(run.rate for run in self.of(faults))

    def median_ms(self, faults: bool, q: float) -> float:
        return statistics.median(run.quantile(q) for run in self.of(faults)) * 1000

    @property
    def ratio(self) -> float:
        baseline = self.median_rate(False)
        return self.median_rate(True) / baseline if baseline else 0.0

    @property
    def cpu_ratio(self) -> float:
        candidate, baseline = (
            statistics.median(run.per_cpu_second for run in self.of(faults))
            for faults in (True, False)
        )
        return candidate / baseline if baseline else 0.0

    def round_ratios(self) -> list[float]:
        clean = {run.round: run.rate for run in self.of(False)}
        return [run.rate / clean[run.round] for run in self.of(True) if clean.get(run.round)]

    @property
    def measured(self) -> bool:
        return bool(self.of(True) and self.of(False))

    @property
    def crowded(self) -> bool:
        """Other processes took a share of the worker's core in a typical run of either side."""
        return any(
            statistics.median(run.others_cpu or 0.0 for run in self.of(faults)) > CROWDED
            for faults in (True, False)
        )

    @property
    def verdict(self) -> str:
        if not self.measured or self.crowded:
            return "n/a"
        return "yes" if self.ratio >= TARGET else "NO"

    def runs_table(self) -> str:
        headers = [
            "round",
            "faults",
            "payouts",
            "seconds",
            "payouts/s",
            "p50 ms",
            "p99 ms",
            "worker CPU",
            "others on its core",
            "fake Stripe CPU",
            "database CPU",
            "load core",
            "transfer calls",
            "failed calls",
        ]
        rows = [
            [
                "warm-up" if run.round == 0 else str(run.round),
                "1 in 10" if run.faults else "none",
                str(run.payouts),
                f"{run.seconds:.2f}",
                report.rate(run.rate),
                report.millis(run.quantile(0.5) * 1000),
                report.millis(run.quantile(0.99) * 1000),
                report.percent(run.worker_cpu),
                "n/a" if run.others_cpu is None else report.percent(run.others_cpu),
                report.percent(run.fake_cpu),
                report.percent(run.db_cpu),
                "n/a" if run.load_core is None else report.percent(run.load_core),
                str(run.transfer_calls),
                str(run.injected),
            ]
            for run in self.runs
        ]
        return report.table(headers, rows)

    def figure_row(self) -> list[str]:
        spread = self.round_ratios()
        return [
            FIGURE,
            report.rate(self.median_rate(True)),
            report.rate(self.median_rate(False)),
            f"{report.millis(self.median_ms(True, 0.5))}/"
            f"{report.millis(self.median_ms(True, 0.99))}",
            f"{report.millis(self.median_ms(False, 0.5))}/"
            f"{report.millis(self.median_ms(False, 0.99))}",
            report.ratio(self.ratio),
            f"{report.ratio(min(spread))}-{report.ratio(max(spread))}",
            report.ratio(self.cpu_ratio),
            f">= {report.ratio(TARGET)}",
            self.verdict,
        ]

    def notes(self) -> list[str]:
        if self.skipped:
            return [f"{FIGURE}: skipped, {self.skipped}"]
        found = [f"{FIGURE}: {self.note}"] if self.note else []
        if self.verdict == "n/a" and self.measured:
            side = "at or above" if self.ratio >= TARGET else "below"
            found.append(
                f"{FIGURE}: other processes used over {report.percent(CROWDED)} of the worker's "
                "core in a typical run, so payouts/s swing with them; no verdict on a busy "
                f"machine (the ratio, {report.ratio(self.ratio)}, is {side} the target "
                f"{report.ratio(TARGET)}; the per CPU-s ratio, {report.ratio(self.cpu_ratio)}, "
                "discounts the other processes)"
            )
        spread = self.round_ratios()
        if spread and max(spread) - min(spread) > 0.1 * self.ratio:
            found.append(f"{FIGURE}: round ratios vary by more than 10%")
        return found


def fault_rules(rng: random.Random, calls: int) -> list[dict[str, Any]]:
    """Exactly one fault in every ten calls of each transfer route, at a random place."""
    rules = []
    for route in TRANSFER_ROUTES:
        script: list[dict[str, Any] | None] = []
        for _ in range(calls // FAULT_EVERY + 1):
            block: list[dict[str, Any] | None] = [None] * FAULT_EVERY
            block[rng.randrange(FAULT_EVERY)] = {"kind": rng.choice(FAULT_KINDS)}
            script += block
        rules.append({"route": route, "script": script})
    return rules


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += procs.cpu_seconds(pid)
    return total


def _busy(cpu: int | None) -> float | None:
    return None if cpu is None else procs.core_busy_seconds(cpu)


def _transfer_counts(counts: dict[str, Any]) -> tuple[int, int]:
    calls = sum(int(counts["calls"].get(route, 0)) for route in TRANSFER_ROUTES)
    injected = sum(
        int(n)
        for key, n in counts["faults_injected"].items()
        if any(key.startswith(f"{route} ") for route in TRANSFER_ROUTES)
    )
    return calls, injected


class Bench:
    """The data, the processes and the runs of the figure."""

    def __init__(
        self,
        settings: Settings,
        fake: FakeStripeProcess,
        worker: WorkerProcess,
        database: BenchDatabase,
        pinning: procs.Pinning,
    ) -> None:
        self.settings = settings
        self.fake = fake
        self.worker = worker
        self.database = database
        self.pinning = pinning
        self.rng = random.Random(SEED)
        self.queue: JobQueue | None = None
        self.world: PayoutWorld | None = None
        self.next_milestone = 0

    async def prepare(self, milestones: int) -> None:
        settings = self.settings
        await db.init_db(settings)
        redis = await connect(settings.redis_url, settings.queue_name)
        self.queue = JobQueue(redis, settings.queue_name)
        gateway = StripeGateway(settings)

        async def onboard(account_id: str) -> None:
            self.fake.control("POST", f"/_fake/accounts/{account_id}/complete_onboarding")

        per_challenge = WINNERS_EACH * MILESTONES_EACH
        challenges = -(-milestones // per_challenge)
        _progress(
            f"  making {challenges * per_challenge:,} approved milestones in {challenges} "
            f"challenges of {WINNERS_EACH} winners"
        )
        began = time.monotonic()
        try:
            self.world = await build_world(
                settings,
                gateway,
                onboard=onboard,
                queue=Held(),
                challenges=challenges,
                winners_each=WINNERS_EACH,
                milestones_each=MILESTONES_EACH,
            )
        finally:
            await gateway.aclose()
        # Released in no particular order, as milestones come due.
        self.rng.shuffle(self.world.milestones)
        # The planner's statistics, as autovacuum would have them on a live database.
        await get_connection("default").execute_script("VACUUM (ANALYZE)")
        _progress(f"  made in {time.monotonic() - began:.1f} s")
        self.fake.control(
            "POST", "/_fake/balance", {"amount": self.world.total + 1_000_000, "currency": "eur"}
        )
        await redis.delete(heartbeat_key(settings.redis_prefix))
        self.worker.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not await redis.exists(heartbeat_key(settings.redis_prefix)):
            self._check_worker()
            if time.monotonic() > deadline:
                raise BenchError(f"the worker did not start:\n{self.worker.log_tail(30)}")
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        if self.queue is not None:
            await self.queue.redis.aclose()
        await db.close_db()

    def _check_worker(self) -> None:
        if not self.worker.alive:
            raise BenchError(
                f"the worker exited with {self.worker.exit_code}:\n{self.worker.log_tail(30)}"
            )

    async def run(self, number: int, count: int, *, faults: bool) -> PayoutRun:
        assert self.world is not None and self.queue is not None
        if faults:
            rules = fault_rules(self.rng, 4 * count)
            self.fake.control("POST", "/_fake/faults", {"rules": rules, "replace": True})
        else:
            self.fake.control("DELETE", "/_fake/faults")
        before = self.fake.control("GET", "/_fake/counts")
        batch = self.world.milestones[self.next_milestone : self.next_milestone + count]
        self.next_milestone += count
        held = Held()
        for milestone_id, _ in batch:
            await release(self.world, self.settings, milestone_id, held)
        milestone_ids = [milestone_id for milestone_id, _ in batch]
        ids = list(await Payout.filter(milestone_id__in=milestone_ids).values_list("id", flat=True))
        assert self.worker.pid is not None
        db_pids = await asyncio.to_thread(self.database.backend_pids)
        if self.pinning.load_cpu is not None:
            # Moved off the worker's core (its pool opens connections as it needs them).
            pin(db_pids, self.pinning.load_cpu)
        watched = {"worker": [self.worker.pid], "fake": [self.fake.process.pid], "db": db_pids}
        cpu_before = {name: _cpu(pids) for name, pids in watched.items()}
        core_before = _busy(self.pinning.load_cpu)
        own_core_before = _busy(self.pinning.server_cpu)
        started = time.time()
        for job in held.jobs:
            await self.queue.send(job)
        deadline = time.monotonic() + RUN_TIMEOUT
        while await Payout.filter(id__in=ids, status=PayoutStatus.paid).count() < len(ids):
            self._check_worker()
            if time.monotonic() > deadline:
                raise BenchError(f"payouts still unpaid after {RUN_TIMEOUT:.0f} s")
            await asyncio.sleep(0.02)
        ended = time.time()
        wall = ended - started
        cpu = {name: (_cpu(pids) - cpu_before[name]) / wall for name, pids in watched.items()}
        core = _busy(self.pinning.load_cpu)
        own_core = _busy(self.pinning.server_cpu)
        others = None
        if own_core is not None:
            used = own_core - (own_core_before or 0.0)
            others = max(0.0, used / wall - cpu["worker"])
        paid_at = await Payout.filter(id__in=ids).values_list("paid_at", flat=True)
        latencies = [p.timestamp() - started for p in paid_at]
        after = self.fake.control("GET", "/_fake/counts")
        transfers = int(after["transfers"]) - int(before["transfers"])
        if transfers != len(ids):
            raise BenchError(f"{transfers} transfers for {len(ids)} payouts: not exactly once")
        calls_before, injected_before = _transfer_counts(before)
        calls_after, injected_after = _transfer_counts(after)
        return PayoutRun(
            round=number,
            faults=faults,
            payouts=len(ids),
            seconds=max(latencies),
            latencies=latencies,
            worker_cpu=cpu["worker"],
            others_cpu=others,
            fake_cpu=cpu["fake"],
            db_cpu=cpu["db"],
            load_core=None if core is None else (core - (core_before or 0.0)) / wall,
            transfer_calls=calls_after - calls_before,
            injected=injected_after - injected_before,
        )


def measure(
    payouts: int,
    rounds: int,
    postgres_url: str,
    pinning: procs.Pinning,
    environment: AppEnvironment,
    directory: Path,
    stack: contextlib.ExitStack,
) -> PayoutFigure:
    """The figure's runs; skipped (with the reason) without a PostgreSQL to create a database."""
    figure = PayoutFigure()
    database = BenchDatabase(postgres_url)
    problem = database.unavailable()
    if problem is not None:
        figure.skipped = f"no PostgreSQL for the payouts' database: {problem}"
        _progress(figure.skipped)
        return figure
    stack.callback(_drop, database)
    _progress(f"payouts: database {database.name}, fake Stripe and worker processes")
    env = environment.env()
    database.create(env, 0)
    fake = FakeStripeProcess(directory, pinning)
    stack.callback(fake.stop)
    fake.wait_ready()
    settings = Settings(
        env=Env.development,
        database_url=database.url,
        redis_url=environment.redis_url,
        redis_prefix="bench-payouts",
        stripe_secret_key=TEST_API_KEY,
        stripe_api_base=fake.url,
        storage_dir=directory / "uploads",
        log_level="WARNING",
    )
    worker = WorkerProcess(worker_env(settings), directory / "worker.log", wrap=pinning.server)
    stack.callback(worker.stop)
    bench = Bench(settings, fake, worker, database, pinning)
    warmup = max(20, payouts // 3)

    async def run_all() -> None:
        await bench.prepare(warmup + 2 * rounds * payouts)
        try:
            _progress(f"  warm-up  {warmup} payouts, no faults")
            figure.runs.append(await bench.run(0, warmup, faults=False))
            for number in range(1, rounds + 1):
                for faults in (True, False):
                    run = await bench.run(number, payouts, faults=faults)
                    figure.runs.append(run)
                    _progress(
                        f"  round {number}  {'faults' if faults else 'none  '} "
                        f"{report.rate(run.rate):>6} payouts/s  p99 "
                        f"{report.millis(run.quantile(0.99) * 1000)} ms  "
                        f"(worker {report.percent(run.worker_cpu)} of its core)"
                    )
        finally:
            await bench.close()

    try:
        asyncio.run(run_all())
    except BenchError as exc:
        # The other figures stand; this one says why it has no value.
        figure.runs.clear()
        figure.skipped = f"could not measure: {exc}"
        _progress(f"payouts: {figure.skipped}")
        return figure
    finally:
        worker.stop()
    figure.note = (
        f"{payouts} payouts per run on PostgreSQL {database.server_version}; worker "
        f"`python -m service worker` (WORKER_MAX_JOBS={settings.worker_max_jobs}), fake Stripe "
        f"`python -m service fake-stripe`; faults {' and '.join(FAULT_KINDS)}, 1 in "
        f"{FAULT_EVERY} calls to {' and '.join(TRANSFER_ROUTES)}"
    )
    return figure


def _drop(database: BenchDatabase) -> None:
    try:
        database.drop()
    except Exception as exc:
        print(f"could not drop the bench database {database.name}: {exc}", file=sys.stderr)
