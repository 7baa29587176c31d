"""The nightly ledger check and the sweeper of payouts left in flight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette

from service import db
from service.notifications.models import Notification
from service.rewards import tasks
from service.rewards.models import (
    AccountKind,
    InvariantBreach,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutStatus,
    Rail,
    TransactionKind,
)
from tests import factories
from tests.rewards.helpers import approved, awarded, bank_account


async def test_a_clean_ledger_raises_nothing(client: httpx.AsyncClient, app: Starlette) -> None:
    await awarded(client)
    assert await tasks.reconcile(app.state.deps) == 0
    assert not await InvariantBreach.exists()


async def test_breaches_are_recorded_and_alerted(client: httpx.AsyncClient, app: Starlette) -> None:
    a = await awarded(client)
    operator = await factories.make_user(operator=True)
    async with db.transaction(None):
        # A transaction that does not balance, and an escrow driven below zero.
        escrow = await LedgerAccount.get(kind=AccountKind.escrow)
        txn = await LedgerTransaction.create(
            key="broken:1",
            kind=TransactionKind.allocate,
            challenge_id=a.challenge_id,
            city_id=a.city.org.id,
            amount_minor=10**9,
            currency=escrow.currency,
        )
        await LedgerEntry.create(transaction=txn, account=escrow, amount_minor=-(10**9))
        # A payout marked paid that the ledger never saw.
        payout = await Payout.create(
            milestone_id=a.milestone_ids[0],
            organization_id=a.winner_org,
            amount_minor=1,
            currency=escrow.currency,
            rail=Rail.bank_transfer,
            status=PayoutStatus.paid,
            idempotency_key="payout-broken",
        )
    found = await tasks.reconcile(app.state.deps)
    checks = set(await InvariantBreach.all().values_list("check", flat=True))
    assert found == 3 and checks == {"unbalanced", "negative_balance", "payout_unmatched"}
    detail = " ".join(await InvariantBreach.all().values_list("detail", flat=True))
    assert f"payout {payout.id}" in detail
    assert await Notification.filter(user_id=operator.id).exists()
    assert await Notification.filter(user_id=a.city.finance.user.id).exists()


async def test_sweeper_queues_stuck_payouts_again_and_alerts_on_old_ones(
    client: httpx.AsyncClient, app: Starlette, worker_burst: object
) -> None:
    a = await awarded(client)
    await bank_account(client, a.winner, a.winner_org)
    await approved(client, a, a.milestone_ids[0])
    await client.post(
        f"/api/v1/milestones/{a.milestone_ids[0]}/release", headers=a.treasurer.headers
    )
    operator = await factories.make_user(operator=True)
    payout = await Payout.get()
    old = datetime.now(UTC) - timedelta(days=2)
    async with db.transaction(None):
        # A Stripe payout whose job was lost two days ago (the bank-transfer one is not swept).
        await Payout.filter(id=payout.id).update(
            rail=Rail.stripe, status=PayoutStatus.in_flight, updated_at=old, created_at=old
        )
    fresh = await Payout.create(
        milestone_id=a.milestone_ids[1],
        organization_id=a.winner_org,
        amount_minor=1,
        currency=payout.currency,
        rail=Rail.stripe,
        status=PayoutStatus.queued,
        idempotency_key="payout-fresh",
    )
    before = await app.state.deps.queue.depth()
    assert await tasks.sweep_payouts(app.state.deps) == 1
    assert await app.state.deps.queue.depth() == before + 1
    assert await Notification.filter(
        user_id=operator.id, title="Payouts have been in flight for more than a day"
    ).exists()
    # The job runs: the recipient has no Stripe account, so the payout fails cleanly.
    await worker_burst()  # type: ignore[operator]
    payout = await Payout.get(id=payout.id)
    assert payout.status is PayoutStatus.failed and payout.failure_reason
    assert (await Payout.get(id=fresh.id)).status is PayoutStatus.queued
