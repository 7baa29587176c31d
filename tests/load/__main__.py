"""`python -m tests.load`: seed (or reuse) the load database, start the app, run the scenarios.

    python -m tests.load                 # every scenario at national scale (make loadtest)
    python -m tests.load --scale small --duration 15   # a smoke run of every scenario
    python -m tests.load --only city     # some of them: city, rush, results, investors
    python -m tests.load --duration 20   # shorter peaks while working on it
    python -m tests.load --seed          # seed again even when the database is reusable
    python -m tests.load --drop          # drop the load database and stop

The app runs as a deployment runs it: `python -m service run --web-processes 2 --workers 2`,
against the `civic_load` database (`civic_load_small` at the small scale), a Redis server of the
run's own and the fake Stripe server. Locust runs headless in its own process on the same
machine (2 cores shared by everything). The report gives, per scenario and per request,
requests/s, p50/p95/p99 and errors, the payouts' rate and the ledger check, then whether the
targets are met (supports >= 500/s for 60 s with p95 <= 250 ms, anonymous challenge pages
>= 1,000/s, no write lost, no 5xx). Exit status 1 when a check failed (a write lost or made
when refused, a 5xx, an error logged by the app); a missed speed target is reported, not an
exit status. The figures are written to var/loadtest/summary.txt and summary.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from service.config import ROOT
from tests.bench import procs
from tests.bench.servers import BenchError, fetch
from tests.load import data as D
from tests.load import seed
from tests.rewards.payout_world import RedisServer

OUT = ROOT / "var" / "loadtest"
RUSH_WINDOW = 60.0  # seconds of submissions before the deadline (at most --duration)
RUSH_AFTER = 8.0  # and after it
JOB_PREFIX = re.compile(r"^\S*:(?=[a-z_]+\.[a-z_]+ failed)")
QUEUE = "load:queue"  # the job queue's Redis key (REDIS_PREFIX `load`)
DRAIN_TIMEOUT = 900.0  # seconds for the workers to run the jobs a scenario left
START_TIMEOUT = 300.0  # seconds for the app's processes to answer /readyz
SPAWN_RATE = 50.0  # applicants started per second before the first click (1,000 in 20 s)
TARGETS = {
    "supports/s": 500.0,
    "supports p95 ms": 250.0,
    "challenge pages/s": 1000.0,
}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Figures:
    name: str
    requests: int = 0
    failures: int = 0
    rps: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    server_errors: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    checks: list[tuple[str, bool]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(ok for _, ok in self.checks)


# --- the database -------------------------------------------------------------------------


async def _db() -> Any:
    return await asyncpg.connect(D.database_url().replace("postgres://", "postgresql://", 1))


async def _counts(tables: list[str]) -> dict[str, int]:
    connection = await _db()
    try:
        return {
            t: int(await connection.fetchval(f"SELECT count(*) FROM {t}"))  # noqa: S608
            for t in tables
        }
    finally:
        await connection.close()


async def prepare_database() -> None:
    """What earlier runs left that would change this one: residents' supports made under load
    (a resident never supports the same proposal twice), idle seeded sessions, the rush's
    applications (drafts again, the deadline tomorrow, the challenge open again)."""
    connection = await _db()
    try:
        now = datetime.now(UTC)
        touched = await connection.fetch(
            "DELETE FROM proposal_supports WHERE user_id <= $1 RETURNING proposal_id",
            D.RESIDENTS_WITH_SESSION,
        )
        if touched:
            await connection.execute(
                "UPDATE proposals p SET support_count = (SELECT count(*) FROM proposal_supports s"
                " WHERE s.proposal_id = p.id) WHERE p.id = ANY($1::int[])",
                sorted({row["proposal_id"] for row in touched}),
            )
        seeded_users = [
            *range(1, D.RESIDENTS_WITH_SESSION + 1),
            *(D.investor_user(i) for i in range(D.INVESTORS)),
        ]
        await connection.execute(
            "UPDATE web_sessions SET last_seen_at = $1, expires_at = $2, ended_at = NULL "
            "WHERE user_id = ANY($3::int[]) AND user_agent = 'locust'",
            now,
            now + timedelta(days=30),
            seeded_users,
        )
        await connection.execute(
            "UPDATE applications SET status = 'draft', submitted_at = NULL WHERE challenge_id = $1",
            D.RUSH_CHALLENGE,
        )
        await connection.execute(
            "UPDATE challenges SET status = 'open', closes_at = $2 WHERE id = $1",
            D.RUSH_CHALLENGE,
            now + timedelta(days=1),
        )
        # Its closing by the last rush (one per status and challenge): it closes again.
        await connection.execute(
            "DELETE FROM challenge_status_changes WHERE challenge_id = $1", D.RUSH_CHALLENGE
        )
        await connection.execute("VACUUM (ANALYZE) proposal_supports, proposals, web_sessions")
    finally:
        await connection.close()


# --- the app ------------------------------------------------------------------------------


class App:
    """The app's processes, the run's Redis server and the fake Stripe server."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = procs.free_port()
        self.redis = RedisServer(directory / "redis")
        self.fake: Any = None
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = directory / "app.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        from service.integrations.fake_stripe import TEST_API_KEY

        env = dict(os.environ)
        env.update(
            {
                # Plain http on 127.0.0.1: production would name the cookies `__Host-…` and mark
                # them Secure, which a client sends over https only (a TLS load balancer).
                "ENV": "development",
                "DATABASE_URL": D.database_url(),
                "REDIS_URL": self.redis.url,
                "REDIS_PREFIX": "load",
                "SECRET_KEY": D.SECRET_KEY,
                "BASE_URL": self.url,
                "STRIPE_SECRET_KEY": TEST_API_KEY,
                "STRIPE_API_BASE": self.fake.url,
                "STORAGE_DIR": str(self.directory / "uploads"),
                "LOG_LEVEL": "WARNING",
                # Every request comes from 127.0.0.1: the per-address sign-in limit (meant for
                # one attacker's address) would refuse the city's residents after 50.
                "RATE_SIGNIN_PER_IP": "1000000",
                "SMTP_HOST": "",
            }
        )
        return env

    def start(self) -> None:
        from tests.bench.payouts import FakeStripeProcess

        self.redis.start()
        self.fake = FakeStripeProcess(self.directory, procs.Pinning(None, None, ""))
        self.fake.wait_ready()
        argv = [
            sys.executable,
            "-m",
            "service",
            "run",
            "--port",
            str(self.port),
            "--web-processes",
            "2",
            "--workers",
            "2",
        ]
        with self.log_path.open("wb") as log:
            self.process = procs.spawn(
                argv, env=self.env(), cwd=str(ROOT), stdout=log.fileno(), stderr=log.fileno()
            )
        # Starting 4 Python processes takes over a minute on a busy 2-core machine.
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise BenchError(f"the app exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if fetch(self.url + "/readyz", timeout=2).status == 200:
                    break
            if time.monotonic() > deadline:
                raise BenchError(
                    f"the app is not ready after {START_TIMEOUT:.0f} s:\n{self.log_tail()}"
                )
            time.sleep(0.3)
        # Both web processes answer from the start: warm each one's pool and templates.
        for path in ("/", "/challenges", "/proposals", "/challenges/2", "/proposals/1"):
            for _ in range(8):
                fetch(self.url + path, timeout=30)

    def settle(self, timeout: float = 120.0) -> None:
        """Wait until the app has worked off what a run left in flight (requests whose clients
        gave up are still served): /healthz answers fast three times in a row."""
        deadline, fast = time.monotonic() + timeout, 0
        while fast < 3 and time.monotonic() < deadline:
            began = time.monotonic()
            with contextlib.suppress(OSError):
                fetch(self.url + "/healthz", timeout=30)
            fast = fast + 1 if time.monotonic() - began < 0.05 else 0
            time.sleep(0.2)

    def jobs_due(self) -> int:
        """Jobs in the queue due within 5 s (arq keeps a running job there until it ends)."""
        import redis

        client = redis.Redis.from_url(self.redis.url)
        try:
            due: Any = client.zcount(QUEUE, "-inf", time.time() * 1000 + 5000)
            return int(due)
        finally:
            client.close()

    def send_job(self, name: str) -> None:
        """Queues one of the app's jobs now (a cron job run ahead of its tick)."""
        from service.core.jobs import Job, JobQueue
        from service.core.redis import connect

        async def send() -> None:
            redis = await connect(self.redis.url, QUEUE)
            try:
                await JobQueue(redis, QUEUE).send(Job(name, {}))
            finally:
                await redis.aclose()

        asyncio.run(send())

    def drain(self, timeout: float) -> tuple[int, float, bool]:
        """Waits until the workers have run every job due: (most jobs waiting at once, seconds,
        whether all ran in time)."""
        began, peak = time.monotonic(), 0
        while due := self.jobs_due():
            peak = max(peak, due)
            if time.monotonic() - began > timeout:
                return peak, time.monotonic() - began, False
            time.sleep(1.0)
        return peak, time.monotonic() - began, True

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def errors_logged(self) -> dict[str, int]:
        """The app's error lines (web processes and workers), by message, with their count."""
        found: dict[str, int] = {}
        with contextlib.suppress(OSError):
            for line in self.log_path.read_text(errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(entry, dict) or entry.get("level") not in ("error", "critical"):
                    continue
                # A job's line starts with its duration and id ("  0.19s ! load:queue:<id>:
                # area.name failed, ..."): dropped, and only the first line kept (the DETAIL of
                # a database error names rows), so that one cause is one line of the report.
                message = str(entry.get("message", "")).split("s ! ", 1)[-1].splitlines()[0]
                key = JOB_PREFIX.sub("", message)[:200]
                stack = str(entry.get("stack") or "").strip().splitlines()
                if stack and " failed, " not in key:
                    key += f" | {stack[-1][:200]}"
                found[key] = found.get(key, 0) + 1
        return found

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # The runner stops its web processes and workers on SIGTERM, as on Ctrl-C (SIGINT
            # may be ignored: a job started in the background of a shell ignores it).
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        if self.fake is not None:
            self.fake.stop()
        self.redis.kill(hard=False)


# --- Locust -------------------------------------------------------------------------------


def locust(
    app: App,
    name: str,
    locustfile: str,
    classes: list[str],
    *,
    users: int,
    rate: float,
    seconds: float,
    plan: dict[str, Any] | None = None,
) -> tuple[Figures, dict[str, Any]]:
    """One headless Locust run; its figures (the aggregated row) and its tally."""
    prefix = OUT / name.replace(" ", "-")
    tally_path = Path(f"{prefix}-tally.json")
    plan_path = Path(f"{prefix}-plan.json")
    tally_path.unlink(missing_ok=True)
    env = dict(os.environ, LOAD_TALLY=str(tally_path), PYTHONPATH=str(ROOT))
    if plan is not None:
        plan_path.write_text(json.dumps(plan))
        env["LOAD_PLAN"] = str(plan_path)
    argv = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "tests" / "load" / locustfile),
        "--headless",
        "--host",
        app.url,
        "-u",
        str(users),
        "-r",
        str(rate),
        "-t",
        f"{math.ceil(seconds)}s",
        # Requests in flight when the time is up get this long to be answered (a busy machine).
        "--stop-timeout",
        "60",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        *classes,
    ]
    app.settle()
    say(f"  {name}: {users} users, {seconds:.0f} s ({', '.join(classes)})")
    with open(f"{prefix}-locust.log", "wb") as log:
        completed = subprocess.run(
            argv, env=env, cwd=ROOT, stdout=log, stderr=log, check=False, timeout=seconds + 300
        )
    if not tally_path.exists():
        raise BenchError(f"Locust wrote no tally ({completed.returncode}); see {prefix}-locust.log")
    tally = json.loads(tally_path.read_text())
    figures = Figures(name)
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            requests, failures = int(row["Request Count"]), int(row["Failure Count"])
            rps = float(row["Requests/s"])
            p50, p95, p99 = (float(row[q] or 0) for q in ("50%", "95%", "99%"))
            if row["Name"] == "Aggregated":
                figures.requests, figures.failures, figures.rps = requests, failures, rps
                figures.p50, figures.p95, figures.p99 = p50, p95, p99
            else:
                figures.rows.append(
                    {
                        "name": row["Name"],
                        "requests": requests,
                        "failures": failures,
                        "rps": rps,
                        "p50": p50,
                        "p95": p95,
                        "p99": p99,
                    }
                )
    figures.server_errors = sum(tally["server_errors"].values())
    figures.checks.append(("no 5xx answer", figures.server_errors == 0))
    return figures, tally


