"""The ledger's running sums: kept by the posting transaction, equal to the ledger's own sums,
rebuilt from it alike, and gone with a posting that rolls back."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from service import db
from service.rewards import aggregates
from service.rewards.models import (
    AwardPayment,
    LedgerMonth,
    LedgerTransaction,
    Payout,
    PayoutStatus,
    Rail,
    TransactionKind,
)
from tests.rewards.helpers import awarded

T = TransactionKind


async def _ledger_sums() -> dict[tuple[int, str, str, str], tuple[int, int]]:
    """The same sums, computed from the ledger's rows in Python."""
    found: dict[tuple[int, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for challenge_id, kind, currency, at, amount in await LedgerTransaction.all().values_list(
        "challenge_id", "kind", "currency", "created_at", "amount_minor"
    ):
        key = (int(challenge_id), str(kind), str(currency), aggregates.month_of(at))
        found[key][0] += int(amount)
        found[key][1] += 1
    return {key: (total, count) for key, (total, count) in found.items()}


async def _kept_sums() -> dict[tuple[int, str, str, str], tuple[int, int]]:
    rows = await LedgerMonth.all().values_list(
        "challenge_id", "kind", "currency", "month", "amount_minor", "transactions"
    )
    return {(int(c), str(k), str(cur), str(m)): (int(a), int(n)) for c, k, cur, m, a, n in rows}


async def _firsts() -> dict[int, datetime]:
    return {
        int(a): at for a, at in await AwardPayment.all().values_list("award_id", "first_paid_at")
    }


async def test_sums_follow_the_ledger_and_rebuild_alike(client: httpx.AsyncClient) -> None:
    a = await awarded(client)  # funded and allocated through the API: two postings
    assert await _kept_sums() == await _ledger_sums() != {}
    currency = (await LedgerTransaction.first().values_list("currency", flat=True)) or "EUR"
    payout = await Payout.create(
        milestone_id=a.milestone_ids[0],
        organization_id=a.winner_org,
        amount_minor=100,
        currency=currency,
        rail=Rail.bank_transfer,
        status=PayoutStatus.paid,
        idempotency_key="aggregates-1",
    )
    now = datetime.now(UTC)
    later, earlier = now + timedelta(days=40), now - timedelta(days=1)

    async def post(key: str, kind: TransactionKind, at: datetime, amount: int = 100) -> None:
        await LedgerTransaction.create(
            key=key,
            kind=kind,
            challenge_id=a.challenge_id,
            city_id=a.city.org.id,
            amount_minor=amount,
            currency=currency,
            created_at=at,
        )

    async with db.transaction(None):
        # The same award paid twice; the second posted with an earlier clock.
        await post(f"payout:{payout.id}", T.payout, later)
        await post("payout:999999999", T.payout, now)  # no such payout: no award to date
        await post("reversal:1:1", T.reversal, later, 30)
    async with db.transaction(None):
        await post("payout-extra", T.payout, earlier)  # not a payout's key: summed only
        second = await Payout.create(
            milestone_id=a.milestone_ids[0],
            organization_id=a.winner_org,
            amount_minor=100,
            currency=currency,
            rail=Rail.bank_transfer,
            status=PayoutStatus.paid,
            idempotency_key="aggregates-2",
            round=2,
        )
        await post(f"payout:{second.id}", T.payout, earlier)
        await post(f"payout:{second.id}-late", T.payout, later)
    with pytest.raises(RuntimeError):
        async with db.transaction(None):
            await post("rolled-back", T.fund, now, 10**9)
            raise RuntimeError("the posting fails after the sums were updated")

    kept = await _kept_sums()
    assert kept == await _ledger_sums()
    # Two months for the payouts (this one and forty days on), one posting each side.
    payout_months = {k[3] for k in kept if k[1] == "payout"}
    assert payout_months == {aggregates.month_of(now), aggregates.month_of(later)} | {
        aggregates.month_of(earlier)
    }
    award_id = (await Payout.filter(id=payout.id).values_list("milestone__award_id", flat=True))[0]
    assert (await _firsts()) == {award_id: earlier}

    # What the dashboards read: the sums of a query of challenges, and first payments.
    from service.challenges.models import Challenge

    challenges = Challenge.filter(id=a.challenge_id)
    by_month = await aggregates.sums_by_month(challenges, [T.payout, T.reversal])
    assert sum(amount for kind, _, _, amount in by_month if kind == "payout") == 500
    assert sum(amount for kind, _, _, amount in by_month if kind == "reversal") == 30
    assert await aggregates.first_payments(challenges) == {award_id: earlier}
    assert await aggregates.first_payments(Challenge.filter(id=-1)) == {}

    # Rebuilt from the ledger: the same rows.
    async with db.transaction(None) as connection:
        await aggregates.rebuild(connection)
    assert await _kept_sums() == kept
    assert (await _firsts()) == {award_id: earlier}


async def test_listener_without_a_connection_and_on_updates(client: httpx.AsyncClient) -> None:
    txn = await LedgerTransaction.create(
        key="standalone",
        kind=T.fund,
        challenge_id=1,
        city_id=1,
        amount_minor=5,
        currency="EUR",
    )
    # Saving again (the ledger never does) adds nothing; called without a connection, the
    # listener uses the model's own.
    await txn.save()
    assert await _kept_sums() == await _ledger_sums()
    await LedgerMonth.all().delete()
    await aggregates._on_posted(LedgerTransaction, txn, True, None, [])
    assert await _kept_sums() == await _ledger_sums()
    assert [aggregates.payout_id_of(k) for k in ("payout:12", "payout:x", "reversal:3:1")] == [
        12,
        None,
        None,
    ]
