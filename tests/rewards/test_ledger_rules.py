"""The ledger's own rules: what `post` refuses or posts once, and the breaches the nightly
check names, each with the city whose money it concerns."""

from __future__ import annotations

import httpx
import pytest

from service import db
from service.rewards import ledger
from service.rewards.ledger import Breach, Unbalanced
from service.rewards.models import (
    AccountKind,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutStatus,
    TransactionKind,
)
from tests.challenges.test_applications import open_challenge
from tests.rewards.helpers import approved, awarded, bank_account

K = AccountKind
T = TransactionKind


class TestPost:
    async def test_refuses_what_does_not_balance_and_posts_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        where = {"challenge_id": challenge_id, "city_id": city.org.id, "counterpart_id": None}
        async with db.transaction(None):
            source = await ledger.account(K.funding_source, "EUR", organization_id=city.org.id)
            escrow = await ledger.account(K.escrow, "EUR", challenge_id=challenge_id)
            dollars = await ledger.account(K.escrow, "USD", challenge_id=challenge_id)
        cases = {
            "entries summing to -1": lambda: ledger.post(
                "fund:a",
                T.fund,
                [(source, -100), (escrow, 99)],
                amount_minor=100,
                currency="EUR",
                **where,
            ),
            "two currencies": lambda: ledger.post(
                "fund:b",
                T.fund,
                [(source, -100), (dollars, 100)],
                amount_minor=100,
                currency="EUR",
                **where,
            ),
            "nothing moved": lambda: ledger.move("fund:c", T.fund, source, escrow, 0, **where),
            "a negative amount": lambda: ledger.move("fund:d", T.fund, source, escrow, -5, **where),
        }
        for name, attempt in cases.items():
            with pytest.raises(Unbalanced) as refused:
                async with db.transaction(None):
                    await attempt()
            assert str(refused.value).startswith("fund:"), name
        assert not await LedgerTransaction.exists()
        assert not await LedgerEntry.exists()
        assert await ledger.escrow_balance(challenge_id, "EUR") == 0

    async def test_the_same_event_is_posted_once(self, client: httpx.AsyncClient) -> None:
        city, challenge_id = await open_challenge(client)
        async with db.transaction(None):
            source = await ledger.account(K.funding_source, "EUR", organization_id=city.org.id)
            escrow = await ledger.account(K.escrow, "EUR", challenge_id=challenge_id)
            posted = [
                await ledger.move(
                    "fund:twice",
                    T.fund,
                    source,
                    escrow,
                    2_500,
                    challenge_id=challenge_id,
                    city_id=city.org.id,
                    counterpart_id=city.org.id,
                )
                for _ in range(2)
            ]
        assert posted[0] is not None and posted[1] is None
        assert await LedgerTransaction.filter(key="fund:twice").count() == 1
        assert await LedgerEntry.all().count() == 2
        assert await ledger.escrow_balance(challenge_id, "EUR") == 2_500


class TestInvariants:
    async def test_a_transaction_without_entries(self, client: httpx.AsyncClient) -> None:
        city, challenge_id = await open_challenge(client)
        async with db.transaction(None):
            txn = await LedgerTransaction.create(
                key="fund:empty",
                kind=T.fund,
                challenge_id=challenge_id,
                city_id=city.org.id,
                amount_minor=100,
                currency="EUR",
            )
        assert await ledger.check_invariants() == [
            Breach("no_entries", f"transaction {txn.id} has no entries", city.org.id)
        ]

    async def test_a_payout_posted_but_not_paid(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        await bank_account(client, a.winner, a.winner_org)
        await approved(client, a, a.milestone_ids[0])
        released = await client.post(
            f"/api/v1/milestones/{a.milestone_ids[0]}/release", headers=a.treasurer.headers
        )
        assert released.status_code == 200, released.text
        payout = await Payout.get()
        assert payout.status is PayoutStatus.awaiting_transfer
        assert await ledger.check_invariants() == []
        # The payout is posted as paid while it still waits for its bank transfer.
        async with db.transaction(None):
            owner = {"organization_id": a.winner_org, "award_id": a.award_id}
            payable = await ledger.account(K.payable, payout.currency, **owner)
            paid = await ledger.account(K.paid_out, payout.currency, **owner)
            await ledger.move(
                f"payout:{payout.id}",
                T.payout,
                payable,
                paid,
                payout.amount_minor,
                challenge_id=a.challenge_id,
                city_id=a.city.org.id,
                counterpart_id=a.winner_org,
            )
        assert await ledger.check_invariants() == [
            Breach("payout_unmatched", f"payout {payout.id} is posted but not paid", a.city.org.id)
        ]

    async def test_negative_award_and_refund_accounts_name_their_city(
        self, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client, amounts=(3_000_000,))
        where = {
            "challenge_id": a.challenge_id,
            "city_id": a.city.org.id,
            "counterpart_id": a.winner_org,
        }
        async with db.transaction(None):
            allocation = await ledger.account(K.allocation, "EUR", award_id=a.award_id)
            payable = await ledger.account(
                K.payable, "EUR", organization_id=a.winner_org, award_id=a.award_id
            )
            # One cent more released than was awarded.
            await ledger.move("release:broken", T.release, allocation, payable, 3_000_001, **where)
        assert await ledger.check_invariants() == [
            Breach(
                "negative_balance",
                f"account allocation:award:{a.award_id}:EUR is at -1",
                a.city.org.id,
            )
        ]
        async with db.transaction(None):
            # Money taken out of what was returned to the city, back into escrow.
            returned = await ledger.account(K.refunded, "EUR", organization_id=a.city.org.id)
            escrow = await ledger.account(K.escrow, "EUR", challenge_id=a.challenge_id)
            await ledger.move("refund:broken", T.refund, returned, escrow, 1, **where)
        breaches = await ledger.check_invariants()
        assert Breach(
            "negative_balance",
            f"account refunded:organization:{a.city.org.id}:EUR is at -1",
            a.city.org.id,
        ) in breaches and {b.city_id for b in breaches} == {a.city.org.id}
