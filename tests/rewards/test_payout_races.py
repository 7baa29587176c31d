"""Payouts raced by something else at the same moment: the same payout job run twice at once
(arq may run a job again while the first run is still going, and the sweeper queues stuck
payouts again), and a challenge cancelled while its last payout is recorded.

Each test holds a row lock in a transaction of its own, lets the racing transactions queue
behind it (waiting on the lock, as PostgreSQL reports them), then lets go: PostgreSQL serves
the waiting transactions in the order they asked, which fixes the interleaving."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from tortoise.connection import get_connection

from service import db
from service.accounts.actor import Actor
from service.accounts.models import Role
from service.bootstrap import Deps
from service.challenges import service as challenges
from service.challenges.models import Challenge, ChallengeStatus
from service.core.context import Context
from service.integrations.fake_stripe import FakeStripe
from service.notifications.models import Notification
from service.rewards import ledger, tasks
from service.rewards.models import (
    LedgerTransaction,
    Milestone,
    MilestoneStatus,
    Payout,
    PayoutStatus,
    TransactionKind,
)
from tests.rewards import test_stripe_rail as stripe_rail
from tests.rewards.helpers import Awarded, approved, awarded, bank_account
from tests.rewards.test_stripe_rail import Burst, connected, deliver

fake = stripe_rail.fake


async def waiting_for_locks(count: int) -> None:
    """Return once `count` transactions of the test database wait for a lock."""
    connection = get_connection("default")
    for _ in range(1000):
        rows = await connection.execute_query_dict(
            "SELECT count(*) AS n FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if int(rows[0]["n"]) >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{count} transactions never waited for a lock")


@asynccontextmanager
async def holding(lock: Callable[[], Awaitable[object]]) -> AsyncIterator[None]:
    """Run `lock` in a transaction kept open until the block ends (then committed)."""
    locked, done = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with db.transaction(None):
            await lock()
            locked.set()
            await done.wait()

    holder = asyncio.create_task(hold())
    await locked.wait()
    try:
        yield
    finally:
        done.set()
        await holder


async def two_runs_at_once(deps: Deps, payout_id: int) -> list[str]:
    """Two runs of the payout's job, both queued behind a lock on the payout: they take it
    one after the other for their first step, then race for the second."""
    async with holding(lambda: Payout.select_for_update().get(id=payout_id)):
        # Started outside the holding transaction: each run opens its own.
        runs = [asyncio.create_task(tasks.pay(deps, payout_id=payout_id)) for _ in range(2)]
        await waiting_for_locks(2)
    return sorted(await asyncio.gather(*runs))


async def stripe_winner(
    client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst, milestones: int
) -> Awarded:
    """An award of `milestones` milestones to a winner paid through Stripe."""
    a = await awarded(client, amounts=(400_000,) * milestones)
    await connected(client, fake, a)
    await deliver(client, fake)
    await worker_burst()
    return a


async def release(client: httpx.AsyncClient, a: Awarded, milestone_id: int) -> Payout:
    """Release the approved milestone; its payout's job is queued, not run."""
    released = await client.post(
        f"/api/v1/milestones/{milestone_id}/release", headers=a.treasurer.headers
    )
    assert released.status_code == 200, released.text
    payout = await Payout.filter(milestone_id=milestone_id).order_by("-id").first()
    assert payout is not None and payout.status is PayoutStatus.queued
    return payout


# PostgreSQL serves a lock's waiters in order, but a transaction that has just committed may
# ask again and be served before the next waiter has woken (about one time in ten here): then
# the second run never gets past its first step. Each test tries again, with a new payout,
# until both runs took the payout; whatever the order, every payout is paid or failed once.
TRIES = 6


