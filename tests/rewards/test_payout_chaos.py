"""Payouts exactly once through crashes: a real worker process (`python -m service worker`)
killed with SIGKILL at random moments and restarted, its Redis restarted (once cleanly, once by a
crash), and Stripe failing two calls in ten on the transfer endpoints (500s before and after
taking effect, timeouts, dropped connections). The sweeper re-queues what the crashes left
behind. Only the end state is checked, never timings: every milestone paid once, one transfer
per payout at Stripe, the ledger balanced.

Runs in `make test` (about a minute); `-m "not chaos"` leaves it out.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from redis.exceptions import RedisError
from starlette.applications import Starlette

from service.bootstrap import Deps
from service.challenges.models import Challenge, ChallengeStatus
from service.config import Settings
from service.core.jobs import JobQueue
from service.core.redis import connect
from service.integrations.fake_stripe import TEST_API_KEY, FakeStripe, Fault
from service.rewards import ledger, tasks
from service.rewards.gateway import StripeGateway
from service.rewards.models import (
    LedgerTransaction,
    Milestone,
    MilestoneStatus,
    Payout,
    PayoutStatus,
    TransactionKind,
)
from tests.rewards.payout_world import (
    PayoutWorld,
    RedisServer,
    WorkerProcess,
    build_world,
    release,
    worker_env,
)

pytestmark = pytest.mark.chaos

SEED = 20261127
# 7 challenges of one city, 6 winners each, 5 milestones each: 210 milestones, one payout each.
CHALLENGES, WINNERS_EACH, MILESTONES_EACH = 7, 6, 5
BATCH = 15  # milestones released one after the other, then a pause
RELEASE_GAP = 0.8  # seconds between batches
KILLS = 6  # SIGKILLs of the worker, each after 1.5-4 s of life
LIFE = (1.5, 4.0)
REDIS_RESTARTS = {4: "clean", 10: "crash"}  # after that many batches
FAULTS_PER_TEN = 2  # of every 10 calls to POST and GET /v1/transfers
CLIENT_TIMEOUT = 1.0  # the worker's timeout toward Stripe (STRIPE_TIMEOUT_SECONDS)
FAULT_TIMEOUT = 2.5  # a "timeout" fault holds the request this long, then takes effect
STUCK_AFTER = 8  # PAYOUT_STUCK_AFTER_SECONDS: the sweeper re-queues payouts idle this long
SWEEP_EVERY = 3.0
CHAOS_DEADLINE = 120.0  # seconds for the releases and kills
DEADLINE = 150.0  # seconds, after the chaos, for every payout to be paid

TRANSFER_ROUTES = ("POST /v1/transfers", "GET /v1/transfers")
FAULTS = [
    Fault("error_500"),
    Fault("error_500_after"),
    Fault("timeout", seconds=FAULT_TIMEOUT),
    Fault("drop"),
    Fault("drop", effect="before"),
]


def fault_script(rng: random.Random, length: int) -> list[Fault | None]:
    """Exactly FAULTS_PER_TEN faults in every ten calls, at random places and of random kinds:
    any ten calls or more in a row meet at least 10% of faults."""
    script: list[Fault | None] = []
    for _ in range(length // 10):
        block: list[Fault | None] = [None] * 10
        for i in rng.sample(range(10), FAULTS_PER_TEN):
            block[i] = rng.choice(FAULTS)
        script += block
    return script


@dataclass
class Log:
    """What happened, for the report."""

    started: float = field(default_factory=time.monotonic)
    events: list[str] = field(default_factory=list)
    # Payouts in flight (in the database) when each kill struck.
    in_flight_at_kill: list[int] = field(default_factory=list)
    worker_exits: int = 0
    lost_sends: int = 0
    sweeps: int = 0
    requeued: int = 0

    def __call__(self, message: str) -> None:
        self.events.append(f"{time.monotonic() - self.started:7.2f}s {message}")


class Chaos:
    """Releases the milestones in batches while killing the worker and restarting Redis, and
    keeps the worker running as a process manager would (it exits when Redis goes away)."""

    def __init__(
        self,
        settings: Settings,
        world: PayoutWorld,
        worker: WorkerProcess,
        redis: RedisServer,
        rng: random.Random,
    ) -> None:
        self.settings = settings
        self.world = world
        self.worker = worker
        self.redis = redis
        self.rng = rng
        self.log = Log()
        self.queue: JobQueue | None = None

    async def connect(self) -> JobQueue:
        await self.disconnect()
        pool = await connect(self.settings.redis_url, self.settings.queue_name)
        self.queue = JobQueue(pool, self.settings.queue_name)
        return self.queue

    async def disconnect(self) -> None:
        if self.queue is not None:
            with contextlib.suppress(RedisError, OSError):
                await self.queue.redis.aclose()
            self.queue = None

    async def run(self) -> None:
        world, worker, log = self.world, self.worker, self.log
        batches = [world.milestones[i : i + BATCH] for i in range(0, len(world.milestones), BATCH)]
        released = 0
        worker.start()
        log.started = time.monotonic()
        log(f"worker started (pid {worker.pid})")
        next_batch = time.monotonic()
        kill_at = time.monotonic() + self.rng.uniform(*LIFE)
        next_sweep = time.monotonic() + SWEEP_EVERY
        chaos_deadline = time.monotonic() + CHAOS_DEADLINE
        deadline: float | None = None
        while True:
            now = time.monotonic()
            if not worker.alive:
                log.worker_exits += 1
                log(f"worker exited with {worker.exit_code}; started again")
                worker.start()
            if released < len(batches) and now >= next_batch:
                await self.release(batches[released])
                released += 1
                log(f"batch {released}/{len(batches)} released")
                how = REDIS_RESTARTS.get(released)
                if how is not None:
                    await asyncio.to_thread(self.redis.restart, hard=how == "crash")
                    await self.connect()
                    log(f"Redis restarted ({how})")
                next_batch = time.monotonic() + RELEASE_GAP
            if worker.kills < KILLS and now >= kill_at:
                await self.kill()
                kill_at = time.monotonic() + self.rng.uniform(*LIFE)
            if now >= next_sweep:
                await self.sweep()
                next_sweep = time.monotonic() + SWEEP_EVERY
            if deadline is None and released == len(batches) and worker.kills >= KILLS:
                deadline = time.monotonic() + DEADLINE
                log("chaos over; waiting for every payout to be paid")
            if deadline is not None:
                paid = await Payout.filter(status=PayoutStatus.paid).count()
                if paid == len(world.milestones):
                    log("every payout paid")
                    return
                if now > deadline:
                    log(f"deadline passed with {paid} payouts paid")
                    return
            elif now > chaos_deadline:
                log("chaos deadline passed")
                return
            await asyncio.sleep(0.1)

    async def release(self, batch: list[tuple[int, int]]) -> None:
        for milestone_id, _ in batch:
            assert self.queue is not None
            try:
                await release(self.world, self.settings, milestone_id, self.queue)
            except (RedisError, OSError) as exc:
                # Committed, but its job never reached Redis: the sweeper's case.
                self.log.lost_sends += 1
                self.log(f"release of milestone {milestone_id} not queued: {exc!r}")

    async def kill(self) -> None:
        in_flight = await Payout.filter(status=PayoutStatus.in_flight).count()
        self.worker.kill()
        self.log.in_flight_at_kill.append(in_flight)
        self.log(f"worker killed with {in_flight} payouts in flight")
        await asyncio.sleep(self.rng.uniform(0.0, 0.5))
        self.worker.start()
        self.log(f"worker started again (pid {self.worker.pid})")

    async def sweep(self) -> None:
        """The sweeper cron's work, run from here every few seconds (the worker also runs it
        each time it starts)."""
        assert self.queue is not None
        deps = Deps(settings=self.settings, redis=self.queue.redis, queue=self.queue)
        try:
            self.log.requeued += await tasks.sweep_payouts(deps)
        except (RedisError, OSError) as exc:
            self.log(f"sweep could not queue: {exc!r}")
        self.log.sweeps += 1


async def test_every_milestone_is_paid_exactly_once_through_kills_restarts_and_faults(
    app: Starlette, settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    fake = await FakeStripe(seed=SEED, default_currency="eur").start_async()
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    chaos_settings = settings.with_overrides(
        redis_url=redis.url,
        redis_prefix=f"{settings.redis_prefix}chaos",
        stripe_secret_key=TEST_API_KEY,
        stripe_api_base=fake.url,
        stripe_timeout_seconds=CLIENT_TIMEOUT,
        payout_stuck_after_seconds=STUCK_AFTER,
        log_level="INFO",
    )
    gateway = StripeGateway(chaos_settings, timeout=10)
    worker = WorkerProcess(worker_env(chaos_settings), tmp_path / "worker.log")
    queue: JobQueue | None = None
    chaos: Chaos | None = None
    try:
        pool = await connect(chaos_settings.redis_url, chaos_settings.queue_name)
        queue = JobQueue(pool, chaos_settings.queue_name)

        async def onboard(account_id: str) -> None:
            fake.complete_onboarding(account_id)

        world = await build_world(
            chaos_settings,
            gateway,
            onboard=onboard,
            queue=queue,
            challenges=CHALLENGES,
            winners_each=WINNERS_EACH,
            milestones_each=MILESTONES_EACH,
        )
        # Released in no particular order, as milestones come due.
        rng.shuffle(world.milestones)
        fake.top_up(world.total + 1_000_000, "eur")
        balance_before = fake.counts()["balance"]["available"]["eur"]
        for route in TRANSFER_ROUTES:
            fake.faults.script(route, fault_script(rng, 4000))

        chaos = Chaos(chaos_settings, world, worker, redis, rng)
        await chaos.connect()
        await chaos.run()
        worker.stop()
        # A transfer held by a "timeout" fault takes effect late: let any such land first.
        await asyncio.sleep(FAULT_TIMEOUT + 0.5)

        summary = await report(chaos, fake)
        print(summary)
        await check_end_state(world, fake, balance_before, summary)
        assert worker.kills >= KILLS and redis.restarts >= len(REDIS_RESTARTS), summary
        counts = fake.counts()
        for route in TRANSFER_ROUTES:
            calls = counts["calls"].get(route, 0)
            injected = sum(
                n for key, n in counts["faults_injected"].items() if key.startswith(f"{route} ")
            )
            assert calls >= 10 and injected >= 0.1 * calls, (route, calls, injected, summary)
    finally:
        worker.kill()
        if chaos is not None:
            await chaos.disconnect()
        if queue is not None:
            with contextlib.suppress(RedisError, OSError):
                await queue.redis.aclose()
        redis.kill(hard=False)
        await gateway.aclose()
        await fake.stop_async()


async def report(chaos: Chaos, fake: FakeStripe) -> str:
    """What happened and where things stand: printed, and the message of every assertion."""
    log, world = chaos.log, chaos.world
    counts = fake.counts()
    groups = counts["transfers_by_group"]
    doubles = {g: n for g, n in groups.items() if n != 1}
    states = Counter(str(s) for s in await Payout.all().values_list("status", flat=True))
    unpaid = (
        await Payout.exclude(status=PayoutStatus.paid)
        .order_by("id")
        .values_list("id", "milestone_id", "status", "attempts", "last_error", "updated_at")
    )
    released = await Milestone.filter(
        id__in=[m for m, _ in world.milestones], status__not=MilestoneStatus.approved
    ).count()
    challenges = Counter(
        str(s)
        for s in await Challenge.filter(id__in=world.challenge_ids).values_list("status", flat=True)
    )
    lines = [
        f"milestones {len(world.milestones)}, released {released}, payouts {dict(states)}, "
        f"challenges {dict(challenges)}",
        f"worker starts {chaos.worker.starts}, kills {chaos.worker.kills}, exits on its own "
        f"{log.worker_exits}; Redis restarts {chaos.redis.restarts}; sends lost "
        f"{log.lost_sends}; sweeps {log.sweeps} re-queuing {log.requeued}",
        f"payouts in flight at each kill: {log.in_flight_at_kill}",
        f"Stripe calls {counts['calls']}",
        f"faults injected {counts['faults_injected']}",
        f"transfers {counts['transfers']}, groups {len(groups)}, not exactly one: {doubles}",
        f"ledger breaches {await ledger.check_invariants()}",
        "unpaid payouts (id, milestone, status, attempts, last error, updated):",
        *(f"  {row}" for row in unpaid[:30]),
        "events:",
        *(f"  {event}" for event in log.events),
        "worker log (tail):",
        chaos.worker.log_tail(60),
        "redis log (tail):",
        chaos.redis.log_tail(15),
    ]
    return "\n".join(lines)


async def check_end_state(
    world: PayoutWorld, fake: FakeStripe, balance_before: int, summary: str
) -> None:
    count = len(world.milestones)
    amounts = dict(world.milestones)
    payouts = await Payout.all().order_by("id")
    # One payout per milestone, paid, for the milestone's whole amount.
    assert sorted(p.milestone_id for p in payouts) == sorted(amounts), summary
    assert all(p.status is PayoutStatus.paid for p in payouts), summary
    assert all(p.amount_minor == amounts[p.milestone_id] for p in payouts), summary
    milestones = await Milestone.filter(id__in=list(amounts)).values_list("status", flat=True)
    assert set(milestones) == {MilestoneStatus.paid}, summary
    statuses = await Challenge.filter(id__in=world.challenge_ids).values_list("status", flat=True)
    assert statuses == [ChallengeStatus.completed] * len(world.challenge_ids), summary

    # Stripe holds exactly one transfer per payout, the one the payout recorded.
    counts = fake.counts()
    assert counts["transfers"] == count, summary
    assert counts["transfers_by_group"] == {p.idempotency_key: 1 for p in payouts}, summary
    assert sum(counts["transfers_by_group"].values()) == count, summary
    transfers = fake.state.transfers
    for p in payouts:
        transfer = transfers.get(p.stripe_transfer_id or "")
        assert transfer is not None, (p.id, summary)
        assert transfer["transfer_group"] == p.idempotency_key, summary
        assert transfer["amount"] == p.amount_minor, summary
        assert transfer["destination"] == world.accounts[p.organization_id], summary
    balance_after = counts["balance"]["available"]["eur"]
    assert balance_before - balance_after == world.total, summary

    # The ledger: balanced, every paid payout posted once, the paid total the milestones' sum.
    assert await ledger.check_invariants() == [], summary
    assert await LedgerTransaction.filter(kind=TransactionKind.payout).count() == count, summary
    paid = 0
    for challenge_id in world.challenge_ids:
        reward = (await Challenge.get(id=challenge_id)).reward_amount_minor
        totals = await ledger.totals(challenge_id, reward, "EUR")
        assert totals.paid == totals.allocated == totals.escrowed == reward, (totals, summary)
        paid += totals.paid
    assert paid == world.total == sum(amounts.values()), summary
