"""Paying out, refunding, handling Stripe's events, sweeping and reconciling, on the worker.

Owns the jobs that call Stripe for money already decided by `service`: transfers (`pay`),
refunds (`refund`), the re-fetches behind stored webhook events (`handle_event`), and the
crons that queue stuck jobs again and check the ledger each night. It writes payouts' and
refunds' progress, webhook events' progress and invariant breaches itself; milestones and the
ledger only through `service` (never `ledger.post` directly).

Every job may run twice, or at once with itself (arq retries, the sweeper queues again): the
payout and refund jobs lock and re-read their row before acting, and each event handler locks
the row it changes.
Stripe is called while the payout's (or refund's) row is locked, on purpose: nothing but
this job waits on that row, and the lock keeps a second run from calling Stripe until the
first one's answer is stored. The milestone and challenge are locked only after Stripe answers.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from arq import Retry

from service import db
from service.accounts.models import User
from service.core import i18n
from service.core.jobs import TaskDeps, cron, enqueue, task
from service.notifications import service as notifications
from service.rewards import ledger
from service.rewards import service as rewards
from service.rewards.gateway import GatewayError, PaymentGateway, PermanentGatewayError
from service.rewards.models import (
    InvariantBreach,
    Payout,
    PayoutAccount,
    PayoutStatus,
    Rail,
    Refund,
    RefundStatus,
    WebhookEvent,
)


class RewardsDeps(TaskDeps, Protocol):
    """What the rewards tasks use: every task's dependencies and the payment gateway."""

    gateway: PaymentGateway


log = logging.getLogger(__name__)
P = PayoutStatus
# Seconds to wait before each retry of a transient failure: 1, 2, 4, ... up to 5 minutes.
MAX_BACKOFF = 300


def backoff(attempt: int) -> int:
    return int(min(MAX_BACKOFF, 2 ** max(attempt - 1, 0)))


def payout_retry_delay(attempt: int) -> int:
    """Seconds before trying a payout again after its `attempt`-th try met a transient error:
    none after the first (a 500 or a lost answer is usually over by then, and trying again is
    safe: the transfer group is looked up first and the idempotency key is the same), then
    1, 2, 4, ... so that an outage or a rate limit costs each payout one quick extra call."""
    return 0 if attempt <= 1 else backoff(attempt - 1)


