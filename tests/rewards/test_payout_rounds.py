"""A milestone's payouts over several rounds on the Stripe rail: released again after its
payouts failed, paying only the shares that were not paid or owed, and a payout reversed in
two parts."""

from __future__ import annotations

import httpx

from service.integrations.fake_stripe import FakeStripe
from service.rewards import ledger
from service.rewards.models import (
    LedgerTransaction,
    Milestone,
    MilestoneStatus,
    Payout,
    PayoutStatus,
    Rail,
    TransactionKind,
    WebhookEvent,
)
from tests import factories
from tests.rewards import test_stripe_rail as stripe_rail
from tests.rewards.helpers import Awarded, approved, awarded, bank_account
from tests.rewards.test_stripe_rail import Burst, connected, deliver

fake = stripe_rail.fake
T = TransactionKind


async def stripe_account(
    client: httpx.AsyncClient, fake: FakeStripe, person: factories.Person, org_id: int
) -> None:
    """The organization connects a Stripe account and finishes its onboarding."""
    response = await client.post(
        f"/api/v1/organizations/{org_id}/payout-account",
        json={"rail": "stripe"},
        headers=person.headers,
    )
    assert response.status_code == 200, response.text
    fake.complete_onboarding(response.json()["stripe_account_id"])


async def release(client: httpx.AsyncClient, a: Awarded, milestone_id: int) -> list[dict]:  # type: ignore[type-arg]
    response = await client.post(
        f"/api/v1/milestones/{milestone_id}/release", headers=a.treasurer.headers
    )
    assert response.status_code == 200, response.text
    payouts: list[dict] = response.json()["payouts"]  # type: ignore[type-arg]
    return payouts


async def money(client: httpx.AsyncClient, challenge_id: int) -> dict[str, int]:
    return (await client.get(f"/api/v1/challenges/{challenge_id}/money")).json()


