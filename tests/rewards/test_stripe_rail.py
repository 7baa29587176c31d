"""The Stripe rail end to end: the real `stripe` SDK talks over HTTP to the local fake Stripe
server; its signed webhooks are posted to the app; jobs run on a real arq worker."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from starlette.applications import Starlette

from service import db
from service.core.jobs import JobQueue, enqueue
from service.integrations.fake_stripe import TEST_API_KEY, FakeStripe, WebhookSettings, sign
from service.notifications.models import Notification
from service.rewards import ledger
from service.rewards.gateway import StripeGateway
from service.rewards.models import (
    Funding,
    FundingStatus,
    LedgerTransaction,
    Milestone,
    Payout,
    PayoutAccount,
    PayoutStatus,
    Rail,
    Refund,
    RefundStatus,
    TransactionKind,
    WebhookEvent,
)
from tests import factories
from tests.challenges.test_applications import open_challenge
from tests.rewards.helpers import Awarded, approved, awarded

SECRET = "whsec_test_civic_rail"
Burst = Callable[[], Awaitable[None]]


@pytest.fixture
async def fake(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeStripe]:
    """A fake Stripe whose events are held for the test to post, and the app pointed at it."""
    stripe_fake = FakeStripe(webhooks=WebhookSettings(secret=SECRET, auto_deliver=False))
    await stripe_fake.start_async()
    stripe_fake.top_up(100_000_000, "eur")
    settings = app.state.settings.with_overrides(
        stripe_secret_key=TEST_API_KEY,
        stripe_api_base=stripe_fake.url,
        stripe_webhook_secret=SECRET,
    )
    gateway = StripeGateway(settings, timeout=5)
    monkeypatch.setattr(app.state.deps, "gateway", gateway)
    try:
        yield stripe_fake
    finally:
        await gateway.aclose()
        await stripe_fake.stop_async()


def queue_of(client: httpx.AsyncClient) -> JobQueue:
    queue: JobQueue = client._transport.app.state.deps.queue  # type: ignore[attr-defined]
    return queue


async def deliver(client: httpx.AsyncClient, fake: FakeStripe) -> list[httpx.Response]:
    """Post every event Stripe has emitted so far to the app, as Stripe would."""
    responses = []
    for delivery in fake.webhooks.take_signed():
        response = await client.post(
            "/api/v1/webhooks/stripe", content=delivery.payload, headers=delivery.headers
        )
        assert response.status_code == 200, response.text
        responses.append(response)
    return responses


async def connected(client: httpx.AsyncClient, fake: FakeStripe, a: Awarded) -> str:
    """The winner connects a Stripe Express account and finishes onboarding."""
    response = await client.post(
        f"/api/v1/organizations/{a.winner_org}/payout-account",
        json={"rail": "stripe"},
        headers=a.winner.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["onboarding_url"].startswith(fake.url) and body["payouts_enabled"] is False
    account_id = str(body["stripe_account_id"])
    fake.complete_onboarding(account_id)
    return account_id


async def test_card_funding_is_escrowed_when_stripe_confirms(
    client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
) -> None:
    city, challenge_id = await open_challenge(client)
    created = await client.post(
        f"/api/v1/challenges/{challenge_id}/funding",
        json={"amount_minor": 2_500_000, "method": "stripe"},
        headers=city.finance.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "pending" and body["client_secret"].startswith(
        body["payment_intent_id"]
    )
    money = (await client.get(f"/api/v1/challenges/{challenge_id}/money")).json()
    assert money["escrowed_minor"] == 0
    fake.pay(body["payment_intent_id"])
    # Delivered twice and the job run twice: escrowed once.
    fake.webhooks.configure(duplicates=2)
    responses = await deliver(client, fake)
    assert any(r.json()["duplicate"] for r in responses)
    await worker_burst()
    async with db.transaction(queue_of(client)):
        for event in await WebhookEvent.all():
            enqueue("rewards.handle_event", event_id=event.id, job_id=f"again-{event.id}")
    await worker_burst()
    funding = await Funding.get(id=body["id"])
    assert funding.status is FundingStatus.succeeded
    money = (await client.get(f"/api/v1/challenges/{challenge_id}/money")).json()
    assert money["escrowed_minor"] == 2_500_000
    assert await LedgerTransaction.filter(kind=TransactionKind.fund).count() == 1


async def test_a_failed_card_payment_escrows_nothing(
    client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
) -> None:
    city, challenge_id = await open_challenge(client)
    body = (
        await client.post(
            f"/api/v1/challenges/{challenge_id}/funding",
            json={"amount_minor": 1_000, "method": "stripe"},
            headers=city.finance.headers,
        )
    ).json()
    fake.pay(body["payment_intent_id"], succeed=False)
    await deliver(client, fake)
    await worker_burst()
    funding = await Funding.get(id=body["id"])
    assert funding.status is FundingStatus.failed and funding.failure_reason
    assert await LedgerTransaction.all().count() == 0


async def test_onboarding_then_account_updated_enables_payouts(
    client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
) -> None:
    a = await awarded(client)
    account_id = await connected(client, fake, a)
    assert not (await PayoutAccount.get(stripe_account_id=account_id)).payouts_enabled
    await deliver(client, fake)
    await worker_burst()
    assert (await PayoutAccount.get(stripe_account_id=account_id)).payouts_enabled


class TestExactlyOnce:
    async def _released(
        self, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> tuple[Awarded, int]:
        a = await awarded(client)
        await connected(client, fake, a)
        await deliver(client, fake)
        await worker_burst()
        first = a.milestone_ids[0]
        await approved(client, a, first)
        released = await client.post(
            f"/api/v1/milestones/{first}/release", headers=a.treasurer.headers
        )
        assert released.status_code == 200, released.text
        assert released.json()["payouts"][0]["status"] == "queued"
        again = await client.post(
            f"/api/v1/milestones/{first}/release", headers=a.treasurer.headers
        )
        assert again.status_code == 409
        return a, first

    async def test_released_twice_job_twice_webhooks_thrice_out_of_order(
        self, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> None:
        a, first = await self._released(client, fake, worker_burst)
        payout = await Payout.get(milestone_id=first)
        # The job runs, then is queued again and runs again.
        await worker_burst()
        async with db.transaction(queue_of(client)):
            enqueue("rewards.pay", payout_id=payout.id, job_id=f"again-{payout.id}")
        await worker_burst()
        fake.webhooks.configure(duplicates=3, shuffle=True)
        await deliver(client, fake)
        await worker_burst()
        payout = await Payout.get(id=payout.id)
        assert payout.status is PayoutStatus.paid and payout.stripe_transfer_id
        assert fake.counts()["transfers_by_group"] == {payout.idempotency_key: 1}
        assert await LedgerTransaction.filter(kind=TransactionKind.payout).count() == 1
        assert (await Milestone.get(id=first)).status.value == "paid"
        shown = (await client.get(f"/api/v1/payouts/{payout.id}", headers=a.winner.headers)).json()
        assert (
            shown["status"] == "paid" and shown["stripe_transfer_id"] == payout.stripe_transfer_id
        )
        assert await ledger.check_invariants() == []

    async def test_a_lost_answer_is_found_again_not_paid_twice(
        self, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> None:
        """Stripe makes the transfer but the answer is lost (500 after the effect), and the
        next try is a dropped connection: the job retries, and finds the first transfer."""
        from service.rewards import tasks

        _, first = await self._released(client, fake, worker_burst)
        payout = await Payout.get(milestone_id=first)
        fake.inject("POST /v1/transfers", "error_500_after", times=1)
        deps = client._transport.app.state.deps  # type: ignore[attr-defined]
        from arq import Retry

        with pytest.raises(Retry):
            await tasks.pay(deps, payout_id=payout.id)
        assert (await Payout.get(id=payout.id)).status is PayoutStatus.in_flight
        fake.inject("GET /v1/transfers", "drop", times=1)
        with pytest.raises(Retry):
            await tasks.pay(deps, payout_id=payout.id)
        assert await tasks.pay(deps, payout_id=payout.id) == "paid"
        assert await tasks.pay(deps, payout_id=payout.id) == "skipped"
        payout = await Payout.get(id=payout.id)
        assert payout.attempts == 3 and payout.status is PayoutStatus.paid
        assert fake.counts()["transfers_by_group"] == {payout.idempotency_key: 1}
        assert await ledger.check_invariants() == []

    async def test_reversal_returns_the_money_and_reopens_the_milestone(
        self, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> None:
        a, first = await self._released(client, fake, worker_burst)
        await worker_burst()
        payout = await Payout.get(milestone_id=first)
        assert payout.stripe_transfer_id
        fake.reverse_transfer(payout.stripe_transfer_id)
        fake.webhooks.configure(duplicates=2, shuffle=True)
        await deliver(client, fake)
        await worker_burst()
        payout = await Payout.get(id=payout.id)
        assert payout.status is PayoutStatus.reversed
        assert (await Milestone.get(id=first)).status.value == "approved"
        money = (await client.get(f"/api/v1/challenges/{a.challenge_id}/money")).json()
        assert money["paid_minor"] == 0
        assert await LedgerTransaction.filter(kind=TransactionKind.reversal).count() == 1
        assert await Notification.filter(title="A payout was reversed").exists()
        assert await ledger.check_invariants() == []

    async def test_permanent_refusal_fails_the_payout_and_tells_both_sides(
        self, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> None:
        a = await awarded(client)
        account_id = await connected(client, fake, a)
        # The app believes payouts are enabled, but Stripe refuses the transfer (not enough
        # balance on the platform: a refusal, not an outage).
        async with db.transaction(None):
            await PayoutAccount.filter(stripe_account_id=account_id).update(payouts_enabled=True)
        fake.reset()
        await approved(client, a, a.milestone_ids[0])
        released = await client.post(
            f"/api/v1/milestones/{a.milestone_ids[0]}/release", headers=a.treasurer.headers
        )
        assert released.status_code == 200, released.text
        await worker_burst()
        payout = await Payout.get(milestone_id=a.milestone_ids[0])
        assert payout.status is PayoutStatus.failed and payout.failure_reason
        assert (await Milestone.get(id=a.milestone_ids[0])).status.value == "approved"
        assert await Notification.filter(title="A payout failed").count() >= 2
        money = (await client.get(f"/api/v1/challenges/{a.challenge_id}/money")).json()
        assert money["paid_minor"] == 0
        assert await ledger.check_invariants() == []


class TestWebhookSignatures:
    def _event(self) -> bytes:
        return json.dumps(
            {"id": "evt_test_1", "type": "account.updated", "data": {"object": {"id": "acct_1"}}}
        ).encode()

    @pytest.mark.parametrize(
        ("secret", "offset"),
        [(SECRET, -3600), (SECRET, 3600), ("whsec_forged", 0)],
        ids=["stale", "future", "forged"],
    )
    async def test_refused_and_nothing_stored(
        self, client: httpx.AsyncClient, fake: FakeStripe, secret: str, offset: int
    ) -> None:
        payload = self._event()
        header = sign(payload, secret, int(time.time()) + offset)
        response = await client.post(
            "/api/v1/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )
        assert response.status_code == 400, response.text
        assert not await WebhookEvent.exists()

    async def test_missing_signature_refused_valid_one_stored_once(
        self, client: httpx.AsyncClient, fake: FakeStripe
    ) -> None:
        payload = self._event()
        missing = await client.post(
            "/api/v1/webhooks/stripe",
            content=payload,
            headers={"Content-Type": "application/json"},
        )
        assert missing.status_code == 400
        header = sign(payload, SECRET, int(time.time()))
        for expected in (False, True):
            response = await client.post(
                "/api/v1/webhooks/stripe",
                content=payload,
                headers={"Stripe-Signature": header, "Content-Type": "application/json"},
            )
            assert response.json() == {"received": True, "duplicate": expected}
        assert await WebhookEvent.filter(event_id="evt_test_1").count() == 1


async def test_cancelling_refunds_card_escrow_through_stripe(
    client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
) -> None:
    city, challenge_id = await open_challenge(client)
    body = (
        await client.post(
            f"/api/v1/challenges/{challenge_id}/funding",
            json={"amount_minor": 4_000_000, "method": "stripe"},
            headers=city.finance.headers,
        )
    ).json()
    fake.pay(body["payment_intent_id"])
    await deliver(client, fake)
    await worker_burst()
    cancelled = await client.post(
        f"/api/v1/challenges/{challenge_id}/cancel",
        json={"reason": "The budget was moved."},
        headers=city.manager.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    await worker_burst()
    refund = await Refund.get()
    assert refund.status is RefundStatus.paid and refund.stripe_refund_id
    assert fake.counts()["refunds"] == 1
    money = (await client.get(f"/api/v1/challenges/{challenge_id}/money")).json()
    assert (money["refunded_minor"], money["remaining_minor"]) == (4_000_000, 0)
    assert await ledger.check_invariants() == []


async def test_failed_bank_payout_at_stripe_tells_the_winner(
    client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
) -> None:
    person = await factories.person(client)
    org = await factories.make_org(members={person.user: factories.Role.owner})
    response = await client.post(
        f"/api/v1/organizations/{org.id}/payout-account",
        json={"rail": "stripe"},
        headers=person.headers,
    )
    account_id = response.json()["stripe_account_id"]
    fake.complete_onboarding(account_id)
    fake.fail_payout(account_id, 5000, "eur")
    await deliver(client, fake)
    await worker_burst()
    assert await Notification.filter(
        user_id=person.user.id, title="Stripe could not pay out to your bank account"
    ).exists()
    assert (await PayoutAccount.get(organization_id=org.id)).rail is Rail.stripe
