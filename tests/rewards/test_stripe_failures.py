"""The Stripe rail when Stripe fails or says something unexpected: outages answered with a
502 and nothing recorded, jobs retried with their state kept, refusals recorded, payments
cancelled at Stripe, and events about objects that are not ours. Against the fake Stripe
server, its faults injected per route."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from arq import Retry
from starlette.applications import Starlette

from service import db
from service.audit.models import AuditEvent
from service.bootstrap import Deps
from service.challenges.models import Challenge
from service.integrations.fake_stripe import FakeStripe, Fault, sign
from service.notifications.models import Notification
from service.rewards import ledger, tasks
from service.rewards import service as rewards
from service.rewards.models import (
    Funding,
    FundingStatus,
    LedgerTransaction,
    PayoutAccount,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from tests import factories
from tests.challenges.helpers import City
from tests.challenges.test_applications import open_challenge
from tests.rewards import test_stripe_rail as stripe_rail
from tests.rewards.helpers import bank_account
from tests.rewards.test_pages import browser, text_of
from tests.rewards.test_stripe_rail import Burst, deliver

fake = stripe_rail.fake
UNAVAILABLE = "The payment provider could not be reached. Nothing was charged: try again."


def deps_of(app: Starlette) -> Deps:
    deps: Deps = app.state.deps
    return deps


@dataclass
class CardFunding:
    city: City
    challenge_id: int
    funding_id: int
    intent_id: str


async def card_funding(client: httpx.AsyncClient) -> CardFunding:
    """A card payment of 40,000.00 into a new challenge's escrow, not paid yet."""
    city, challenge_id = await open_challenge(client)
    response = await client.post(
        f"/api/v1/challenges/{challenge_id}/funding",
        json={"amount_minor": 4_000_000, "method": "stripe"},
        headers=city.finance.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return CardFunding(city, challenge_id, body["id"], body["payment_intent_id"])


async def paid_and_cancelled(
    client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst, *, refunded: bool = False
) -> CardFunding:
    """The card payment made and escrowed, then the challenge cancelled: its refund is
    queued. `refunded`: the payment was refunded in Stripe's dashboard before."""
    c = await card_funding(client)
    fake.pay(c.intent_id)
    await deliver(client, fake)
    await worker_burst()
    assert (await Funding.get(id=c.funding_id)).status is FundingStatus.succeeded
    if refunded:
        fake.state.create_refund(payment_intent=c.intent_id)
    cancelled = await client.post(
        f"/api/v1/challenges/{c.challenge_id}/cancel",
        json={"reason": "The budget was moved."},
        headers=c.city.manager.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert (await Refund.get()).status is RefundStatus.queued
    return c


async def money(client: httpx.AsyncClient, challenge_id: int) -> dict[str, int]:
    return (await client.get(f"/api/v1/challenges/{challenge_id}/money")).json()


class TestCardFunding:
    async def test_stripe_down_answers_502_and_records_nothing(
        self, client: httpx.AsyncClient, fake: FakeStripe
    ) -> None:
        city, challenge_id = await open_challenge(client)
        url = f"/api/v1/challenges/{challenge_id}/funding"
        body = {"amount_minor": 1_000_000, "method": "stripe"}
        fake.inject("POST /v1/payment_intents", "error_500")
        down = await client.post(url, json=body, headers=city.finance.headers)
        assert down.status_code == 502
        assert down.json()["error"] == "ProviderUnavailable"
        assert down.json()["detail"] == UNAVAILABLE
        assert not await Funding.exists()
        # Trying again once Stripe answers opens one payment.
        again = await client.post(url, json=body, headers=city.finance.headers)
        assert again.status_code == 201, again.text
        assert await Funding.filter(status=FundingStatus.pending).count() == 1
        assert fake.counts()["payment_intents"] == 1

    async def test_no_lock_on_the_challenge_is_held_while_stripe_answers(
        self, client: httpx.AsyncClient, fake: FakeStripe
    ) -> None:
        """A slow Stripe does not hold the challenge's row: everything else that locks the
        challenge (a bank transfer recorded, a milestone released, a cancellation) goes on."""
        city, challenge_id = await open_challenge(client)
        fake.faults.script("POST /v1/payment_intents", [Fault("delay", seconds=2.0)])
        asked = asyncio.ensure_future(
            client.post(
                f"/api/v1/challenges/{challenge_id}/funding",
                json={"amount_minor": 1_000_000, "method": "stripe"},
                headers=city.finance.headers,
            )
        )
        deadline = time.monotonic() + 10
        while not fake.counts()["calls"].get("POST /v1/payment_intents"):
            assert time.monotonic() < deadline, "Stripe was never asked"
            await asyncio.sleep(0.05)
        # Stripe is answering now: the challenge's row can be locked at once (NOWAIT fails
        # with "could not obtain lock" if another transaction holds it).
        async with db.transaction(None):
            locked = await Challenge.select_for_update(nowait=True).get(id=challenge_id)
            assert locked.id == challenge_id
        assert not asked.done()
        answered = await asked
        assert answered.status_code == 201, answered.text
        funding = await Funding.get(id=answered.json()["id"])
        assert funding.payment_intent_id == answered.json()["payment_intent_id"]
        assert funding.status is FundingStatus.pending

    async def test_asking_stripe_again_for_the_same_funding_changes_nothing(
        self, app: Starlette, client: httpx.AsyncClient, fake: FakeStripe
    ) -> None:
        """A second `start_card_payment` for one funding (a retry after a lost answer) gets
        Stripe's first intent back under the same key and stores nothing twice."""
        c = await card_funding(client)
        funding = await Funding.get(id=c.funding_id)
        deps = deps_of(app)
        again = await rewards.start_card_payment(
            rewards.system_context(deps.settings), funding, deps.gateway, deps.queue
        )
        assert again.payment_intent_id == c.intent_id
        assert fake.counts()["payment_intents"] == 1
        audited = AuditEvent.filter(action="rewards.fund", object_id=str(c.funding_id))
        assert await audited.count() == 1

    async def test_pending_until_paid_and_failed_when_cancelled_at_stripe(
        self, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> None:
        c = await card_funding(client)
        # Stripe says the payment was created: it still waits for the card, nothing changes.
        await deliver(client, fake)
        await worker_burst()
        created = await WebhookEvent.get(type="payment_intent.created")
        assert created.processed_at is not None
        assert (await Funding.get(id=c.funding_id)).status is FundingStatus.pending
        # The payment is cancelled at Stripe (from its dashboard) before anyone paid.
        fake.state.cancel_payment_intent(c.intent_id)
        await deliver(client, fake)
        await worker_burst()
        funding = await Funding.get(id=c.funding_id)
        assert (funding.status, funding.failure_reason) == (FundingStatus.failed, "canceled")
        assert not await LedgerTransaction.exists()
        assert (await money(client, c.challenge_id))["escrowed_minor"] == 0

    async def test_stripe_down_while_handling_an_event_retries_it_later(
        self, app: Starlette, client: httpx.AsyncClient, fake: FakeStripe
    ) -> None:
        c = await card_funding(client)
        fake.pay(c.intent_id)
        await deliver(client, fake)
        event = await WebhookEvent.get(type="payment_intent.succeeded")
        fake.inject("GET /v1/payment_intents/*", "error_500")
        with pytest.raises(Retry) as retry:
            await tasks.handle_event(deps_of(app), event_id=event.id)
        assert retry.value.defer_score == 1000
        event = await WebhookEvent.get(id=event.id)
        assert event.attempts == 1 and event.error and event.processed_at is None
        assert (await Funding.get(id=c.funding_id)).status is FundingStatus.pending
        assert await tasks.handle_event(deps_of(app), event_id=event.id) == "handled"
        assert await tasks.handle_event(deps_of(app), event_id=event.id) == "skipped"
        event = await WebhookEvent.get(id=event.id)
        assert event.error == "" and event.processed_at is not None
        assert (await Funding.get(id=c.funding_id)).status is FundingStatus.succeeded
        assert (await money(client, c.challenge_id))["escrowed_minor"] == 4_000_000


class TestPayoutAccount:
    async def test_stripe_down_answers_502_and_a_retry_opens_the_same_account(
        self, client: httpx.AsyncClient, fake: FakeStripe
    ) -> None:
        person = await factories.person(client)
        org = await factories.make_org(members={person.user: factories.Role.owner})
        url = f"/api/v1/organizations/{org.id}/payout-account"
        accounts = fake.counts()["accounts"]
        fake.inject("POST /v1/accounts", "drop")
        down = await client.post(url, json={"rail": "stripe"}, headers=person.headers)
        assert down.status_code == 502 and down.json()["detail"] == UNAVAILABLE
        assert not await PayoutAccount.exists()
        # The account is opened, but the onboarding link is lost: nothing is kept here...
        fake.inject("POST /v1/account_links", "error_500")
        lost = await client.post(url, json={"rail": "stripe"}, headers=person.headers)
        assert lost.status_code == 502
        assert not await PayoutAccount.exists()
        assert fake.counts()["accounts"] == accounts + 1
        # ...and trying again finds the same Stripe account (same idempotency key).
        done = await client.post(url, json={"rail": "stripe"}, headers=person.headers)
        assert done.status_code == 200, done.text
        assert done.json()["onboarding_url"].startswith(fake.url)
        assert fake.counts()["accounts"] == accounts + 1

    async def test_from_bank_details_to_stripe_and_back(
        self, client: httpx.AsyncClient, fake: FakeStripe
    ) -> None:
        person = await factories.person(client)
        org = await factories.make_org(members={person.user: factories.Role.owner})
        url = f"/api/v1/organizations/{org.id}/payout-account"
        await bank_account(client, person, org.id)
        to_stripe = await client.post(url, json={"rail": "stripe"}, headers=person.headers)
        assert to_stripe.status_code == 200, to_stripe.text
        shown = to_stripe.json()
        # Not paid through Stripe until its onboarding is done.
        assert (shown["rail"], shown["payouts_enabled"]) == ("stripe", False)
        assert shown["stripe_account_id"] and shown["onboarding_url"].startswith(fake.url)
        assert await PayoutAccount.filter(organization_id=org.id).count() == 1
        back = await client.post(
            url,
            json={
                "rail": "bank_transfer",
                "holder": "Rutas SL",
                "iban": "DE89 3704 0044 0532 0130 00",
                "bic": "",
            },
            headers=person.headers,
        )
        assert back.status_code == 200, back.text
        shown = back.json()
        assert (shown["rail"], shown["payouts_enabled"]) == ("bank_transfer", True)
        assert (shown["bank_holder"], shown["bank_iban_last4"]) == ("Rutas SL", "3000")
        account = await PayoutAccount.get(organization_id=org.id)
        assert account.bank_iban == "DE89370400440532013000" and account.bank_bic == ""

    async def test_back_from_onboarding_while_stripe_is_down(
        self, app: Starlette, client: httpx.AsyncClient, fake: FakeStripe
    ) -> None:
        person = await factories.person(client)
        org = await factories.make_org(members={person.user: factories.Role.owner})
        response = await client.post(
            f"/api/v1/organizations/{org.id}/payout-account",
            json={"rail": "stripe"},
            headers=person.headers,
        )
        fake.complete_onboarding(response.json()["stripe_account_id"])
        fake.inject("GET /v1/accounts/*", "error_500")
        async with browser(app, person.user) as web:
            page = await web.get(f"/organizations/{org.id}/payout-account/return")
            assert page.status_code == 200
            assert (
                "Stripe could not be reached, so the state shown may be out of date. Reload "
                "this page in a moment."
            ) in text_of(page)
            assert not (await PayoutAccount.get(organization_id=org.id)).payouts_enabled
            # Reloaded once Stripe answers: its state is read again.
            page = await web.get(f"/organizations/{org.id}/payout-account/return")
            assert "Stripe could not be reached" not in text_of(page)
        assert (await PayoutAccount.get(organization_id=org.id)).payouts_enabled


async def test_events_about_objects_that_are_not_ours_change_nothing(
    client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
) -> None:
    """Connect sends the events of every connected account: one may name an account or a
    transfer this platform does not know (another environment's, or one since deleted)."""
    person = await factories.person(client)
    await factories.make_org(members={person.user: factories.Role.owner})
    events = [
        ("evt_a", "account.updated", {"id": "acct_elsewhere"}, {}),
        ("evt_b", "transfer.updated", {"id": "tr_elsewhere"}, {}),
        ("evt_c", "payout.failed", {"id": "po_elsewhere"}, {"account": "acct_elsewhere"}),
    ]
    for event_id, kind, obj, extra in events:
        payload = json.dumps(
            {"id": event_id, "type": kind, "data": {"object": obj}, **extra}
        ).encode()
        response = await client.post(
            "/api/v1/webhooks/stripe",
            content=payload,
            headers={
                "Stripe-Signature": sign(payload, stripe_rail.SECRET, int(time.time())),
                "Content-Type": "application/json",
            },
        )
        assert response.json() == {"received": True, "duplicate": False}
    calls = fake.counts()["calls"]
    await worker_burst()
    stored = await WebhookEvent.all()
    assert len(stored) == 3
    assert all(e.processed_at is not None and e.error == "" for e in stored)
    # Nothing was asked of Stripe, nothing stored, nobody told.
    assert fake.counts()["calls"] == calls
    assert not await PayoutAccount.exists()
    assert not await Notification.exists()


class TestRefunds:
    async def test_stripe_down_the_refund_is_retried_and_made_once(
        self, app: Starlette, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> None:
        c = await paid_and_cancelled(client, fake, worker_burst)
        refund = await Refund.get()
        fake.inject("POST /v1/refunds", "error_500")
        with pytest.raises(Retry) as retry:
            await tasks.refund(deps_of(app), refund_id=refund.id)
        assert retry.value.defer_score == 4000
        assert (await Refund.get(id=refund.id)).status is RefundStatus.queued
        assert await tasks.refund(deps_of(app), refund_id=refund.id) == "paid"
        # The queued job runs too, later: it finds the refund made.
        assert await tasks.refund(deps_of(app), refund_id=refund.id) == "skipped"
        refund = await Refund.get(id=refund.id)
        assert refund.status is RefundStatus.paid and refund.stripe_refund_id
        assert fake.counts()["refunds"] == 1
        totals = await money(client, c.challenge_id)
        assert (totals["refunded_minor"], totals["remaining_minor"]) == (4_000_000, 0)
        assert await ledger.check_invariants() == []

    async def test_refused_by_stripe_the_refund_fails_and_is_not_asked_again(
        self, app: Starlette, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> None:
        c = await paid_and_cancelled(client, fake, worker_burst, refunded=True)
        await worker_burst()
        refund = await Refund.get()
        assert refund.status is RefundStatus.failed
        assert "has already been refunded" in refund.failure_reason
        assert fake.counts()["refunds"] == 1
        totals = await money(client, c.challenge_id)
        assert (totals["refunded_minor"], totals["escrowed_minor"]) == (0, 4_000_000)
        # Asking for the refunds again does not refund that payment a second time: the failed
        # refund is for finance to look into.
        async with db.transaction(deps_of(app).queue):
            challenge = await Challenge.get(id=c.challenge_id)
            again = await rewards.refund_unallocated(
                rewards.system_context(deps_of(app).settings), challenge
            )
        assert again == [] and await Refund.all().count() == 1
        assert await tasks.refund(deps_of(app), refund_id=refund.id) == "skipped"
        assert fake.counts()["refunds"] == 1

    async def test_the_sweeper_queues_a_stuck_refund_again(
        self, app: Starlette, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> None:
        c = await paid_and_cancelled(client, fake, worker_burst)
        refund = await Refund.get()
        old = datetime.now(UTC) - timedelta(hours=1)
        async with db.transaction(None):
            await Refund.filter(id=refund.id).update(created_at=old)
        depth = await deps_of(app).queue.depth()
        assert await tasks.sweep_payouts(deps_of(app)) == 1
        assert await deps_of(app).queue.depth() == depth + 1
        # Both jobs run (the first one's and the sweeper's): one refund at Stripe.
        await worker_burst()
        assert (await Refund.get(id=refund.id)).status is RefundStatus.paid
        assert fake.counts()["refunds"] == 1
        assert (await money(client, c.challenge_id))["refunded_minor"] == 4_000_000