@task("rewards.pay", max_tries=20, timeout_seconds=120)
async def pay(deps: RewardsDeps, *, payout_id: int) -> str:
    """Pay one payout to its Stripe connected account, exactly once in effect.

    Running it twice is harmless: the payout row is locked and its state re-read; a payout
    with a stored transfer id is never sent again; Stripe is called with the payout's own
    idempotency key (so a repeated call returns the first transfer), and after a first
    attempt the transfer group is looked up first, so even an expired key cannot pay twice.
    The transfer id and the ledger entry are stored in the same transaction.
    """
    # First transaction: count the attempt and mark the payout in flight, locked so that two
    # runs of this job (a retry and the sweeper's copy) number their attempts one by one.
    async with db.transaction(deps.queue):
        payout = await Payout.select_for_update().get_or_none(id=payout_id)
        # Paid, failed, reversed or bank-transfer payouts are not this job's: a late copy stops.
        if payout is None or payout.status not in (P.queued, P.in_flight):
            return "skipped"
        payout.status = P.in_flight
        payout.attempts += 1
        await payout.save(update_fields=["status", "attempts", "updated_at"])
        attempt = payout.attempts
    try:
        # Second transaction: Stripe is called under the payout's row lock, on purpose. The row
        # stays locked until the transfer id and the ledger entry commit, so a second run waits
        # here and then sees the stored transfer id instead of paying again.
        async with db.transaction(deps.queue):
            payout = await Payout.select_for_update().get(id=payout_id)
            if payout.status is not P.in_flight or payout.stripe_transfer_id:
                return "skipped"
            award = await rewards._award_of(payout)
            account = await PayoutAccount.get_or_none(organization_id=payout.organization_id)
            if account is None or account.rail is not Rail.stripe or not account.stripe_account_id:
                await rewards.mark_failed(
                    payout, award, reason=i18n.gettext("The recipient has no Stripe account.")
                )
                return "failed"
            # The transfer group is the payout's key ("payout-<milestone>-<org>-<round>"):
            # after a first attempt whose answer was lost, a transfer found here is that one.
            group = payout.idempotency_key
            transfer = await deps.gateway.find_transfer(group) if attempt > 1 else None
            if transfer is None:
                transfer = await deps.gateway.create_transfer(
                    payout.amount_minor,
                    payout.currency,
                    destination=account.stripe_account_id,
                    # Unique per payout and round: Stripe answers a repeat with the first transfer
                    # (keys last at least 24 hours; the group lookup above covers later retries).
                    idempotency_key=payout.idempotency_key,
                    transfer_group=group,
                    metadata={
                        "payout_id": str(payout.id),
                        "milestone_id": str(payout.milestone_id),
                    },
                )
            # Posts "payout:<id>" to the ledger in this same transaction as the transfer id.
            await rewards.mark_paid(payout, award, transfer_id=transfer.id, reference="")
            return "paid"
    except PermanentGatewayError as exc:
        # Stripe refused: fail the payout under the lock again, unless another run has paid or
        # failed it meanwhile (then its result stands).
        async with db.transaction(deps.queue):
            payout = await Payout.select_for_update().get(id=payout_id)
            if payout.status is P.in_flight and not payout.stripe_transfer_id:
                await rewards.mark_failed(payout, await rewards._award_of(payout), reason=str(exc))
        return "failed"
    except GatewayError as exc:
        # Transient: the payout stays in flight and the retry uses the same key and group.
        await Payout.filter(id=payout_id).update(last_error=str(exc)[:2000])
        raise Retry(defer=payout_retry_delay(attempt)) from exc


@task("rewards.refund", max_tries=20, timeout_seconds=120)
async def refund(deps: RewardsDeps, *, refund_id: int) -> str:
    """Refund a Stripe funding's unallocated part. Running it twice is harmless: the row is
    locked and re-read, and Stripe is called with the refund's own idempotency key."""
    try:
        # The refund row stays locked while Stripe answers and until the refund is posted, so
        # a second run of this job waits, then finds it paid and skips.
        async with db.transaction(deps.queue):
            row = await Refund.select_for_update().get_or_none(id=refund_id)
            if row is None or row.status is not RefundStatus.queued:
                return "skipped"
            funding = await row.funding
            assert funding.payment_intent_id is not None
            # One key per refund row: a repeat (a lost answer, retried) returns the first
            # refund instead of giving the money back twice.
            stripe_id = await deps.gateway.refund(
                funding.payment_intent_id, row.amount_minor, idempotency_key=f"refund-{row.id}"
            )
            # Posts "refund:<id>", which the ledger refuses to post a second time.
            await rewards.refund_done(row, stripe_refund_id=stripe_id, reference="")
            return "paid"
    except PermanentGatewayError as exc:
        # Conditional on still being queued, so a refund another run has paid is not undone.
        async with db.transaction(deps.queue):
            await Refund.filter(id=refund_id, status=RefundStatus.queued).update(
                status=RefundStatus.failed, failure_reason=str(exc)[:2000]
            )
        return "failed"
    except GatewayError as exc:
        raise Retry(defer=backoff(3)) from exc


