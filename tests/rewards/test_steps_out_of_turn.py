"""Money steps asked for at the wrong time, on the bank-transfer rail: funding a cancelled
challenge, recording a payout's or a refund's transfer twice; and what cancelling returns
when part of the escrow was awarded."""

from __future__ import annotations

import httpx

from service import db
from service.accounts.models import Membership, Role
from service.rewards import ledger
from service.rewards.models import (
    Funding,
    LedgerTransaction,
    Refund,
    RefundStatus,
    TransactionKind,
)
from tests import factories
from tests.challenges.helpers import City
from tests.challenges.test_applications import open_challenge
from tests.rewards.helpers import approved, awarded, bank_account, fund

T = TransactionKind


async def cancel(client: httpx.AsyncClient, city: City, challenge_id: int) -> None:
    response = await client.post(
        f"/api/v1/challenges/{challenge_id}/cancel",
        json={"reason": "The budget was moved."},
        headers=city.manager.headers,
    )
    assert response.status_code == 200, response.text


async def treasurer_of(client: httpx.AsyncClient, city: City) -> factories.Person:
    """A finance member of the city signed in with two-factor."""
    treasurer = await factories.person(client, totp=True)
    async with db.transaction(None):
        await Membership.create(user=treasurer.user, organization=city.org, role=Role.finance)
    return treasurer


async def test_a_cancelled_challenge_takes_no_more_money(client: httpx.AsyncClient) -> None:
    city, challenge_id = await open_challenge(client)
    await fund(client, city, challenge_id, 1_000_000)
    await cancel(client, city, challenge_id)
    refused = await client.post(
        f"/api/v1/challenges/{challenge_id}/funding",
        json={"amount_minor": 1_000_000, "method": "bank_transfer", "reference": "TR-2"},
        headers=city.finance.headers,
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == "A cancelled or completed challenge cannot be funded."
    assert await Funding.all().count() == 1
    assert await LedgerTransaction.filter(kind=T.fund).count() == 1


async def test_a_payout_transfer_is_recorded_once(client: httpx.AsyncClient) -> None:
    a = await awarded(client)
    await bank_account(client, a.winner, a.winner_org)
    await approved(client, a, a.milestone_ids[0])
    released = await client.post(
        f"/api/v1/milestones/{a.milestone_ids[0]}/release", headers=a.treasurer.headers
    )
    url = f"/api/v1/payouts/{released.json()['payouts'][0]['id']}/bank-transfer"
    first = await client.post(url, json={"reference": "SEPA-1"}, headers=a.treasurer.headers)
    assert first.status_code == 200, first.text
    again = await client.post(url, json={"reference": "SEPA-2"}, headers=a.treasurer.headers)
    assert again.status_code == 409
    assert again.json()["detail"] == "This payout is not waiting for a bank transfer."
    assert await LedgerTransaction.filter(kind=T.payout).count() == 1
    shown = (await client.get(url.removesuffix("/bank-transfer"), headers=a.winner.headers)).json()
    assert (shown["status"], shown["bank_reference"]) == ("paid", "SEPA-1")


async def test_a_refund_transfer_is_recorded_once(client: httpx.AsyncClient) -> None:
    city, challenge_id = await open_challenge(client)
    await fund(client, city, challenge_id, 3_000_000)
    await cancel(client, city, challenge_id)
    refund = await Refund.get()
    treasurer = await treasurer_of(client, city)
    url = f"/api/v1/refunds/{refund.id}/bank-transfer"
    first = await client.post(url, json={"reference": "BACK-1"}, headers=treasurer.headers)
    assert first.status_code == 200, first.text
    again = await client.post(url, json={"reference": "BACK-2"}, headers=treasurer.headers)
    assert again.status_code == 409
    assert again.json()["detail"] == "This refund is not waiting for a bank transfer."
    refund = await Refund.get(id=refund.id)
    assert (refund.status, refund.reference) == (RefundStatus.paid, "BACK-1")
    assert await LedgerTransaction.filter(kind=T.refund).count() == 1


async def test_cancelling_returns_the_newest_funding_first_and_only_what_was_not_awarded(
    client: httpx.AsyncClient,
) -> None:
    # 10,000.00 funded and awarded, then 20,000.00 more funded.
    a = await awarded(client, amounts=(1_000_000,), funded=1_000_000)
    await fund(client, a.city, a.challenge_id, 2_000_000)
    older, newer = await Funding.filter(challenge_id=a.challenge_id).order_by("id")
    await cancel(client, a.city, a.challenge_id)
    # The 20,000.00 not awarded come back from the newest funding; the older one, all of it
    # awarded, gets no refund.
    refunds = await Refund.all()
    assert [(r.funding_id, r.amount_minor, r.status) for r in refunds] == [
        (newer.id, 2_000_000, RefundStatus.awaiting_transfer)
    ]
    recorded = await client.post(
        f"/api/v1/refunds/{refunds[0].id}/bank-transfer",
        json={"reference": "BACK-1"},
        headers=a.treasurer.headers,
    )
    assert recorded.status_code == 200, recorded.text
    totals = (await client.get(f"/api/v1/challenges/{a.challenge_id}/money")).json()
    assert (totals["refunded_minor"], totals["allocated_minor"], totals["remaining_minor"]) == (
        2_000_000,
        1_000_000,
        0,
    )
    assert older.amount_minor == 1_000_000
    assert await ledger.check_invariants() == []


async def test_a_milestone_not_submitted_cannot_be_sent_back(client: httpx.AsyncClient) -> None:
    a = await awarded(client)
    refused = await client.post(
        f"/api/v1/milestones/{a.milestone_ids[0]}/send-back",
        json={"reason": "Nothing was submitted."},
        headers=a.city.manager.headers,
    )
    assert refused.status_code == 409, refused.text
