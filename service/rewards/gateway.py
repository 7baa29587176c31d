"""The payment rails behind one interface: Stripe (Connect for payouts) and manual bank transfer.

The rest of the rewards area speaks to `PaymentGateway` only. The Stripe rail uses the
official SDK's async calls; the manual rail moves no money by itself (a `finance` member sends
the bank transfer and records its reference), so its calls that would need Stripe refuse.

Owns the calls to Stripe (payment intents, connected accounts and their onboarding links,
transfers, refunds) and the check of a webhook's signature, and turns Stripe's errors into
transient or permanent `GatewayError`s. It must never touch the database, never decide an
amount or a state (callers do, under their locks), and never retry by itself: its callers
retry (the jobs with the same idempotency key, a person by pressing again).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

import stripe

from service.config import Settings
from service.rewards.models import Rail


class GatewayError(Exception):
    """A call to the payment provider failed."""

    transient = False

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class TransientGatewayError(GatewayError):
    """Worth retrying with the same idempotency key: network, timeout, 5xx, rate limit."""

    transient = True


class PermanentGatewayError(GatewayError):
    """Retrying will not help: a refused request, a disabled account, a bad key."""


class InvalidSignature(Exception):
    pass


@dataclass(frozen=True)
class Intent:
    id: str
    status: str
    amount_minor: int
    currency: str
    client_secret: str = ""
    failure_reason: str = ""


@dataclass(frozen=True)
class ConnectedAccount:
    id: str
    payouts_enabled: bool
    details_submitted: bool


@dataclass(frozen=True)
class Transfer:
    id: str
    amount_minor: int
    currency: str
    destination: str
    amount_reversed_minor: int
    transfer_group: str


class PaymentGateway(Protocol):
    rail: Rail

    async def create_payment_intent(
        self, amount_minor: int, currency: str, *, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent: ...

    async def retrieve_payment_intent(self, intent_id: str) -> Intent: ...

    async def create_account(
        self, *, email: str, country: str, idempotency_key: str, metadata: dict[str, str]
    ) -> ConnectedAccount: ...

    async def retrieve_account(self, account_id: str) -> ConnectedAccount: ...

    async def account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str: ...

    async def create_transfer(
        self,
        amount_minor: int,
        currency: str,
        *,
        destination: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: dict[str, str],
    ) -> Transfer: ...

    async def find_transfer(self, transfer_group: str) -> Transfer | None: ...

    async def retrieve_transfer(self, transfer_id: str) -> Transfer: ...

    async def refund(self, intent_id: str, amount_minor: int, *, idempotency_key: str) -> str: ...

    def verify_event(self, payload: bytes, signature: str) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


class ManualGateway:
    """Bank transfers recorded by people: nothing here talks to a provider."""

    rail = Rail.bank_transfer

    # Permanent, not transient: retrying cannot make Stripe appear, so a job fails at once.
    def _unavailable(self) -> PermanentGatewayError:
        return PermanentGatewayError("Stripe is not configured on this platform.", code="no_stripe")

    async def create_payment_intent(self, *args: Any, **kwargs: Any) -> Intent:
        raise self._unavailable()

    async def retrieve_payment_intent(self, intent_id: str) -> Intent:
        raise self._unavailable()

    async def create_account(self, **kwargs: Any) -> ConnectedAccount:
        raise self._unavailable()

    async def retrieve_account(self, account_id: str) -> ConnectedAccount:
        raise self._unavailable()

    async def account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        raise self._unavailable()

    async def create_transfer(self, *args: Any, **kwargs: Any) -> Transfer:
        raise self._unavailable()

    async def find_transfer(self, transfer_group: str) -> Transfer | None:
        raise self._unavailable()

    async def retrieve_transfer(self, transfer_id: str) -> Transfer:
        raise self._unavailable()

    async def refund(self, intent_id: str, amount_minor: int, *, idempotency_key: str) -> str:
        raise self._unavailable()

    def verify_event(self, payload: bytes, signature: str) -> dict[str, Any]:
        raise InvalidSignature("Stripe webhooks are not configured.")

    async def aclose(self) -> None:
        return None


# Errors worth a retry: the request may not have reached Stripe, or Stripe failed on its side.
_TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


class StripeGateway:
    """Stripe through the official SDK, async, without the SDK's own retries (the jobs retry)."""

    rail = Rail.stripe

    def __init__(self, settings: Settings, *, timeout: float = 20.0) -> None:
        base = settings.stripe_api_base.rstrip("/")
        addresses: Any = {"api": base, "connect": base, "files": base} if base else None
        self.http = stripe.HTTPXClient(timeout=timeout)
        # No SDK retries: a job that retries knows the payout's state, the SDK does not.
        self.client = stripe.StripeClient(
            settings.stripe_secret_key,
            base_addresses=addresses,
            http_client=self.http,
            max_network_retries=0,
        )
        self.webhook_secret = settings.stripe_webhook_secret
        self.tolerance = settings.stripe_webhook_tolerance

    async def aclose(self) -> None:
        await self.http.close_async()

    async def _call(self, coro: Any) -> Any:
        try:
            return await coro
        except _TRANSIENT as exc:
            raise TransientGatewayError(str(exc.user_message or exc), code=exc.code or "") from exc
        except stripe.StripeError as exc:
            raise PermanentGatewayError(str(exc.user_message or exc), code=exc.code or "") from exc

    async def create_payment_intent(
        self, amount_minor: int, currency: str, *, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent:
        obj = await self._call(
            self.client.v1.payment_intents.create_async(
                params={
                    "amount": amount_minor,
                    "currency": currency.lower(),
                    "metadata": metadata,
                    "automatic_payment_methods": {"enabled": True},
                },
                # "funding-<id>": asked again for the same funding, Stripe returns the first
                # intent instead of opening a second payment.
                options={"idempotency_key": idempotency_key},
            )
        )
        return _intent(obj)

    async def retrieve_payment_intent(self, intent_id: str) -> Intent:
        return _intent(await self._call(self.client.v1.payment_intents.retrieve_async(intent_id)))

    async def create_account(
        self, *, email: str, country: str, idempotency_key: str, metadata: dict[str, str]
    ) -> ConnectedAccount:
        obj = await self._call(
            self.client.v1.accounts.create_async(
                params={
                    "type": "express",
                    "country": country,
                    "email": email,
                    "capabilities": {"transfers": {"requested": True}},
                    "metadata": metadata,
                },
                # "payout-account-<organization id>": two clicks get the same connected account.
                options={"idempotency_key": idempotency_key},
            )
        )
        return _account(obj)

    async def retrieve_account(self, account_id: str) -> ConnectedAccount:
        return _account(await self._call(self.client.v1.accounts.retrieve_async(account_id)))

    async def account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        # No key: each link is new and short-lived, and asking twice moves no money.
        obj = await self._call(
            self.client.v1.account_links.create_async(
                params={
                    "account": account_id,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                }
            )
        )
        return str(obj.url)

    async def create_transfer(
        self,
        amount_minor: int,
        currency: str,
        *,
        destination: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: dict[str, str],
    ) -> Transfer:
        obj = await self._call(
            self.client.v1.transfers.create_async(
                params={
                    "amount": amount_minor,
                    "currency": currency.lower(),
                    "destination": destination,
                    "transfer_group": transfer_group,
                    "metadata": metadata,
                },
                # The payout's own key, unique per payout and round: a repeat returns the first
                # transfer, so a retried job cannot pay twice.
                options={"idempotency_key": idempotency_key},
            )
        )
        return _transfer(obj)

    async def find_transfer(self, transfer_group: str) -> Transfer | None:
        # A payout's group only ever holds its one transfer, so the first found is the one.
        page = await self._call(
            self.client.v1.transfers.list_async(
                params={"transfer_group": transfer_group, "limit": 1}
            )
        )
        return _transfer(page.data[0]) if page.data else None

    async def retrieve_transfer(self, transfer_id: str) -> Transfer:
        return _transfer(await self._call(self.client.v1.transfers.retrieve_async(transfer_id)))

    async def refund(self, intent_id: str, amount_minor: int, *, idempotency_key: str) -> str:
        obj = await self._call(
            self.client.v1.refunds.create_async(
                params={"payment_intent": intent_id, "amount": amount_minor},
                # "refund-<refund id>": a repeat returns the first refund, never a second one.
                options={"idempotency_key": idempotency_key},
            )
        )
        return str(obj.id)

    def verify_event(self, payload: bytes, signature: str) -> dict[str, Any]:
        """The event, if Stripe signed it within the tolerance window (either side of now)."""
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature, self.webhook_secret, tolerance=self.tolerance
            )
            timestamp, _ = stripe.WebhookSignature._get_timestamp_and_signatures(
                signature, stripe.WebhookSignature.EXPECTED_SCHEME
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise InvalidSignature(str(exc)) from None
        # The SDK refuses only old timestamps; one too far in the future is refused here.
        if timestamp > time.time() + self.tolerance:
            raise InvalidSignature("Timestamp is in the future")
        try:
            event: dict[str, Any] = json.loads(payload)
        except ValueError:
            raise InvalidSignature("Payload is not JSON") from None
        if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
            raise InvalidSignature("Payload is not an event")
        return event


# The SDK's objects are read as plain dicts: fields Stripe leaves out are then just absent.


def _intent(obj: Any) -> Intent:
    data = obj.to_dict()
    error = data.get("last_payment_error") or {}
    return Intent(
        id=data["id"],
        status=data["status"],
        amount_minor=int(data["amount"]),
        currency=str(data["currency"]).upper(),
        client_secret=data.get("client_secret") or "",
        failure_reason=(error.get("message") or "") if isinstance(error, dict) else "",
    )


def _account(obj: Any) -> ConnectedAccount:
    data = obj.to_dict()
    return ConnectedAccount(
        id=data["id"],
        payouts_enabled=bool(data.get("payouts_enabled")),
        details_submitted=bool(data.get("details_submitted")),
    )


def _transfer(obj: Any) -> Transfer:
    data = obj.to_dict()
    return Transfer(
        id=data["id"],
        amount_minor=int(data["amount"]),
        currency=str(data["currency"]).upper(),
        destination=str(data.get("destination") or ""),
        amount_reversed_minor=int(data.get("amount_reversed") or 0),
        transfer_group=str(data.get("transfer_group") or ""),
    )


def gateway_for(settings: Settings) -> PaymentGateway:
    """Stripe when its keys are configured; the manual bank-transfer rail otherwise."""
    if settings.stripe_enabled:
        return StripeGateway(settings, timeout=settings.stripe_timeout_seconds)
    return ManualGateway()
