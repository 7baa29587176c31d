"""Two web processes and two job workers on one PostgreSQL and one Redis, as a scaled-out
deployment runs them (`python -m service run --web-processes 2 --workers 2`, or compose
replicas behind a load balancer).

One browser talks to both web processes in turn: a session opened on one is valid on the
other, a CSRF token from one is accepted by the other (and a wrong one refused by both), a
file uploaded to one is served by the other, and failed sign-ins count toward one limit
whichever process took them. The workers pay milestones through the fake Stripe server while
every payout's job is queued twice (both workers race for the same rows: row locks and
idempotency keys keep it to one transfer each), and one worker is killed with SIGKILL in the
middle of a transfer: it is started again, as a process manager would, and its payout is
paid once. Cron jobs run once per tick, not once per worker: for every tick of the schedule
while both workers ran, the logs of both together show each cron job due then started once.

A second test starts the `run` command itself with 2 + 2 processes and stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from redis.exceptions import RedisError
from starlette.applications import Starlette

from service import runner
from service.accounts.models import OrganizationKind, Role
from service.challenges.models import Attachment
from service.config import ROOT, Settings
from service.core import jobs
from service.core.jobs import Job, JobQueue
from service.core.redis import connect
from service.integrations.fake_stripe import TEST_API_KEY, FakeStripe, Fault
from service.rewards import ledger
from service.rewards.gateway import StripeGateway
from service.rewards.models import Payout, PayoutStatus
from tests import factories
from tests.challenges.factories import make_draft_challenge
from tests.processes import ProcessGroup, WebProcess
from tests.rewards.payout_world import (
    PayoutWorld,
    RedisServer,
    WorkerProcess,
    build_world,
    free_port,
    release,
    worker_env,
)

pytestmark = [pytest.mark.processes, pytest.mark.chaos]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
SIGNIN_PER_IP = 4
STUCK_AFTER = 2  # PAYOUT_STUCK_AFTER_SECONDS: the restarted worker's sweep re-queues then
DELAY = 3.0  # seconds the first transfers are held at Stripe (a slow answer, not an error)
DEADLINE = 60.0


# arq logs a job's start as `  0.12s → <job id>:<function>(<args>)` and its end with `←`; a
# cron job's start without its id: `  0.12s → <cron name>()`, with ` try=2` when run again.
_PAY_STARTED = re.compile(r"→ (\S+):rewards\.pay\(")
_PAY_ENDED = re.compile(r"← (\S+):rewards\.pay ")
_CRON_STARTED = re.compile(r"→ ([\w.]+)\(\)(.*)$")
# A worker's start-up runs (`run_at_startup`) begin within this long of its start (within
# 0.2 s here: they are queued at its first poll).
STARTUP_RUNS_SECONDS = 4.0
# A scheduled run starts at its tick (arq defers it until then) and, on a busy machine,
# within this long after it. One cron job's ticks are at least 30 s apart.
TICK_LATE_SECONDS = 9.0
# Log times are rounded: a run is counted from this long before its tick.
TICK_EARLY_SECONDS = 0.5


def _log_entries(path: Path) -> list[tuple[datetime, str]]:
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            entry = json.loads(line)
            entries.append((datetime.fromisoformat(entry["time"]), str(entry["message"])))
    return entries


def _log_messages(path: Path) -> list[str]:
    return [message for _, message in _log_entries(path)]


def pay_jobs_started(path: Path) -> list[str]:
    return [m.group(1) for msg in _log_messages(path) if (m := _PAY_STARTED.search(msg))]


def unfinished_pay_jobs(path: Path) -> set[str]:
    messages = _log_messages(path)
    started = {m.group(1) for msg in messages if (m := _PAY_STARTED.search(msg))}
    ended = {m.group(1) for msg in messages if (m := _PAY_ENDED.search(msg))}
    return started - ended


def cron_ticks(start: datetime, end: datetime) -> dict[datetime, Counter[str]]:
    """Every tick of the schedule in (start, end]: the cron jobs due at that moment."""
    jobs.load_tasks()
    ticks: dict[datetime, Counter[str]] = defaultdict(Counter)
    for cron_job in jobs.arq_cron_jobs():
        cron_job.calculate_next(start)
        while cron_job.next_run is not None and cron_job.next_run <= end:
            ticks[cron_job.next_run][cron_job.name] += 1
            cron_job.calculate_next(cron_job.next_run)
    return ticks


class CronRuns:
    """The cron jobs that the workers started, read from their logs."""

    def __init__(self, paths: list[Path]) -> None:
        jobs.load_tasks()
        self.names = set(jobs.CRONS)
        self.worker_starts: list[datetime] = []
        # (when, cron name): first runs only; ` try=2` is a run of a killed worker's job
        # again (the same tick's job), not a second scheduling of the tick.
        self.runs: list[tuple[datetime, str]] = []
        for path in paths:
            for when, message in _log_entries(path):
                if message.startswith("Starting worker for"):
                    self.worker_starts.append(when)
                found = _CRON_STARTED.search(message)
                if found and found.group(1) in self.names and "try=" not in found.group(2):
                    self.runs.append((when, found.group(1)))

    def checkable_ticks(self, now: datetime) -> dict[datetime, Counter[str]]:
        """Ticks whose runs are all in the logs by now, away from any worker's start-up runs."""
        if not self.worker_starts:
            return {}
        settle = timedelta(seconds=STARTUP_RUNS_SECONDS)
        early = timedelta(seconds=TICK_EARLY_SECONDS)
        late = timedelta(seconds=TICK_LATE_SECONDS)
        ticks = cron_ticks(min(self.worker_starts) + settle, now - late)
        return {
            tick: due
            for tick, due in ticks.items()
            if not any(
                tick - early - settle <= start <= tick + late for start in self.worker_starts
            )
        }

    def started_at(self, tick: datetime, names: set[str]) -> Counter[str]:
        """How many times each of these cron jobs started at this tick."""
        early = timedelta(seconds=TICK_EARLY_SECONDS)
        late = timedelta(seconds=TICK_LATE_SECONDS)
        return Counter(
            name
            for when, name in self.runs
            if name in names and tick - early <= when <= tick + late
        )