class TestTheSameJobTwiceAtOnce:
    async def test_pays_once(
        self, app: Starlette, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> None:
        a = await stripe_winner(client, fake, worker_burst, milestones=TRIES)
        for milestone_id in a.milestone_ids:
            await approved(client, a, milestone_id)
            payout = await release(client, a, milestone_id)
            results = await two_runs_at_once(app.state.deps, payout.id)
            payout = await Payout.get(id=payout.id)
            assert payout.status is PayoutStatus.paid
            assert fake.counts()["transfers_by_group"][payout.idempotency_key] == 1
            assert (await Milestone.get(id=milestone_id)).status is MilestoneStatus.paid
            if payout.attempts == 2:
                # Both runs took the payout in flight; the second to reach Stripe found it paid.
                assert results == ["paid", "skipped"]
                break
        else:
            raise AssertionError("the two runs never both took the payout")
        tried = await Payout.all().count()
        assert fake.counts()["transfers"] == tried
        assert await LedgerTransaction.filter(kind=TransactionKind.payout).count() == tried
        assert await ledger.check_invariants() == []

    async def test_refused_by_stripe_fails_once(
        self, app: Starlette, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> None:
        a = await stripe_winner(client, fake, worker_burst, milestones=1)
        milestone_id = a.milestone_ids[0]
        await approved(client, a, milestone_id)
        # The platform's Stripe balance is empty: Stripe refuses the transfer, for good.
        fake.top_up(-100_000_000, "eur")
        for _ in range(TRIES):
            # A failed payout's milestone can be released again: a new payout, a new try.
            payout = await release(client, a, milestone_id)
            told_before = await Notification.filter(title="A payout failed").count()
            results = await two_runs_at_once(app.state.deps, payout.id)
            payout = await Payout.get(id=payout.id)
            assert payout.status is PayoutStatus.failed
            assert "insufficient" in payout.failure_reason
            assert (await Milestone.get(id=milestone_id)).status is MilestoneStatus.approved
            if payout.attempts == 2 and results == ["failed", "failed"]:
                # Both runs were refused; the second to record it found the payout failed
                # already, and told nobody twice.
                told = await Notification.filter(title="A payout failed").order_by("id")
                users = [n.user_id for n in told[told_before:]]
                assert users and len(users) == len(set(users))
                break
        else:
            raise AssertionError("the two runs were never both refused")
        tried = await Payout.all().count()
        assert fake.counts()["transfers"] == 0
        assert await LedgerTransaction.filter(kind=TransactionKind.payout_failed).count() == tried
        assert await ledger.check_invariants() == []


async def test_cancelled_while_its_last_payout_is_recorded_it_stays_cancelled(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    a = await awarded(client, amounts=(1_000_000,))
    closed = await client.post(
        f"/api/v1/challenges/{a.challenge_id}/awards/close", headers=a.city.manager.headers
    )
    assert closed.status_code == 200, closed.text
    await bank_account(client, a.winner, a.winner_org)
    await approved(client, a, a.milestone_ids[0])
    released = await client.post(
        f"/api/v1/milestones/{a.milestone_ids[0]}/release", headers=a.treasurer.headers
    )
    payout_id = released.json()["payouts"][0]["id"]
    manager = Context(
        actor=Actor(user=a.city.manager.user, roles={a.city.org.id: Role.manager}),
        settings=app.state.deps.settings,
    )

    async def cancel() -> None:
        challenge = await Challenge.get(id=a.challenge_id)
        await challenges.cancel(manager, challenge, reason="The budget was moved.")

    # The manager cancels; before that commits, finance records the last bank transfer, which
    # would complete the challenge: it waits for the cancellation, then sees it.
    async with holding(cancel):
        recorded = asyncio.create_task(
            client.post(
                f"/api/v1/payouts/{payout_id}/bank-transfer",
                json={"reference": "SEPA-LAST"},
                headers=a.treasurer.headers,
            )
        )
        await waiting_for_locks(1)
    response = await recorded
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "paid"
    challenge = await Challenge.get(id=a.challenge_id)
    assert challenge.status is ChallengeStatus.cancelled
    assert (await Milestone.get(id=a.milestone_ids[0])).status is MilestoneStatus.paid
    assert await ledger.check_invariants() == []
