"""The fake Stripe server, driven only through the real `stripe` SDK over HTTP (sync and async).

Raw HTTP is used only where a browser or Stripe's own webhook sender would be the client: the
onboarding page, the control endpoints, and the receiver of signed webhooks.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import typing
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.integrations.fake_stripe import (
    BackgroundServer,
    FakeStripe,
    Fault,
    WebhookSettings,
    sign,
)
from service.integrations.fake_stripe.examples import resources as copied_examples

SECRET = "whsec_test_fake_stripe_suite"
REPO = Path(__file__).resolve().parents[2]
SHARED_FIXTURES = REPO.parent / "shared" / "stripe" / "fixtures3.json"
RESOURCE_CLASSES: dict[str, type[stripe.StripeObject]] = {
    "account": stripe.Account,
    "account_link": stripe.AccountLink,
    "balance": stripe.Balance,
    "charge": stripe.Charge,
    "event": stripe.Event,
    "payment_intent": stripe.PaymentIntent,
    "payout": stripe.Payout,
    "refund": stripe.Refund,
    "transfer": stripe.Transfer,
    "transfer_reversal": stripe.TransferReversal,
}


# --- a webhook endpoint on a real socket -------------------------------------------------


class Receiver:
    """Records every webhook request; answers 500 to the next `fail_next` of them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        self.fail_next = 0
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])
        self.server = BackgroundServer(self.app, name="webhook-receiver")

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.requests.append((body, dict(request.headers)))
            if self.fail_next:
                self.fail_next -= 1
                return Response("busy", status_code=500)
        return Response("ok")

    @property
    def url(self) -> str:
        return f"{self.server.url}/hook"

    def events(self) -> list[stripe.Event]:
        """Every delivered event, verified as an app would verify it."""
        with self.lock:
            requests = list(self.requests)
        return [
            stripe.Webhook.construct_event(body, headers["stripe-signature"], SECRET)
            for body, headers in requests
        ]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.fail_next = 0


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe(seed=7) as server:
        yield server


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    hook.server.start()
    try:
        yield hook
    finally:
        hook.server.stop()


@pytest.fixture(autouse=True)
def fresh(fake: FakeStripe) -> FakeStripe:
    fake.reset(seed=7)
    fake.webhooks.configure(**vars(WebhookSettings()))
    return fake


@pytest.fixture
async def client(fake: FakeStripe) -> AsyncIterator[stripe.StripeClient]:
    yield fake.client(timeout=5)
    await fake.close_clients_async()  # and those a test made with fake.client()


@pytest.fixture
def webhooks(fake: FakeStripe, receiver: Receiver) -> Iterator[Receiver]:
    receiver.clear()
    fake.webhooks.configure(url=receiver.url, secret=SECRET, backoff_seconds=0.02)
    yield receiver
    assert fake.wait_for_webhooks(5)


def payee(fake: FakeStripe, client: stripe.StripeClient, *, onboard: bool = True) -> str:
    account = client.v1.accounts.create(
        params={
            "type": "express",
            "country": "DE",
            "email": "winner@example.org",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"organization_id": "42"},
        }
    )
    if onboard:
        fake.complete_onboarding(account.id)
    return account.id


def transfer_params(destination: str, amount: int = 1000, **extra: Any) -> dict[str, Any]:
    return {
        "amount": amount,
        "currency": "eur",
        "destination": destination,
        "transfer_group": "milestone-1",
        "metadata": {"payout_id": "9"},
        **extra,
    }


def available(client: stripe.StripeClient, currency: str = "eur") -> int:
    balance = client.v1.balance.retrieve()
    return sum(f.amount for f in balance.available if f.currency == currency)


def raw(obj: stripe.StripeObject) -> dict[str, Any]:
    """The JSON the server sent for `obj`, as the SDK received it."""
    response = obj.last_response
    assert response is not None
    data: dict[str, Any] = response.data  # type: ignore[assignment]
    return data


# --- accounts and onboarding -----------------------------------------------------------