@task("rewards.handle_event", max_tries=10, timeout_seconds=120)
async def handle_event(deps: RewardsDeps, *, event_id: int) -> str:
    """Handle one stored Stripe event. Handlers re-fetch the object from Stripe rather than
    trust the event's copy or the order events arrive in; each is safe to run again."""
    # Stored once per Stripe event id (unique), so a redelivered event is not queued anew.
    event = await WebhookEvent.get_or_none(id=event_id)
    if event is None or event.processed_at is not None:
        return "skipped"
    kind, object_id = event.type, event.object_id
    try:
        # The handler's writes and the "processed" mark commit together: a crash before the
        # commit leaves the event unprocessed, to be handled again (each handler allows it).
        async with db.transaction(deps.queue):
            if kind.startswith("payment_intent."):
                await rewards.sync_payment_intent(deps.settings, deps.gateway, object_id)
            elif kind == "account.updated":
                await rewards.sync_account(deps.gateway, object_id)
            elif kind in ("transfer.reversed", "transfer.updated"):
                await rewards.sync_transfer(deps.settings, deps.gateway, object_id)
            elif kind == "payout.failed":
                await rewards.bank_payout_failed(str(event.payload.get("account") or ""))
            await WebhookEvent.filter(id=event_id).update(processed_at=datetime.now(UTC), error="")
    except GatewayError as exc:
        await WebhookEvent.filter(id=event_id).update(
            attempts=event.attempts + 1, error=str(exc)[:2000]
        )
        raise Retry(defer=backoff(event.attempts + 1)) from exc
    return "handled"


@cron("rewards.sweep_payouts", minute=set(range(0, 60, 5)), run_at_startup=True)
async def sweep_payouts(deps: RewardsDeps) -> int:
    """Queue again payouts and refunds left in flight (a worker died, retries ran out), and
    alert on any older than a day. Queuing again is harmless: the job re-checks everything."""
    now = datetime.now(UTC)
    stuck_before = now - timedelta(seconds=deps.settings.payout_stuck_after_seconds)
    stuck = await Payout.filter(
        status__in=[P.queued, P.in_flight], updated_at__lt=stuck_before
    ).values_list("id", "created_at")
    # Created over a day ago and still not settled: retrying alone has not helped, tell people.
    old = [pid for pid, created in stuck if created < now - timedelta(days=1)]
    refunds = await Refund.filter(
        status=RefundStatus.queued, created_at__lt=stuck_before
    ).values_list("id", flat=True)
    # No lock here: each job locks and re-checks its row. The transaction only holds the jobs
    # back until the alert is stored, then sends them after the commit.
    async with db.transaction(deps.queue):
        for payout_id, _ in stuck:
            # A fresh job id: the first job's result may still be kept under the old one.
            enqueue(
                "rewards.pay",
                payout_id=payout_id,
                job_id=f"payout-{payout_id}-{int(now.timestamp())}",
            )
        for refund_id in refunds:
            enqueue(
                "rewards.refund",
                refund_id=refund_id,
                job_id=f"refund-{refund_id}-{int(now.timestamp())}",
            )
        if old:
            await _alert_operators("payouts_in_flight", payouts=", ".join(str(p) for p in old))
    return len(stuck) + len(refunds)


@cron("rewards.reconcile", hour={2}, minute={30})
async def reconcile(deps: RewardsDeps) -> int:
    """Check the ledger's invariants every night; alert the operators and the city on any
    breach. Running it twice only records the same findings twice, which is harmless."""
    breaches = await ledger.check_invariants()
    if not breaches:
        return 0
    async with db.transaction(deps.queue):
        for breach in breaches:
            await InvariantBreach.create(
                check=breach.check, detail=breach.detail, city_id=breach.city_id
            )
        detail = "; ".join(b.detail for b in breaches)[:1000]
        await _alert_operators("ledger_problem", detail=detail)
        for city_id in {b.city_id for b in breaches if b.city_id is not None}:
            await rewards._tell_org(city_id, "ledger_problem", "/", None, detail=detail)
    log.error("ledger invariants broken", extra={"breaches": [b.detail for b in breaches]})
    return len(breaches)


async def _alert_operators(kind: str, **params: Any) -> None:
    for user in await User.filter(is_operator=True):
        await notifications.notify(user, kind, link="/", **params)