def _row(figures: Figures, name: str) -> dict[str, Any]:
    return next((r for r in figures.rows if r["name"] == name), {"requests": 0, "rps": 0.0})


# --- scenarios ----------------------------------------------------------------------------

WRITE_TABLES = ["proposal_supports", "proposal_comments", "web_sessions"]


async def _support_pairs(records: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    """Each support by its pair (resident, proposal): every one answered done is in the
    database, none refused is, and nothing else is (the driver removed earlier runs' ones)."""
    if not records:
        return []
    connection = await _db()
    try:
        rows = await connection.fetch(
            "SELECT user_id, proposal_id FROM proposal_supports WHERE user_id <= $1",
            D.RESIDENTS_WITH_SESSION,
        )
    finally:
        await connection.close()
    stored = {(int(r["user_id"]), int(r["proposal_id"])) for r in rows}
    done = {(r["resident"], r["proposal"]) for r in records if r["status"] == 303}
    unanswered = {(r["resident"], r["proposal"]) for r in records if r["status"] == 0}
    refused = {(r["resident"], r["proposal"]) for r in records} - done - unanswered
    lost, made, strays = done - stored, refused & stored, stored - done - unanswered - refused
    return [
        (f"supports answered done and missing from the database: {len(lost)}", not lost),
        (f"supports refused and stored anyway: {len(made)}", not made),
        (f"supports stored that nobody sent: {len(strays)}", not strays),
    ]


def city(app: App, seconds: float) -> list[Figures]:
    """The mixed launch, then the two peaks measured on their own."""
    results = []
    phases = [
        (
            "city launch",
            ["Visitor", "Resident", "NewcomerSignIn"],
            D.LAUNCH_USERS,
            seconds,
        ),
        ("supports peak", ["Supporter"], D.PEAK_USERS, seconds),
        (
            "challenge pages peak",
            ["ChallengeReader"],
            D.PEAK_USERS,
            max(min(30.0, seconds), seconds / 2),
        ),
    ]
    for name, classes, users, length in phases:
        asyncio.run(prepare_database())
        before = asyncio.run(_counts(WRITE_TABLES))
        figures, tally = locust(
            app, name, "city.py", classes, users=users, rate=users / 5, seconds=length
        )
        after = asyncio.run(_counts(WRITE_TABLES))
        done, unknown = tally["done"], tally["unknown"]
        for kind, table in (
            ("support", "proposal_supports"),
            ("comment", "proposal_comments"),
            ("sign in", "web_sessions"),
        ):
            added = after[table] - before[table]
            ok, maybe = done.get(kind, 0), unknown.get(kind, 0)
            if ok or maybe or added:
                text = f"{table}: {added:,} new rows, {ok:,} answered done"
                text += f" (+ {maybe} without an answer)" if maybe else ""
                figures.checks.append((text, ok <= added <= ok + maybe))
        figures.checks += asyncio.run(_support_pairs(tally["records"]))
        if name == "supports peak":
            row = _row(figures, "support")
            figures.extra["supports/s"] = row["rps"]
            figures.extra["supports p95 ms"] = row.get("p95", 0.0)
        if name == "challenge pages peak":
            figures.extra["challenge pages/s"] = _row(figures, "challenge page")["rps"]
        results.append(figures)
    return results


def rush(app: App, window: float) -> Figures:
    asyncio.run(prepare_database())

    async def drafts() -> list[tuple[int, int]]:
        connection = await _db()
        try:
            rows = await connection.fetch(
                "SELECT a.id, m.user_id FROM applications a JOIN memberships m "
                "ON m.organization_id = a.organization_id AND m.role = 'owner' "
                "WHERE a.challenge_id = $1 AND a.status = 'draft' ORDER BY a.id",
                D.RUSH_CHALLENGE,
            )
        finally:
            await connection.close()
        return [(int(r["id"]), int(r["user_id"])) for r in rows]

    applicants = asyncio.run(drafts())
    lead = max(5.0, len(applicants) / SPAWN_RATE)
    start = time.time() + lead
    deadline = start + window

    async def set_deadline() -> None:
        connection = await _db()
        try:
            await connection.execute(
                "UPDATE challenges SET closes_at = $2 WHERE id = $1",
                D.RUSH_CHALLENGE,
                datetime.fromtimestamp(deadline, UTC),
            )
        finally:
            await connection.close()

    asyncio.run(set_deadline())
    rng = random.Random(20261207)
    # Most click in the last 60 s, more towards the end; some a few seconds late.
    plan = {
        "deadline": deadline,
        "applicants": [
            {
                "application": application,
                "user": user,
                "at": start
                + (
                    window * (1 - rng.random() ** 2)
                    if rng.random() < 0.93
                    else window + rng.uniform(0, RUSH_AFTER)
                ),
            }
            for application, user in applicants
        ],
    }
    figures, tally = locust(
        app,
        "deadline rush",
        "deadline.py",
        ["Applicant"],
        users=len(applicants),
        rate=len(applicants) / (lead / 2),
        seconds=lead + window + RUSH_AFTER + 5,
        plan=plan,
    )

    async def submitted() -> dict[int, datetime]:
        connection = await _db()
        try:
            rows = await connection.fetch(
                "SELECT id, submitted_at FROM applications WHERE challenge_id = $1 "
                "AND status = 'submitted'",
                D.RUSH_CHALLENGE,
            )
        finally:
            await connection.close()
        return {int(r["id"]): r["submitted_at"] for r in rows}

    in_db = asyncio.run(submitted())
    records = tally["records"]
    accepted = {r["application"] for r in records if r["status"] == 200}
    refused = [r for r in records if r["status"] != 200]
    early_refused = [r for r in refused if r["received"] < deadline]
    late_accepted = [r for r in records if r["status"] == 200 and r["sent"] > deadline]
    late_in_db = [i for i, at in in_db.items() if at.timestamp() >= deadline]
    other_refusals = [r for r in refused if r["status"] != 409]
    figures.extra.update(
        {
            "submissions": len(records),
            "accepted": len(accepted),
            "refused": len(refused),
            "sent after the deadline": sum(1 for r in records if r["sent"] > deadline),
        }
    )
    figures.checks += [
        (
            f"every applicant answered ({len(records)} of {len(applicants)})",
            len(records) == len(applicants),
        ),
        (
            f"accepted = submitted in the database ({len(accepted)} / {len(in_db)})",
            accepted == set(in_db),
        ),
        (f"answered before the deadline and refused: {len(early_refused)}", not early_refused),
        (f"sent after the deadline and accepted: {len(late_accepted)}", not late_accepted),
        (f"submitted at or after the deadline in the database: {len(late_in_db)}", not late_in_db),
        (
            f"refusals other than 409 deadline passed: {len(other_refusals)}"
            + (
                f" (first: {other_refusals[0]['status']} {other_refusals[0]['body'][:120]})"
                if other_refusals
                else ""
            ),
            not other_refusals,
        ),
    ]
    # A submission changes the startup's track record: the watcher (a cron job every 10
    # minutes) queues the ranking of each such startup for every investor again. Run now, and
    # the workers run it all before the next scenario, which would otherwise wait behind it.
    say("  deadline rush: running the jobs the submissions lead to")
    app.send_job("matching.watch_track_records")
    time.sleep(3.0)
    jobs, seconds, drained = app.drain(DRAIN_TIMEOUT)
    figures.extra["jobs after the rush (most waiting at once)"] = jobs
    figures.extra["seconds to run them (2 workers)"] = seconds
    figures.checks.append(
        (f"the workers ran the jobs after the rush ({jobs}) in {seconds:.0f} s", drained)
    )
    return figures


def results_day(app: App, count: int) -> Figures:
    """`count` milestone releases queued at once, paid by the 2 workers, 1 in 10 Stripe transfer
    calls failing; then the ledger's invariants over the whole database."""
    import service.areas  # noqa: F401 - registers the areas, whose models the database loads
    from service import db
    from service.config import Env, Settings
    from service.core.jobs import JobQueue
    from service.core.redis import connect
    from service.integrations.fake_stripe import TEST_API_KEY
    from service.rewards import ledger
    from service.rewards.gateway import StripeGateway
    from service.rewards.models import Payout, PayoutStatus
    from tests.bench.payouts import Held, fault_rules
    from tests.rewards.payout_world import build_world, release

    settings = Settings(
        env=Env.production,
        database_url=D.database_url(),
        redis_url=app.redis.url,
        redis_prefix="load",
        secret_key=D.SECRET_KEY,
        stripe_secret_key=TEST_API_KEY,
        stripe_api_base=app.fake.url,
        storage_dir=app.directory / "uploads",
        log_level="WARNING",
    )
    figures = Figures("results day")

    async def run() -> None:
        await db.init_db(settings)
        redis = await connect(settings.redis_url, settings.queue_name)
        queue = JobQueue(redis, settings.queue_name)
        gateway = StripeGateway(settings)
        try:

            async def onboard(account_id: str) -> None:
                app.fake.control("POST", f"/_fake/accounts/{account_id}/complete_onboarding")

            # The fake's ids repeat from run to run with its seed; earlier runs' accounts and
            # transfers stay in the database (ids are unique there): a seed of this run's own.
            app.fake.control("POST", "/_fake/reset", {"seed": time.time_ns() % 2**31})
            say(f"  results day: making {count:,} approved milestones")
            began = time.monotonic()
            world = await build_world(
                settings,
                gateway,
                onboard=onboard,
                queue=Held(),
                challenges=-(-count // 24),
                winners_each=4,
                milestones_each=6,
            )
            batch = world.milestones[:count]
            app.fake.control(
                "POST", "/_fake/balance", {"amount": world.total + 1_000_000, "currency": "eur"}
            )
            held = Held()
            for milestone_id, _ in batch:
                await release(world, settings, milestone_id, held)
            ids = list(
                await Payout.filter(milestone_id__in=[m for m, _ in batch]).values_list(
                    "id", flat=True
                )
            )
            say(
                f"    made and released in {time.monotonic() - began:.0f} s, "
                f"{len(held.jobs):,} jobs"
                " queued"
            )
            app.fake.control(
                "POST",
                "/_fake/faults",
                {"rules": fault_rules(random.Random(7), 4 * count), "replace": True},
            )
            before = app.fake.control("GET", "/_fake/counts")
            started = time.time()
            for job in held.jobs:
                await queue.send(job)
            timeout = time.monotonic() + 900
            while await Payout.filter(id__in=ids, status=PayoutStatus.paid).count() < len(ids):
                if time.monotonic() > timeout:
                    break
                await asyncio.sleep(0.25)
            # Read before the faults are removed: removing them clears their count.
            after = app.fake.control("GET", "/_fake/counts")
            app.fake.control("DELETE", "/_fake/faults")
            stamps: list[Any] = list(
                await Payout.filter(id__in=ids).values_list("paid_at", flat=True)
            )
            paid_at = [p for p in stamps if isinstance(p, datetime)]
            latencies = sorted(p.timestamp() - started for p in paid_at)
            seconds = max(latencies) if latencies else 0.0
            transfers = int(after["transfers"]) - int(before["transfers"])
            injected = sum(int(n) for n in after["faults_injected"].values()) - sum(
                int(n) for n in before["faults_injected"].values()
            )
            say("    checking the ledger's invariants over the whole database")
            checked = time.monotonic()
            breaches = await ledger.check_invariants()
            entries = await ledger.LedgerEntry.all().count()
            posted = await ledger.LedgerTransaction.filter(
                key__in=[f"payout:{i}" for i in ids]
            ).count()
            figures.requests = len(ids)
            figures.rps = len(paid_at) / seconds if seconds else 0.0

            def q(share: float) -> float:
                return latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000

            if latencies:
                figures.p50, figures.p95, figures.p99 = q(0.5), q(0.95), q(0.99)
            figures.extra.update(
                {
                    "payouts": len(ids),
                    "paid": len(paid_at),
                    "payouts/s": figures.rps,
                    "seconds": seconds,
                    "stripe transfers": transfers,
                    "faults injected": injected,
                    "ledger entries": entries,
                    "ledger check seconds": time.monotonic() - checked,
                }
            )
            figures.checks += [
                (f"every payout paid ({len(paid_at)} of {len(ids)})", len(paid_at) == len(ids)),
                (
                    f"one Stripe transfer per payout ({transfers} for {len(ids)})",
                    transfers == len(ids),
                ),
                (f"one ledger payout transaction per payout ({posted})", posted == len(ids)),
                (
                    f"ledger invariants hold over {entries:,} entries ({len(breaches)} breaches"
                    + (f", first: {breaches[0]}" if breaches else "")
                    + ")",
                    not breaches,
                ),
            ]
        finally:
            await gateway.aclose()
            await redis.aclose()
            await db.close_db()

    asyncio.run(run())
    return figures


def investors(app: App, seconds: float) -> Figures:
    asyncio.run(prepare_database())
    figures, _ = locust(
        app,
        "investors",
        "investors.py",
        ["Investor"],
        users=D.INVESTOR_USERS,
        rate=D.INVESTOR_USERS / 5,
        seconds=seconds,
    )
    return figures


# --- report -------------------------------------------------------------------------------


def _line(name: str, row: dict[str, Any], errors: str = "") -> str:
    figures = "".join(f" {row[k]:>7.0f}" for k in ("p50", "p95", "p99"))
    return (
        f"{name:<34} {row['requests']:>9,} {row['rps']:>8.1f}{figures} {row['failures']:>7}{errors}"
    )


def _verdict(key: str, value: object) -> str:
    target = TARGETS.get(key)
    if target is None or not isinstance(value, float):
        return ""
    at_most = "ms" in key
    ok = value <= target if at_most else value >= target
    return f"  (target {'<=' if at_most else '>='} {target:,.0f}: {'met' if ok else 'MISSED'})"


def report(results: list[Figures]) -> str:
    header = f"{'scenario / request':<34} {'requests':>9} {'req/s':>8}"
    header += "".join(f" {k:>7}" for k in ("p50 ms", "p95 ms", "p99 ms", "errors")) + "   5xx"
    lines = [header, "-" * len(header)]
    for f in results:
        lines.append(_line(f.name, f.__dict__ | {"failures": f.failures}, f" {f.server_errors:>5}"))
        lines += [_line(f"  {r['name']}", r) for r in f.rows]
    lines.append("")
    for f in results:
        for key, value in f.extra.items():
            shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
            lines.append(f"{f.name}: {key} = {shown}{_verdict(key, value)}")
    lines.append("")
    for f in results:
        lines += [f"{'ok  ' if ok else 'FAIL'} {f.name}: {text}" for text, ok in f.checks]
    return "\n".join(lines)


def targets(results: list[Figures], seconds: float) -> list[tuple[str, str]]:
    """The targets for 2 web processes on 2 cores, each `met`, `MISSED` or not measured."""
    extra: dict[str, Any] = {}
    for f in results:
        extra.update(f.extra)
    verdicts: list[tuple[str, str]] = []

    def judge(text: str, key: str, at_least: bool, target: float, note: str = "") -> None:
        value = extra.get(key)
        if not isinstance(value, float):
            verdicts.append((text, "not measured (scenario not run)"))
            return
        ok = value >= target if at_least else value <= target
        verdicts.append((text, f"{'met' if ok else 'MISSED'}: {value:,.1f}{note}"))

    short = f" over {seconds:.0f} s, not the 60 s asked" if seconds < 60 else ""
    judge("supports >= 500/s sustained for 60 s", "supports/s", True, 500.0, short)
    judge("supports p95 <= 250 ms", "supports p95 ms", False, 250.0, short)
    judge("anonymous challenge pages >= 1,000/s", "challenge pages/s", True, 1000.0)
    writes = [
        (text, ok)
        for f in results
        for text, ok in f.checks
        if text != "no 5xx answer" and not text.startswith("the workers ran")
    ]
    broken = [text for text, ok in writes if not ok]
    verdicts.append(
        (
            "zero lost writes (every check of the database after the run)",
            f"met ({len(writes)} checks)" if not broken else f"MISSED: {broken[0]}",
        )
    )
    server_errors = sum(f.server_errors for f in results)
    verdicts.append(("zero 5xx", "met" if not server_errors else f"MISSED: {server_errors}"))
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--scale",
        choices=sorted(D.SCALES),
        default="national",
        help="national (default, database civic_load) or small (a smoke run, civic_load_small)",
    )
    parser.add_argument("--only", nargs="*", choices=["city", "rush", "results", "investors"])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of each peak")
    parser.add_argument("--payouts", type=int, help="milestone releases on results day")
    parser.add_argument("--seed", action="store_true", help="seed again")
    parser.add_argument("--drop", action="store_true", help="drop the load database and stop")
    args = parser.parse_args(argv)
    if args.duration < 5:
        parser.error("--duration must be at least 5 seconds")
    D.use(args.scale)
    peak = args.duration
    header = (
        f"load test at the {args.scale} scale ({D.CHALLENGES:,} challenges, {D.PROPOSALS:,}"
        f" proposals, {D.SUPPORTS:,} supports, {D.LEDGER_ENTRIES:,} ledger entries,"
        f" {D.STARTUPS:,} startups for {D.INVESTORS:,} investors), peaks of {peak:.0f} s;"
        f" {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start"
    )
    if args.drop:
        asyncio.run(seed.drop())
        say(f"dropped {D.DATABASE}")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    why = "--seed" if args.seed else asyncio.run(seed.reusable())
    if why is None:
        say(f"reusing {D.DATABASE} (seeded, counts match)")
    else:
        say(f"seeding {D.DATABASE} ({why})")
        began = time.monotonic()
        asyncio.run(seed.create())
        say(f"  seeded in {time.monotonic() - began:.0f} s")
    only = args.only or ["city", "rush", "results", "investors"]
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="civic-load-") as directory:
        app = App(Path(directory))
        try:
            say(f"starting the app on {app.url}: 2 web processes, 2 workers")
            app.start()
            scenarios: list[tuple[str, str, Callable[[], list[Figures]]]] = [
                ("city", "city launch", lambda: city(app, args.duration)),
                ("rush", "deadline rush", lambda: [rush(app, min(RUSH_WINDOW, args.duration))]),
                ("results", "results day", lambda: [results_day(app, args.payouts or D.PAYOUTS)]),
                ("investors", "investors", lambda: [investors(app, args.duration)]),
            ]
            for key, name, scenario in scenarios:
                if key not in only:
                    continue
                try:
                    results += scenario()
                except Exception as exc:
                    # The others still run; this one fails the run with its reason.
                    say(f"  {name} stopped: {exc!r}")
                    failed = Figures(name)
                    failed.checks.append((f"the scenario stopped: {exc!r}"[:300], False))
                    results.append(failed)
        finally:
            logged = app.errors_logged()
            app.stop()
    text = f"{header}\n\n{report(results)}"
    text += f"\n{'ok  ' if not logged else 'FAIL'} the app logged no error (web or worker)"
    text += "".join(f"\n     {n} x {message}" for message, n in logged.items())
    text += "\n\ntargets (2 web processes, 2 workers, Locust on the same machine):"
    text += "".join(f"\n  {name:<58} {verdict}" for name, verdict in targets(results, peak))
    print(text)
    (OUT / "summary.txt").write_text(text + "\n")
    (OUT / "summary.json").write_text(
        json.dumps([{**f.__dict__, "passed": f.passed} for f in results], default=str, indent=1)
    )
    return 0 if all(f.passed for f in results) and not logged else 1


if __name__ == "__main__":
    sys.exit(main())