class TestAccounts:
    def test_onboarding_through_the_link_enables_payouts_and_emits_account_updated(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        account_id = payee(fake, client, onboard=False)
        account = client.v1.accounts.retrieve(account_id)
        assert account.type == "express"
        assert account.default_currency == "eur"
        assert (account.charges_enabled, account.payouts_enabled) == (False, False)
        assert account.details_submitted is False
        assert account.capabilities and account.capabilities.transfers == "inactive"
        assert account.metadata["organization_id"] == "42"

        link = client.v1.account_links.create(
            params={
                "account": account_id,
                "refresh_url": "http://app.test/refresh",
                "return_url": "http://app.test/return",
                "type": "account_onboarding",
            }
        )
        assert link.url.startswith(fake.url)
        assert link.expires_at > link.created
        page = httpx.get(link.url)
        assert page.status_code == 200 and "Complete onboarding" in page.text
        done = httpx.post(link.url, data={"action": "complete"})
        assert done.status_code == 303
        assert done.headers["location"] == "http://app.test/return"
        # A link is single-use: afterwards it sends the browser to the refresh URL.
        again = httpx.get(link.url)
        assert again.status_code == 302
        assert again.headers["location"] == "http://app.test/refresh"

        account = client.v1.accounts.retrieve(account_id)
        assert (account.charges_enabled, account.payouts_enabled) == (True, True)
        assert account.details_submitted is True
        assert account.capabilities and account.capabilities.transfers == "active"
        events = client.v1.events.list(params={"type": "account.updated"}).data
        assert len(events) == 1
        event = events[0]
        assert event.account == account_id
        assert event.data.object["id"] == account_id
        assert event.data.object["payouts_enabled"] is True
        assert event.data.previous_attributes is not None
        assert event.data.previous_attributes["payouts_enabled"] is False

    def test_leaving_onboarding_returns_without_enabling_payouts(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        account_id = payee(fake, client, onboard=False)
        link = client.v1.account_links.create(
            params={
                "account": account_id,
                "refresh_url": "http://app.test/refresh",
                "return_url": "http://app.test/return",
                "type": "account_onboarding",
            }
        )
        left = httpx.post(link.url, data={"action": "leave"})
        assert left.headers["location"] == "http://app.test/return"
        assert client.v1.accounts.retrieve(account_id).payouts_enabled is False
        assert fake.counts()["events"] == 0

    async def test_update_metadata_async(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        account_id = payee(fake, client, onboard=False)
        account = await client.v1.accounts.update_async(
            account_id, params={"metadata": {"organization_id": "", "city": "Lyon"}}
        )
        assert account.metadata.to_dict() == {"city": "Lyon"}
        event = (await client.v1.events.list_async(params={"limit": 1})).data[0]
        assert event.type == "account.updated"
        assert event.data.previous_attributes["metadata"].to_dict() == {"organization_id": "42"}

    def test_unknown_account_is_resource_missing(self, client: stripe.StripeClient) -> None:
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.accounts.retrieve("acct_nope")
        assert error.value.http_status == 404
        assert error.value.code == "resource_missing"


# --- transfers and reversals -----------------------------------------------------------


class TestTransfers:
    def test_create_retrieve_list_and_balance(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(5000, "eur")
        first = client.v1.transfers.create(params=transfer_params(destination))
        assert (first.amount, first.currency, first.destination) == (1000, "eur", destination)
        assert first.metadata["payout_id"] == "9"
        assert first.reversed is False and first.amount_reversed == 0
        assert available(client) == 4000

        other = payee(fake, client)
        second = client.v1.transfers.create(
            params=transfer_params(other, 500, transfer_group="milestone-2")
        )
        third = client.v1.transfers.create(params=transfer_params(destination, 700))
        assert client.v1.transfers.retrieve(first.id).id == first.id

        everything = client.v1.transfers.list()
        assert [t.id for t in everything.data] == [third.id, second.id, first.id]  # newest first
        page = client.v1.transfers.list(params={"limit": 1})
        assert [t.id for t in page.data] == [third.id] and page.has_more
        after = client.v1.transfers.list(params={"limit": 2, "starting_after": third.id})
        assert [t.id for t in after.data] == [second.id, first.id] and not after.has_more
        grouped = client.v1.transfers.list(params={"transfer_group": "milestone-1"})
        assert {t.id for t in grouped.data} == {first.id, third.id}
        to_other = client.v1.transfers.list(params={"destination": other})
        assert [t.id for t in to_other.data] == [second.id]
        paged = list(client.v1.transfers.list(params={"limit": 1}).auto_paging_iter())
        assert len(paged) == 3
        counts = fake.counts()
        assert counts["transfers"] == 3
        assert counts["transfers_by_group"] == {"milestone-1": 2, "milestone-2": 1}
        assert counts["events_by_type"]["transfer.created"] == 3

    def test_reversals_credit_the_balance_back(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(1000, "eur")
        transfer = client.v1.transfers.create(params=transfer_params(destination))
        partial = client.v1.transfers.reversals.create(transfer.id, params={"amount": 300})
        assert (partial.amount, partial.transfer) == (300, transfer.id)
        assert available(client) == 300
        rest = client.v1.transfers.reversals.create(transfer.id)
        assert rest.amount == 700
        assert available(client) == 1000
        reversed_ = client.v1.transfers.retrieve(transfer.id)
        assert reversed_.reversed is True and reversed_.amount_reversed == 1000
        assert [r.id for r in client.v1.transfers.reversals.list(transfer.id).data] == [
            rest.id,
            partial.id,
        ]
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.transfers.reversals.create(transfer.id, params={"amount": 1})
        events = client.v1.events.list(params={"type": "transfer.reversed"}).data
        assert [e.data.object["amount_reversed"] for e in events] == [1000, 300]

    def test_refused_without_balance_or_onboarding(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        not_onboarded = payee(fake, client, onboard=False)
        fake.top_up(100, "eur")
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.transfers.create(params=transfer_params(not_onboarded, 50))
        assert error.value.code == "insufficient_capabilities_for_transfer"
        destination = payee(fake, client)
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.transfers.create(params=transfer_params(destination, 101))
        assert error.value.code == "balance_insufficient"
        assert error.value.http_status == 400
        assert error.value.json_body["error"]["type"] == "invalid_request_error"
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.transfers.create(params=transfer_params("acct_missing", 1))
        assert (error.value.code, error.value.param) == ("resource_missing", "destination")
        assert fake.counts()["transfers"] == 0 and available(client) == 100

    async def test_async_create_retrieve_list(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(1000, "eur")
        created = await client.v1.transfers.create_async(params=transfer_params(destination))
        fetched = await client.v1.transfers.retrieve_async(created.id)
        listed = await client.v1.transfers.list_async(params={"transfer_group": "milestone-1"})
        assert fetched.id == created.id and [t.id for t in listed.data] == [created.id]
        reversal = await client.v1.transfers.reversals.create_async(created.id)
        assert reversal.amount == 1000


# --- idempotency -----------------------------------------------------------------------


class TestIdempotency:
    def test_same_key_same_params_replays_without_a_second_transfer(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(5000, "eur")
        options: stripe.RequestOptions = {"idempotency_key": "payout-9"}
        first = client.v1.transfers.create(params=transfer_params(destination), options=options)
        second = client.v1.transfers.create(params=transfer_params(destination), options=options)
        assert second.id == first.id
        assert raw(second) == raw(first)
        assert second.last_response is not None
        assert second.last_response.headers["idempotent-replayed"] == "true"
        assert fake.counts()["transfers"] == 1 and available(client) == 4000

    def test_same_key_other_params_is_an_idempotency_error(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(5000, "eur")
        options: stripe.RequestOptions = {"idempotency_key": "payout-9"}
        client.v1.transfers.create(params=transfer_params(destination), options=options)
        with pytest.raises(stripe.IdempotencyError) as error:
            client.v1.transfers.create(params=transfer_params(destination, 999), options=options)
        assert error.value.http_status == 400
        assert error.value.json_body["error"]["type"] == "idempotency_error"
        with pytest.raises(stripe.IdempotencyError):
            client.v1.payment_intents.create(
                params={"amount": 1000, "currency": "eur"}, options=options
            )
        assert fake.counts()["transfers"] == 1

    def test_keys_are_scoped_per_api_key(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(5000, "eur")
        options: stripe.RequestOptions = {"idempotency_key": "shared-key"}
        first = client.v1.transfers.create(params=transfer_params(destination), options=options)
        other_key = fake.client("sk_test_another_platform_key")
        second = other_key.v1.transfers.create(params=transfer_params(destination), options=options)
        assert second.id != first.id

    def test_refused_parameters_are_not_stored(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(5000, "eur")
        options: stripe.RequestOptions = {"idempotency_key": "retry-after-fix"}
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.transfers.create(
                params={**transfer_params(destination), "colour": "red"}, options=options
            )
        assert (error.value.code, error.value.param) == ("parameter_unknown", "colour")
        created = client.v1.transfers.create(params=transfer_params(destination), options=options)
        assert created.amount == 1000


# --- faults ------------------------------------------------------------------------------


class TestFaults:
    def test_error_500_has_no_effect(self, fake: FakeStripe, client: stripe.StripeClient) -> None:
        destination = payee(fake, client)
        fake.top_up(5000, "eur")
        fake.inject("POST /v1/transfers", "error_500")
        with pytest.raises(stripe.APIError) as error:
            client.v1.transfers.create(params=transfer_params(destination))
        assert error.value.http_status == 500
        assert error.value.json_body["error"]["type"] == "api_error"
        assert fake.counts()["transfers"] == 0

    def test_error_500_after_commits_and_a_retry_with_the_key_returns_the_original(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(5000, "eur")
        fake.inject("POST /v1/transfers", "error_500_after")
        options: stripe.RequestOptions = {"idempotency_key": "payout-9-attempt"}
        with pytest.raises(stripe.APIError):
            client.v1.transfers.create(params=transfer_params(destination), options=options)
        assert fake.counts()["transfers"] == 1  # done, though the client saw a 500
        retried = client.v1.transfers.create(params=transfer_params(destination), options=options)
        assert client.v1.transfers.list().data[0].id == retried.id
        counts = fake.counts()
        assert counts["transfers"] == 1 and counts["transfers_by_group"] == {"milestone-1": 1}
        assert available(client) == 4000

    def test_the_sdk_own_retries_stay_exactly_once(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(5000, "eur")
        fake.faults.script("POST /v1/transfers", ["error_500_after", "drop"])
        retrying = fake.client(max_network_retries=3)
        transfer = retrying.v1.transfers.create(params=transfer_params(destination))
        assert fake.counts()["transfers"] == 1
        assert fake.counts()["calls"]["POST /v1/transfers"] == 3
        assert transfer.id == client.v1.transfers.list().data[0].id

    def test_drop_is_a_connection_error(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(5000, "eur")
        fake.inject("POST /v1/transfers", "drop")
        with pytest.raises(stripe.APIConnectionError):
            client.v1.transfers.create(params=transfer_params(destination))
        assert fake.counts()["transfers"] == 0
        fake.inject("POST /v1/transfers", Fault("drop", effect="before"))
        with pytest.raises(stripe.APIConnectionError):
            client.v1.transfers.create(params=transfer_params(destination))
        assert fake.counts()["transfers"] == 1

    async def test_timeout_then_retry_with_the_key(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(5000, "eur")
        impatient = fake.client(timeout=0.2)
        fake.inject("POST /v1/transfers", {"kind": "timeout", "seconds": 0.6})
        options: stripe.RequestOptions = {"idempotency_key": "slow-payout"}
        with pytest.raises(stripe.APIConnectionError):
            await impatient.v1.transfers.create_async(
                params=transfer_params(destination), options=options
            )
        # The first request still holds its key: Stripe answers 409 to a concurrent retry.
        with pytest.raises(stripe.APIError) as error:
            await client.v1.transfers.create_async(
                params=transfer_params(destination), options=options
            )
        assert error.value.http_status == 409
        deadline = time.monotonic() + 5
        while True:  # once the first request has finished, its result is replayed
            try:
                retried = await client.v1.transfers.create_async(
                    params=transfer_params(destination), options=options
                )
                break
            except stripe.APIError as busy:
                assert busy.http_status == 409 and time.monotonic() < deadline
                await asyncio.sleep(0.05)
        assert retried.last_response is not None
        assert retried.last_response.headers["idempotent-replayed"] == "true"
        assert fake.counts()["transfers"] == 1

    async def test_timeout_without_effect_and_delay(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(5000, "eur")
        impatient = fake.client(timeout=0.2)
        fake.inject("POST /v1/transfers", Fault("timeout", seconds=0.4, effect="none"))
        with pytest.raises(stripe.APIConnectionError):
            await impatient.v1.transfers.create_async(params=transfer_params(destination))
        fake.inject("GET /v1/balance", Fault("delay", seconds=0.3))
        started = time.monotonic()
        assert (await client.v1.balance.retrieve_async()).object == "balance"
        assert time.monotonic() - started >= 0.3
        await asyncio.sleep(0.3)
        assert fake.counts()["transfers"] == 0

    def test_scripts_patterns_and_seeded_probabilities(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        fake.faults.script("GET /v1/transfers/*", [None, "error_500"])
        fake.top_up(100, "eur")
        transfer = client.v1.transfers.create(params=transfer_params(payee(fake, client), 10))
        client.v1.transfers.retrieve(transfer.id)
        with pytest.raises(stripe.APIError):
            client.v1.transfers.retrieve(transfer.id)
        client.v1.transfers.retrieve(transfer.id)  # the script is used up

        def outcomes(seed: int) -> list[bool]:
            fake.faults.clear()
            fake.faults.reseed(seed)
            fake.inject("GET /v1/balance", "error_500", probability=0.5)
            results = []
            for _ in range(12):
                try:
                    client.v1.balance.retrieve()
                    results.append(True)
                except stripe.APIError:
                    results.append(False)
            return results

        first = outcomes(3)
        assert outcomes(3) == first
        assert True in first and False in first

    def test_faults_through_the_control_endpoint(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        rules = {"rules": [{"route": "GET /v1/balance", "fault": "error_500", "times": 2}]}
        assert httpx.post(f"{fake.url}/_fake/faults", json=rules).status_code == 200
        for _ in range(2):
            with pytest.raises(stripe.APIError):
                client.v1.balance.retrieve()
        client.v1.balance.retrieve()
        counts = httpx.get(f"{fake.url}/_fake/counts").json()
        assert counts["calls"]["GET /v1/balance"] == 3
        assert counts["faults_injected"] == {"GET /v1/balance error_500": 2}
        bad = httpx.post(f"{fake.url}/_fake/faults", json={"rules": [{"route": "x"}]})
        assert bad.status_code == 400


# --- payment intents, refunds, payouts ---------------------------------------------------


class TestPayments:
    def test_customer_pays_credits_the_balance(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        intent = client.v1.payment_intents.create(
            params={
                "amount": 250000,
                "currency": "eur",
                "description": "Escrow for challenge 12",
                "metadata": {"challenge_id": "12"},
                "payment_method_types": ["card", "sepa_debit"],
            }
        )
        assert intent.status == "requires_payment_method"
        assert intent.client_secret and intent.client_secret.startswith(intent.id)
        paid = httpx.post(f"{fake.url}/_fake/payment_intents/{intent.id}/pay")
        assert paid.json()["status"] == "succeeded"
        intent = client.v1.payment_intents.retrieve(intent.id)
        assert (intent.status, intent.amount_received) == ("succeeded", 250000)
        assert available(client) == 250000
        event = client.v1.events.list(params={"type": "payment_intent.succeeded"}).data[0]
        assert event.data.object["metadata"].to_dict() == {"challenge_id": "12"}

        refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 50000})
        assert (refund.status, refund.amount, refund.payment_intent) == (
            "succeeded",
            50000,
            intent.id,
        )
        assert available(client) == 200000
        types = [e.type for e in client.v1.events.list(params={"limit": 2}).data]
        assert types == ["charge.refunded", "refund.created"]
        charge = client.v1.charges.retrieve(str(intent.latest_charge))
        assert (charge.amount_refunded, charge.refunded) == (50000, False)
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 200001})
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.payment_intents.cancel(intent.id)

    def test_failed_payment_and_cancel(self, fake: FakeStripe, client: stripe.StripeClient) -> None:
        intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "eur"})
        fake.pay(intent.id, succeed=False)
        intent = client.v1.payment_intents.retrieve(intent.id)
        assert intent.status == "requires_payment_method"
        assert intent.last_payment_error and intent.last_payment_error.code == "card_declined"
        failed = client.v1.events.list(params={"type": "payment_intent.*"}).data
        assert [e.type for e in failed] == [
            "payment_intent.payment_failed",
            "payment_intent.created",
        ]
        canceled = client.v1.payment_intents.cancel(
            intent.id, params={"cancellation_reason": "abandoned"}
        )
        assert canceled.status == "canceled" and canceled.canceled_at
        assert available(client) == 0

    async def test_confirm_with_test_payment_methods_async(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        declined = await client.v1.payment_intents.create_async(
            params={"amount": 1000, "currency": "eur"}
        )
        with pytest.raises(stripe.CardError) as error:
            await client.v1.payment_intents.confirm_async(
                declined.id, params={"payment_method": "pm_card_chargeDeclined"}
            )
        assert error.value.code == "card_declined" and error.value.http_status == 402
        confirmed = await client.v1.payment_intents.confirm_async(
            declined.id, params={"payment_method": "pm_card_visa"}
        )
        assert confirmed.status == "succeeded"
        assert fake.counts()["payment_intents_by_status"] == {"succeeded": 1}

    def test_failed_payout_on_a_connected_account(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        account_id = payee(fake, client)
        response = httpx.post(
            f"{fake.url}/_fake/accounts/{account_id}/payouts/fail",
            json={"amount": 1000, "failure_code": "no_account"},
        )
        payout_id = response.json()["id"]
        event = client.v1.events.list(params={"type": "payout.failed"}).data[0]
        assert event.account == account_id
        assert event.data.object["failure_code"] == "no_account"
        payout = client.v1.payouts.retrieve(payout_id, options={"stripe_account": account_id})
        assert (payout.status, payout.currency) == ("failed", "eur")
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.payouts.retrieve(payout_id)  # not the platform's own payout
        balance = client.v1.balance.retrieve(options={"stripe_account": account_id})
        assert balance.available[0].currency == "eur"


# --- events, errors, protocol -------------------------------------------------------------


class TestProtocol:
    def test_events_newest_first_with_filters_and_pages(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(100, "eur")
        for _ in range(3):
            client.v1.transfers.create(params=transfer_params(destination, 10))
        events = client.v1.events.list()
        assert [e.type for e in events.data] == [
            "transfer.created",
            "transfer.created",
            "transfer.created",
            "account.updated",
        ]
        assert events.data[0].created >= events.data[-1].created
        pages = list(client.v1.events.list(params={"limit": 1}).auto_paging_iter())
        assert [e.id for e in pages] == [e.id for e in events.data]
        only = client.v1.events.list(params={"types": ["account.updated"]}).data
        assert [e.type for e in only] == ["account.updated"]
        fetched = client.v1.events.retrieve(events.data[0].id)
        assert fetched.request is not None and fetched.request.id
        assert fetched.request.idempotency_key  # the SDK sends one with every POST

    def test_errors_have_stripe_shape(self, fake: FakeStripe, client: stripe.StripeClient) -> None:
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.transfers.create(params={"amount": 10, "currency": "eur"})
        body = error.value.json_body["error"]
        assert body["type"] == "invalid_request_error"
        assert (body["code"], body["param"]) == ("parameter_missing", "destination")
        assert body["message"] == "Missing required param: destination."
        assert body["doc_url"].startswith("https://stripe.com/docs/error-codes/")
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.transfers.create(params={"amount": "ten", "currency": "eur"})
        assert error.value.code == "parameter_invalid_integer"
        no_key = httpx.get(f"{fake.url}/v1/balance")
        assert no_key.status_code == 401
        assert no_key.json()["error"]["type"] == "invalid_request_error"
        with pytest.raises(stripe.AuthenticationError):
            fake.client("sk_live_not_here").v1.balance.retrieve()
        unknown = httpx.get(f"{fake.url}/v1/nothing", headers={"Authorization": "Bearer sk_test_x"})
        assert unknown.status_code == 404
        assert unknown.json()["error"]["message"].startswith("Unrecognized request URL")
        with pytest.raises(stripe.PermissionError):
            client.v1.balance.retrieve(options={"stripe_account": "acct_unknown"})

    def test_stripe_version_is_accepted_and_echoed(self, fake: FakeStripe) -> None:
        pinned = fake.client(stripe_version="2024-06-20")
        balance = pinned.v1.balance.retrieve()
        assert balance.last_response is not None
        assert balance.last_response.headers["stripe-version"] == "2024-06-20"
        with pytest.raises(stripe.InvalidRequestError):
            fake.client(stripe_version="yesterday").v1.balance.retrieve()


class TestControl:
    def test_control_endpoints_change_what_the_sdk_sees(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        account_id = payee(fake, client, onboard=False)
        control = httpx.Client(base_url=f"{fake.url}/_fake")
        with control:
            done = control.post(f"/accounts/{account_id}/complete_onboarding")
            assert done.json()["payouts_enabled"] is True
            topped = control.post("/balance", json={"amount": 900, "currency": "eur"})
            assert topped.json()["available"][0]["amount"] == 900
            transfer = client.v1.transfers.create(params=transfer_params(account_id, 400))
            reversal = control.post(f"/transfers/{transfer.id}/reverse", json={"amount": 100})
            assert reversal.json()["object"] == "transfer_reversal"
            assert client.v1.transfers.retrieve(transfer.id).amount_reversed == 100
            assert control.get("/balance").json()["available"][0]["amount"] == 600
            settings = control.post("/webhooks", json={"duplicates": 3}).json()
            assert settings["duplicates"] == 3
            assert control.post("/webhooks", json={"colour": 1}).status_code == 400
            missing = control.post("/payment_intents/pi_nope/pay")
            assert missing.status_code == 404
            assert missing.json()["error"]["code"] == "resource_missing"
            assert control.post("/reset", json={"seed": 1}).json() == {"reset": True, "seed": 1}
        assert fake.counts()["transfers"] == 0
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.transfers.retrieve(transfer.id)

    def test_reset_keeps_ids_unique_unless_reseeded(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        first = payee(fake, client, onboard=False)
        fake.reset()
        assert payee(fake, client, onboard=False) != first
        fake.reset(seed=7)  # the seed of this module's fixture: the same stream again
        assert payee(fake, client, onboard=False) == first


# --- webhooks ----------------------------------------------------------------------------


class TestWebhooks:
    def test_signed_delivery_verified_by_the_sdk(
        self, fake: FakeStripe, client: stripe.StripeClient, webhooks: Receiver
    ) -> None:
        destination = payee(fake, client)
        fake.top_up(100, "eur")
        transfer = client.v1.transfers.create(params=transfer_params(destination, 10))
        assert fake.wait_for_webhooks(5)
        events = webhooks.events()
        assert [e.type for e in events] == ["account.updated", "transfer.created"]
        assert events[1].data.object["id"] == transfer.id
        _, headers = webhooks.requests[1]
        assert headers["content-type"].startswith("application/json")
        assert headers["user-agent"].startswith("Stripe/1.0")
        assert client.v1.events.retrieve(events[1].id).pending_webhooks == 0

    def test_retried_until_the_endpoint_answers(
        self, fake: FakeStripe, client: stripe.StripeClient, webhooks: Receiver
    ) -> None:
        webhooks.fail_next = 2
        payee(fake, client)
        assert fake.wait_for_webhooks(5)
        assert len(webhooks.requests) == 3
        assert [a.attempt for a in fake.webhooks.attempts] == [1, 2, 3]
        assert len({headers["stripe-signature"] for _, headers in webhooks.requests}) >= 1
        assert [e.type for e in webhooks.events()] == ["account.updated"] * 3

    def test_gives_up_after_max_attempts(
        self, fake: FakeStripe, client: stripe.StripeClient, webhooks: Receiver
    ) -> None:
        fake.webhooks.configure(max_attempts=2)
        webhooks.fail_next = 5
        payee(fake, client)
        assert fake.wait_for_webhooks(5)
        assert len(webhooks.requests) == 2 and len(fake.webhooks.failed) == 1
        event_id = fake.webhooks.failed[0]
        assert client.v1.events.retrieve(event_id).pending_webhooks == 1

    async def test_duplicates_and_shuffled_order(
        self, fake: FakeStripe, client: stripe.StripeClient, webhooks: Receiver
    ) -> None:
        fake.webhooks.configure(auto_deliver=False, duplicates=2, shuffle=True)
        destination = payee(fake, client)
        fake.top_up(100, "eur")
        created = [
            (await client.v1.transfers.create_async(params=transfer_params(destination, 1))).id
            for _ in range(5)
        ]
        assert webhooks.requests == []  # held until flushed
        async with httpx.AsyncClient() as http:
            flushed = await http.post(f"{fake.url}/_fake/webhooks/flush", json={"wait": True})
        assert flushed.json()["idle"] is True
        events = webhooks.events()
        assert len(events) == 12
        transfer_ids = [e.data.object["id"] for e in events if e.type == "transfer.created"]
        assert sorted(transfer_ids) == sorted(created * 2)
        firsts = list(dict.fromkeys(transfer_ids))
        assert firsts != created  # seeded shuffle: not the order they happened in

    def test_signed_deliveries_handed_out_and_forged_signatures(
        self, fake: FakeStripe, client: stripe.StripeClient
    ) -> None:
        fake.webhooks.configure(auto_deliver=False, secret=SECRET)
        payee(fake, client)
        [delivery] = fake.webhooks.take_signed()
        event = stripe.Webhook.construct_event(
            delivery.payload, delivery.headers["Stripe-Signature"], SECRET
        )
        assert event.type == delivery.event_type == "account.updated"
        now = int(time.time())
        # (The SDK accepts timestamps from the future; an app that refuses them checks `t`
        # itself, and sign(payload, secret, now + 600) forges one for its test.)
        for header in (
            sign(delivery.payload, SECRET, now - 600),  # stale
            sign(delivery.payload, "whsec_wrong", now),
            sign(delivery.payload + b" ", SECRET, now),
        ):
            with pytest.raises(stripe.SignatureVerificationError):
                stripe.Webhook.construct_event(delivery.payload, header, SECRET)
        assert sign(b"{}", SECRET, 1700000000) == stripe.WebhookSignature.generate_signature_header(
            "{}", SECRET, 1700000000
        )


# --- object shapes ----------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string"


def _sdk_field(cls: type | None, name: str) -> tuple[bool, type | None]:
    """Whether the SDK declares the field nullable, and the class of its nested object."""
    annotation = None
    for klass in getattr(cls, "__mro__", ()):
        annotation = inspect.get_annotations(klass).get(name)
        if annotation is not None:
            break
    if annotation is None:
        return False, None
    nullable, nested = False, None
    pending = [annotation]
    while pending:
        current = pending.pop()
        if current is type(None):
            nullable = True
        elif isinstance(current, type) and issubclass(current, stripe.StripeObject):
            nested = nested or current
        pending.extend(typing.get_args(current))
    return nullable, nested


MAP_FIELDS = {"metadata", "capabilities", "previous_attributes"}


def shape_problems(actual: Any, example: Any, cls: type | None, path: str) -> list[str]:
    problems: list[str] = []
    for key, expected in example.items():
        where = f"{path}.{key}"
        if key not in actual:
            problems.append(f"{where} missing")
            continue
        value = actual[key]
        nullable, nested = _sdk_field(cls, key)
        if value is None:
            if expected is not None and not nullable:
                problems.append(f"{where} is null, example has {_json_type(expected)}")
            continue
        if expected is None:
            continue
        if _json_type(value) != _json_type(expected):
            problems.append(f"{where} is {_json_type(value)}, example {_json_type(expected)}")
        elif isinstance(expected, dict) and key not in MAP_FIELDS:
            if path == "event.data" and key == "object":
                continue  # the event's object is checked against its own resource
            problems += shape_problems(value, expected, nested, where)
        elif isinstance(expected, list) and expected and value:
            for i, item in enumerate(value):
                if isinstance(expected[0], dict):
                    problems += shape_problems(item, expected[0], nested, f"{where}[{i}]")
                elif _json_type(item) != _json_type(expected[0]):
                    problems.append(f"{where}[{i}] is {_json_type(item)}")
    return problems


def examples_to_check() -> list[tuple[str, dict[str, dict[str, Any]]]]:
    found = [("copied examples.json", copied_examples())]
    if SHARED_FIXTURES.exists():
        found.append(
            ("shared fixtures3.json", json.loads(SHARED_FIXTURES.read_text())["resources"])
        )
    return found


def every_kind_of_object(fake: FakeStripe, client: stripe.StripeClient) -> list[dict[str, Any]]:
    """One of each object the fake returns, in its states, as sent over HTTP."""
    objects: list[dict[str, Any]] = []
    account = client.v1.accounts.create(
        params={
            "type": "express",
            "country": "FR",
            "capabilities": {"transfers": {"requested": True}},
        }
    )
    objects.append(raw(account))
    objects.append(
        raw(
            client.v1.account_links.create(
                params={
                    "account": account.id,
                    "refresh_url": "http://app.test/r",
                    "return_url": "http://app.test/b",
                    "type": "account_onboarding",
                }
            )
        )
    )
    fake.complete_onboarding(account.id)
    objects.append(raw(client.v1.accounts.retrieve(account.id)))
    objects.append(raw(client.v1.accounts.retrieve_current()))
    intent = client.v1.payment_intents.create(params={"amount": 5000, "currency": "eur"})
    objects.append(raw(intent))
    fake.pay(intent.id)
    intent = client.v1.payment_intents.retrieve(intent.id)
    objects.append(raw(intent))
    failing = client.v1.payment_intents.create(params={"amount": 5000, "currency": "eur"})
    fake.pay(failing.id, succeed=False)
    objects.append(raw(client.v1.payment_intents.cancel(failing.id)))
    objects.append(raw(client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1})))
    objects.append(raw(client.v1.charges.retrieve(str(intent.latest_charge))))
    transfer = client.v1.transfers.create(params=transfer_params(account.id, 100))
    objects.append(raw(transfer))
    objects.append(raw(client.v1.transfers.reversals.create(transfer.id, params={"amount": 10})))
    objects.append(raw(client.v1.transfers.retrieve(transfer.id)))
    objects.append(raw(client.v1.balance.retrieve()))
    payout = fake.fail_payout(account.id, 50)
    objects.append(
        raw(client.v1.payouts.retrieve(payout["id"], options={"stripe_account": account.id}))
    )
    for event in client.v1.events.list(params={"limit": 100}).data:
        objects.append(raw(client.v1.events.retrieve(event.id)))
    return objects


class TestShapes:
    @pytest.mark.parametrize("source", ["copied examples.json", "shared fixtures3.json"])
    def test_every_object_has_the_fields_and_types_of_stripe_example(
        self, fake: FakeStripe, client: stripe.StripeClient, source: str
    ) -> None:
        examples = dict(examples_to_check())
        if source not in examples:
            pytest.skip(
                f"{SHARED_FIXTURES} is absent (the shared folder is not beside the checkout)"
            )
        problems: list[str] = []
        seen: set[str] = set()
        for obj in every_kind_of_object(fake, client):
            kind = obj["object"]
            seen.add(kind)
            problems += shape_problems(obj, examples[source][kind], RESOURCE_CLASSES[kind], kind)
            if kind == "event":
                inner = obj["data"]["object"]
                seen.add(inner["object"])
                problems += shape_problems(
                    inner,
                    examples[source][inner["object"]],
                    RESOURCE_CLASSES[inner["object"]],
                    f"event({obj['type']}).data.object",
                )
        assert seen == set(RESOURCE_CLASSES)
        assert problems == []

    def test_copied_examples_are_stripe_unchanged(self) -> None:
        if not SHARED_FIXTURES.exists():
            pytest.skip(
                f"{SHARED_FIXTURES} is absent (the shared folder is not beside the checkout)"
            )
        shared = json.loads(SHARED_FIXTURES.read_text())["resources"]
        for name, example in copied_examples().items():
            assert example == shared[name], name


# --- the command line ---------------------------------------------------------------------


def test_command_line_serves_until_stopped() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service",
            "fake-stripe",
            "--port",
            str(port),
            "--balance",
            "700",
            "--currency",
            "eur",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"{url}/_fake/counts")
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        http_client = stripe.HTTPXClient(allow_sync_methods=True)
        sdk = stripe.StripeClient(
            "sk_test_cli",
            base_addresses={"api": url, "connect": url},
            http_client=http_client,
            max_network_retries=0,
        )
        assert sdk.v1.balance.retrieve().available[0].amount == 700
        http_client.close()
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    # uvicorn shuts down cleanly, then re-raises the signal it caught, as a process should.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert f"Fake Stripe on http://127.0.0.1:{port}" in output
