"""The payment gateway: the rail chosen by the settings, the manual rail refusing what only
Stripe can do, and Stripe's webhooks refused unless they are signed events."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from service.config import Settings
from service.integrations.fake_stripe import sign
from service.rewards.gateway import (
    InvalidSignature,
    ManualGateway,
    PermanentGatewayError,
    StripeGateway,
    gateway_for,
)
from service.rewards.models import Rail, WebhookEvent
from tests.rewards import test_stripe_rail as stripe_rail

# The fake Stripe server, the app pointed at it (a fixture of the Stripe rail's tests).
fake = stripe_rail.fake


class TestRailChoice:
    async def test_stripe_when_its_key_is_set_else_bank_transfers(self, settings: Settings) -> None:
        assert isinstance(gateway_for(settings.with_overrides(stripe_secret_key="")), ManualGateway)
        configured = settings.with_overrides(
            stripe_secret_key="sk_test_rail", stripe_timeout_seconds=7.5
        )
        gateway = gateway_for(configured)
        try:
            assert isinstance(gateway, StripeGateway)
            assert gateway.rail is Rail.stripe
            assert gateway.http._timeout == 7.5
        finally:
            await gateway.aclose()


# Every call of the interface that needs Stripe, with arguments as the rewards area passes them.
STRIPE_ONLY: dict[str, Callable[[ManualGateway], Awaitable[Any]]] = {
    "create_payment_intent": lambda g: g.create_payment_intent(
        1000, "EUR", idempotency_key="funding-1", metadata={}
    ),
    "retrieve_payment_intent": lambda g: g.retrieve_payment_intent("pi_1"),
    "create_account": lambda g: g.create_account(
        email="a@example.org", country="ES", idempotency_key="payout-account-1", metadata={}
    ),
    "retrieve_account": lambda g: g.retrieve_account("acct_1"),
    "account_link": lambda g: g.account_link("acct_1", refresh_url="/r", return_url="/b"),
    "create_transfer": lambda g: g.create_transfer(
        1000,
        "EUR",
        destination="acct_1",
        idempotency_key="payout-1-1-1",
        transfer_group="payout-1-1-1",
        metadata={},
    ),
    "find_transfer": lambda g: g.find_transfer("payout-1-1-1"),
    "retrieve_transfer": lambda g: g.retrieve_transfer("tr_1"),
    "refund": lambda g: g.refund("pi_1", 1000, idempotency_key="refund-1"),
}


class TestManualRail:
    @pytest.mark.parametrize("call", STRIPE_ONLY.values(), ids=STRIPE_ONLY.keys())
    async def test_refuses_what_only_stripe_can_do_for_good(
        self, call: Callable[[ManualGateway], Awaitable[Any]]
    ) -> None:
        gateway = ManualGateway()
        with pytest.raises(PermanentGatewayError) as refused:
            await call(gateway)
        # Permanent: a job meeting it fails its payout or refund instead of retrying forever.
        assert refused.value.code == "no_stripe" and not refused.value.transient
        assert str(refused.value) == "Stripe is not configured on this platform."

    async def test_takes_no_webhook_and_has_nothing_to_close(self) -> None:
        gateway = ManualGateway()
        with pytest.raises(InvalidSignature):
            gateway.verify_event(b'{"id": "evt_1", "type": "account.updated"}', "t=1,v1=00")
        assert await gateway.aclose() is None

    async def test_a_webhook_is_refused_without_stripe(self, client: httpx.AsyncClient) -> None:
        payload = json.dumps({"id": "evt_1", "type": "account.updated"}).encode()
        response = await client.post(
            "/api/v1/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": sign(payload, "whsec_any", int(time.time()))},
        )
        assert response.status_code == 400
        assert response.json()["detail"] == (
            "Invalid signature: Stripe webhooks are not configured."
        )
        assert not await WebhookEvent.exists()


class TestSignedButNotAnEvent:
    @pytest.mark.parametrize(
        ("payload", "reason"),
        [
            (b"not json {", "Payload is not JSON"),
            (b'["evt_1", "account.updated"]', "Payload is not an event"),
            (b'{"id": "evt_1", "data": {}}', "Payload is not an event"),
            (b'{"type": "account.updated"}', "Payload is not an event"),
        ],
        ids=["not-json", "a-list", "no-type", "no-id"],
    )
    async def test_refused_and_nothing_stored(
        self, client: httpx.AsyncClient, fake: object, payload: bytes, reason: str
    ) -> None:
        """Signed with the right secret, in time: still nothing Stripe would send."""
        response = await client.post(
            "/api/v1/webhooks/stripe",
            content=payload,
            headers={
                "Stripe-Signature": sign(payload, stripe_rail.SECRET, int(time.time())),
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 400, response.text
        assert response.json()["detail"] == f"Invalid signature: {reason}"
        assert not await WebhookEvent.exists()