async def _wait(predicate: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_two_web_processes_and_two_workers_share_all_state(
    app: Starlette, settings: Settings, tmp_path: Path
) -> None:
    fake = await FakeStripe(seed=7, default_currency="eur").start_async()
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    mp = settings.with_overrides(
        redis_url=redis.url,
        redis_prefix=f"{settings.redis_prefix}mp",
        stripe_secret_key=TEST_API_KEY,
        stripe_api_base=fake.url,
        stripe_timeout_seconds=15.0,
        payout_stuck_after_seconds=STUCK_AFTER,
        log_level="INFO",
    )
    env = worker_env(mp) | {
        "RATE_SIGNIN_PER_IP": str(SIGNIN_PER_IP),
        # Failures on one account would otherwise slow the next attempt down by seconds.
        "SIGNIN_FREE_FAILURES": "100",
        # Two jobs at a time each: a worker reads at most that many from the queue per poll,
        # so one worker cannot take all the payouts' jobs and leave none to the other.
        "WORKER_MAX_JOBS": "2",
    }
    gateway = StripeGateway(mp, timeout=10)
    queue = JobQueue(await connect(mp.redis_url, mp.queue_name), mp.queue_name)
    try:
        with ProcessGroup() as group:
            webs = [group.add(WebProcess(env, tmp_path / f"web{i}.log")) for i in range(2)]
            workers = [group.add(WorkerProcess(env, tmp_path / f"worker{i}.log")) for i in range(2)]
            for web in webs:
                web.start()
            for worker in workers:
                worker.start()

            async def onboard(account_id: str) -> None:
                fake.complete_onboarding(account_id)

            world = await build_world(
                mp,
                gateway,
                onboard=onboard,
                queue=queue,
                challenges=1,
                winners_each=3,
                milestones_each=3,
            )
            fake.top_up(world.total + 1_000_000, "eur")
            # The first transfers are slow to answer: workers are caught in the middle of one.
            fake.faults.script("POST /v1/transfers", [Fault("delay", seconds=DELAY)] * 4)
            for web in webs:
                await asyncio.to_thread(web.wait_ready)

            await _browser_across_processes(webs[0].url, webs[1].url, mp)
            await _payouts_with_a_kill(world, mp, queue, fake, workers)
            await _crons_once_per_tick(workers)
            for process in workers:
                assert "Traceback" not in process.log_tail(400), process.log_tail(80)
            for web in webs:
                assert "Traceback" not in web.log_tail(400), web.log_tail(80)
    finally:
        with contextlib.suppress(RedisError, OSError):
            await queue.redis.aclose()
        redis.kill(hard=True)
        await gateway.aclose()
        await fake.stop_async()


async def _browser_across_processes(a: str, b: str, settings: Settings) -> None:
    """One browser (one cookie jar: cookies do not tell ports apart), two processes."""
    manager = await factories.make_user()
    city = await factories.make_org(
        kind=OrganizationKind.government, members={manager: Role.manager}
    )
    challenge = await make_draft_challenge(city)
    async with httpx.AsyncClient() as browser:
        # The sign-in form's CSRF token comes from A, the form is posted to B.
        form = await browser.get(f"{a}/signin")
        signin = await browser.post(
            f"{b}/signin",
            data={
                "csrf_token": factories.csrf_of(form.text),
                "email": manager.email,
                "password": factories.PASSWORD,
            },
        )
        assert signin.status_code == 303, signin.text[:500]
        # The session opened on B is valid on A.
        account = await browser.get(f"{a}/account")
        assert account.status_code == 200 and manager.email in account.text
        csrf = factories.csrf_of(account.text)

        # A file uploaded to B is served by A.
        upload = await browser.post(
            f"{b}/challenges/{challenge.id}/attachments",
            data={"csrf_token": csrf},
            files={"file": ("terms.pdf", PDF, "application/pdf")},
        )
        assert upload.status_code == 303, upload.text[:500]
        attachment = await Attachment.get(challenge_id=challenge.id)
        served = await browser.get(f"{a}/challenges/{challenge.id}/attachments/{attachment.id}")
        assert served.status_code == 200 and served.content == PDF

        # A forged token is refused by either; the real one (from A) is accepted by B.
        for url in (a, b):
            forged = await browser.post(f"{url}/signout", data={"csrf_token": "forged"})
            assert forged.status_code == 403, forged.text[:300]
        out = await browser.post(f"{b}/signout", data={"csrf_token": csrf})
        assert out.status_code == 303
        # Ended for both processes: the account page asks to sign in again.
        for url in (a, b):
            after = await browser.get(f"{url}/account")
            assert after.status_code == 401 and manager.email not in after.text

        # Failed sign-ins from one address count toward one limit, wherever they land.
        codes = []
        for attempt in range(SIGNIN_PER_IP + 2):
            url = (a, b)[attempt % 2]
            form = await browser.get(f"{url}/signin")
            failed = await browser.post(
                f"{url}/signin",
                data={
                    "csrf_token": factories.csrf_of(form.text),
                    "email": f"nobody{attempt}@example.org",
                    "password": "wrong password, surely",
                },
            )
            codes.append(failed.status_code)
        assert 429 not in codes[:SIGNIN_PER_IP], codes
        assert codes[SIGNIN_PER_IP:] == [429, 429], codes


async def _payouts_with_a_kill(
    world: PayoutWorld,
    settings: Settings,
    queue: JobQueue,
    fake: FakeStripe,
    workers: list[WorkerProcess],
) -> None:
    """Every milestone released; each payout's job queued a second time under another id, so
    that both workers go for the same payouts; worker 0 killed in the middle of a transfer."""
    for milestone_id, _ in world.milestones:
        await release(world, settings, milestone_id, queue)
    for payout_id in await Payout.all().values_list("id", flat=True):
        await queue.send(Job("rewards.pay", {"payout_id": payout_id}, f"again-{payout_id}"))

    victim = workers[0]

    async def caught_mid_transfer() -> bool:
        return bool(unfinished_pay_jobs(victim.log_path)) and bool(
            fake.counts()["calls"].get("POST /v1/transfers", 0)
        )

    await _wait(caught_mid_transfer, 30, "worker 0 to be in the middle of a transfer")
    victim.kill()
    in_flight = await Payout.filter(status=PayoutStatus.in_flight).count()
    # As a process manager would, once the payout has been idle long enough to count as
    # stuck: the worker's sweep at start queues it again.
    await asyncio.sleep(STUCK_AFTER + 0.5)
    victim.start()

    count = len(world.milestones)

    async def all_paid() -> bool:
        return await Payout.filter(status=PayoutStatus.paid).count() == count

    await _wait(all_paid, DEADLINE, f"every payout paid ({in_flight} in flight at the kill)")
    # A held transfer may land after its payout was recorded through the lookup: wait it out.
    await asyncio.sleep(DELAY)
    counts = fake.counts()
    payouts = await Payout.all()
    assert len(payouts) == count
    assert counts["transfers"] == count, counts
    assert counts["transfers_by_group"] == {p.idempotency_key: 1 for p in payouts}, counts
    assert {p.stripe_transfer_id for p in payouts} == set(fake.state.transfers), counts
    assert await ledger.check_invariants() == []
    # Both workers took part.
    for worker in workers:
        assert pay_jobs_started(worker.log_path), worker.log_tail(40)


async def _crons_once_per_tick(workers: list[WorkerProcess]) -> None:
    """Each tick of the schedule seen while both workers ran (away from their start-up runs,
    which every worker start makes once, on purpose): each cron job due then was started
    once in all, by one worker or the other."""
    paths = [w.log_path for w in workers]

    async def a_tick_to_check() -> bool:
        return bool(CronRuns(paths).checkable_ticks(datetime.now(UTC)))

    # Ticks fall at most 15 s apart (seconds 0, 5, 20, 30, 35, 40, 50 of each minute).
    await _wait(a_tick_to_check, 15 + STARTUP_RUNS_SECONDS + TICK_LATE_SECONDS, "a cron tick")
    runs = CronRuns(paths)
    ticks = runs.checkable_ticks(datetime.now(UTC))
    for tick, due in ticks.items():
        started = runs.started_at(tick, set(due))
        assert started == due, (tick, due, started, sorted(runs.runs))


def test_run_command_starts_and_stops_every_process(settings: Settings, tmp_path: Path) -> None:
    """`python -m service run --web-processes 2 --workers 2`: four servers, one port, every
    one of them gone after SIGTERM."""
    port = free_port()
    # A Redis of its own: cron job ids are the same for every instance sharing a server.
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    env = worker_env(settings) | {"REDIS_URL": redis.url}
    argv = [
        sys.executable,
        "-m",
        "service",
        "run",
        "--port",
        str(port),
        "--web-processes",
        "2",
        "--workers",
        "2",
    ]
    log = tmp_path / "run.log"
    with log.open("ab") as out:
        runner = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=out, stderr=out, start_new_session=True
        )
    web = WebProcess(env, log)
    web.port = port
    try:
        web.process = runner
        # Four processes import the whole app at once: slow on a busy machine.
        web.wait_ready(timeout=120)
        children = _descendants(runner.pid)
        commands = [_cmdline(pid) for pid in children]
        workers = [c for c in commands if c[-2:] == ["service", "worker"]]
        # uvicorn's supervisor and its two server processes (multiprocessing children).
        servers = [c for c in commands if "multiprocessing" in " ".join(c)]
        assert len(workers) == 2, commands
        assert len(servers) >= 2, commands
        for _ in range(4):
            assert httpx.get(f"http://127.0.0.1:{port}/challenges").status_code == 200
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(30) == 0, log.read_text()[-3000:]
        alive = [pid for pid in children if _alive(pid)]
        assert alive == [], [_cmdline(pid) for pid in alive]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(runner.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            runner.wait(timeout=5)
        redis.kill(hard=True)


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            with contextlib.suppress(OSError):
                kids = [int(k) for k in (task / "children").read_text().split()]
                found += kids
                pending += kids
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().split("\0")[:-1]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_second_run_of_one_checkout_is_refused_its_embedded_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two `run`s would share the embedded Redis, and stopping one would stop it under the
    other: the second is refused before it starts anything, and the first keeps its own."""
    monkeypatch.setattr(runner, "EMBEDDED_REDIS_DIR", tmp_path)
    first = runner._claim_embedded_redis(tmp_path)
    assert first is not None
    try:
        code = runner.run_all(Settings(redis_url=""), host="127.0.0.1", port=free_port())
        assert code == 2
        assert "Another `python -m service run` of this checkout" in capsys.readouterr().err
    finally:
        first.close()
    # Once the first has stopped, the next may start.
    again = runner._claim_embedded_redis(tmp_path)
    assert again is not None
    again.close()