class TestReleasedAgain:
    async def test_both_shares_refused_then_both_paid(
        self, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> None:
        a = await awarded(client, partner_share=30)
        assert a.partner is not None and a.partner_org is not None
        await stripe_account(client, fake, a.winner, a.winner_org)
        await stripe_account(client, fake, a.partner, a.partner_org)
        await deliver(client, fake)
        await worker_burst()
        first = a.milestone_ids[0]
        await approved(client, a, first)
        # Stripe refuses both transfers: the platform's balance is empty.
        fake.top_up(-100_000_000, "eur")
        assert [p["status"] for p in await release(client, a, first)] == ["queued", "queued"]
        await worker_burst()
        # The second failure finds the milestone reopened by the first: it stays approved.
        failed = await Payout.filter(milestone_id=first).order_by("id")
        assert [p.status for p in failed] == [PayoutStatus.failed] * 2
        assert (await Milestone.get(id=first)).status is MilestoneStatus.approved
        assert await LedgerTransaction.filter(kind=T.payout_failed).count() == 2
        totals = await money(client, a.challenge_id)
        assert (totals["paid_minor"], totals["allocated_minor"]) == (0, 3_000_000)
        assert await ledger.check_invariants() == []
        fake.top_up(100_000_000, "eur")
        await release(client, a, first)
        second_round = (
            await Payout.filter(milestone_id=first)
            .exclude(id__in=[p.id for p in failed])
            .order_by("id")
        )
        assert [(p.organization_id, p.amount_minor) for p in second_round] == [
            (a.winner_org, 700_000),
            (a.partner_org, 300_000),
        ]
        await worker_burst()
        paid = await Payout.filter(id__in=[p.id for p in second_round])
        assert [p.status for p in paid] == [PayoutStatus.paid] * 2
        assert (await Milestone.get(id=first)).status is MilestoneStatus.paid
        assert fake.counts()["transfers"] == 2
        assert (await money(client, a.challenge_id))["paid_minor"] == 1_000_000
        assert await ledger.check_invariants() == []

    async def test_only_the_failed_share_is_paid_again(
        self, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> None:
        """The lead is paid by bank transfer, the partner through Stripe, which refuses."""
        a = await awarded(client, partner_share=30)
        assert a.partner is not None and a.partner_org is not None
        await bank_account(client, a.winner, a.winner_org)
        await stripe_account(client, fake, a.partner, a.partner_org)
        await deliver(client, fake)
        await worker_burst()
        first = a.milestone_ids[0]
        await approved(client, a, first)
        fake.top_up(-100_000_000, "eur")
        released = await release(client, a, first)
        assert sorted((p["rail"], p["status"]) for p in released) == [
            ("bank_transfer", "awaiting_transfer"),
            ("stripe", "queued"),
        ]
        await worker_burst()
        assert (await Milestone.get(id=first)).status is MilestoneStatus.approved
        # Released again: the lead's bank transfer is still owed, so only the partner's share
        # gets a new payout.
        fake.top_up(100_000_000, "eur")
        await release(client, a, first)
        lead = await Payout.filter(milestone_id=first, organization_id=a.winner_org)
        partner = await Payout.filter(milestone_id=first, organization_id=a.partner_org).order_by(
            "id"
        )
        assert [p.status for p in lead] == [PayoutStatus.awaiting_transfer]
        assert [p.status for p in partner] == [PayoutStatus.failed, PayoutStatus.queued]
        await worker_burst()
        assert (await Payout.get(id=partner[1].id)).status is PayoutStatus.paid
        # Paid in full once the lead's transfer is recorded.
        assert (await Milestone.get(id=first)).status is MilestoneStatus.released
        recorded = await client.post(
            f"/api/v1/payouts/{lead[0].id}/bank-transfer",
            json={"reference": "SEPA-LEAD"},
            headers=a.treasurer.headers,
        )
        assert recorded.status_code == 200, recorded.text
        assert (await Milestone.get(id=first)).status is MilestoneStatus.paid
        assert (await money(client, a.challenge_id))["paid_minor"] == 1_000_000
        assert await LedgerTransaction.filter(kind=T.payout).count() == 2
        assert await ledger.check_invariants() == []


async def test_a_payout_reversed_in_two_parts(
    client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
) -> None:
    a = await awarded(client)
    await connected(client, fake, a)
    await deliver(client, fake)
    await worker_burst()
    first = a.milestone_ids[0]
    await approved(client, a, first)
    await release(client, a, first)
    await worker_burst()
    payout = await Payout.get(milestone_id=first)
    assert payout.status is PayoutStatus.paid and payout.rail is Rail.stripe
    transfer_id = str(payout.stripe_transfer_id)

    # Part of the transfer is reversed: that part goes back to the award, the payout stays paid.
    fake.reverse_transfer(transfer_id, 400_000)
    await deliver(client, fake)
    await worker_burst()
    payout = await Payout.get(id=payout.id)
    assert (payout.status, payout.amount_reversed_minor) == (PayoutStatus.paid, 400_000)
    assert (await Milestone.get(id=first)).status is MilestoneStatus.paid
    assert (await money(client, a.challenge_id))["paid_minor"] == 600_000

    # The transfer changes at Stripe without a new reversal: nothing is posted.
    fake.state.update_transfer(transfer_id, changes={"description": "Milestone 1"})
    await deliver(client, fake)
    await worker_burst()
    updated = await WebhookEvent.get(type="transfer.updated")
    assert updated.processed_at is not None and updated.error == ""
    assert await LedgerTransaction.filter(kind=T.reversal).count() == 1
    assert (await money(client, a.challenge_id))["paid_minor"] == 600_000

    # The rest is reversed: the payout is, and the milestone can be released again.
    fake.reverse_transfer(transfer_id)
    await deliver(client, fake)
    await worker_burst()
    payout = await Payout.get(id=payout.id)
    assert (payout.status, payout.amount_reversed_minor) == (PayoutStatus.reversed, 1_000_000)
    assert (await Milestone.get(id=first)).status is MilestoneStatus.approved
    assert (await money(client, a.challenge_id))["paid_minor"] == 0
    assert await LedgerTransaction.filter(kind=T.reversal).count() == 2
    assert await ledger.check_invariants() == []
