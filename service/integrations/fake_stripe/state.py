"""The fake's in-memory Stripe: objects, balances, events and stored idempotent results.

Every operation takes the state's lock, so the HTTP server (its own thread) and a test driving
the Python API (another thread) see one consistent Stripe. Objects are kept as the JSON dicts
Stripe would send, each started from a deep copy of Stripe's example of its resource; callers
get deep copies, never the stored dicts.
"""

from __future__ import annotations

import copy
import fnmatch
import random
import string
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.integrations.fake_stripe.examples import example
from service.integrations.fake_stripe.params import StripeError, invalid, missing

Obj = dict[str, Any]

PLATFORM = ""  # balance owner of the platform itself; connected accounts use their id
# The API version events carry when the request that caused them named none (stripe 16.1.0).
DEFAULT_API_VERSION = "2026-10-28.endive"
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
# Test payment methods Stripe declines (https://docs.stripe.com/testing#declined-payments).
DECLINING_PAYMENT_METHODS = frozenset(
    {"pm_card_chargeDeclined", "pm_card_visa_chargeDeclined", "pm_card_chargeDeclinedFraudulent"}
)
PAYOUT_FAILURES = {
    "account_closed": "The bank account has been closed.",
    "account_frozen": "The bank account has been frozen.",
    "bank_account_restricted": "The bank account has restrictions on either the type or number "
    "of payouts allowed.",
    "could_not_process": "The bank could not process this payout.",
    "insufficient_funds": "Your Stripe account has insufficient funds to cover the payout.",
    "invalid_account_number": "The routing number seems correct, but the account number is "
    "invalid.",
    "no_account": "The bank account details on file are probably incorrect. No bank account "
    "could be located with those details.",
}
_COUNTRY_CURRENCY = {
    "US": "usd", "GB": "gbp", "CA": "cad", "AU": "aud", "NZ": "nzd", "JP": "jpy", "CH": "chf",
    "BR": "brl", "MX": "mxn", "SE": "sek", "NO": "nok", "DK": "dkk", "PL": "pln", "SG": "sgd",
    "IN": "inr", "HK": "hkd",
}  # fmt: skip
_EURO = frozenset("AT BE CY DE EE ES FI FR GR HR IE IT LT LU LV MT NL PT SI SK".split())
_PAYABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class RequestInfo:
    """What an event records of the API request that caused it (`event.request`)."""

    id: str | None = None
    idempotency_key: str | None = None
    api_version: str | None = None


@dataclass
class StoredResult:
    """An idempotency key's first request and, once it finished, its answer."""

    method: str
    path: str
    params: dict[str, Any]
    request_id: str
    created: float
    status: int | None = None  # None while the first request is still running
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class OnboardingLink:
    token: str
    account: str
    refresh_url: str
    return_url: str
    type: str
    expires_at: int
    used: bool = False


EventListener = Callable[[Obj], int]


class StripeState:
    def __init__(
        self,
        *,
        seed: int = 0,
        default_currency: str = "usd",
        api_version: str = DEFAULT_API_VERSION,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lock = threading.RLock()
        self.default_currency = default_currency
        self.api_version = api_version
        self.clock = clock
        self.seed = seed
        self._rng = random.Random(seed)
        # Listeners outlive reset(): the webhook dispatcher stays subscribed.
        self._listeners: list[EventListener] = []
        self.reset()

    # --- bookkeeping ------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> None:
        """Forget every object, balance, event, idempotent result and call count.

        Ids keep coming from the same seeded stream, so they stay unique across resets in one
        run (and repeat from run to run); a `seed` restarts the stream."""
        with self.lock:
            if seed is not None:
                self.seed = seed
                self._rng = random.Random(seed)
            self.accounts: dict[str, Obj] = {}
            self.links: dict[str, OnboardingLink] = {}
            self.transfers: dict[str, Obj] = {}
            self.reversals: dict[str, Obj] = {}
            self.payment_intents: dict[str, Obj] = {}
            self.charges: dict[str, Obj] = {}
            self.refunds: dict[str, Obj] = {}
            self.payouts: dict[str, Obj] = {}
            self.payout_owner: dict[str, str] = {}
            self.events: dict[str, Obj] = {}
            self.balances: dict[str, dict[str, dict[str, int]]] = {}
            self.idempotency: dict[tuple[str, str, str], StoredResult] = {}
            self.calls: Counter[str] = Counter()
            self.platform_account = self._platform_account()

    def subscribe(self, listener: EventListener) -> None:
        """`listener(event)` runs for every new event and returns how many webhook endpoints
        will receive it (the event's `pending_webhooks`)."""
        with self.lock:
            self._listeners.append(listener)

    def now(self) -> int:
        return int(self.clock())

    def new_id(self, prefix: str, length: int = 24) -> str:
        with self.lock:
            return f"{prefix}_" + "".join(self._rng.choice(_ALPHABET) for _ in range(length))

    def record_call(self, route: str) -> None:
        with self.lock:
            self.calls[route] += 1

    def _emit(
        self,
        type_: str,
        obj: Obj,
        *,
        req: RequestInfo | None,
        previous: Obj | None = None,
        account: str | None = None,
    ) -> Obj:
        event = example("event")
        data: Obj = {"object": copy.deepcopy(obj)}
        if previous:
            data["previous_attributes"] = copy.deepcopy(previous)
        event.update(
            id=self.new_id("evt"),
            api_version=(req.api_version if req else None) or self.api_version,
            created=self.now(),
            data=data,
            livemode=False,
            pending_webhooks=0,
            request={
                "id": req.id if req else None,
                "idempotency_key": req.idempotency_key if req else None,
            },
            type=type_,
        )
        if account:  # events of connected accounts name them (Connect webhooks)
            event["account"] = account
        self.events[event["id"]] = event
        event["pending_webhooks"] = sum(
            listener(copy.deepcopy(event)) for listener in self._listeners
        )
        return event

    def webhook_delivered(self, event_id: str) -> None:
        with self.lock:
            event = self.events.get(event_id)
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1

    def event(self, event_id: str) -> Obj:
        with self.lock:
            return copy.deepcopy(self._get(self.events, event_id, "event"))

    # --- balances -----------------------------------------------------------------------

    def _funds(self, owner: str, currency: str) -> dict[str, int]:
        return self.balances.setdefault(owner, {}).setdefault(
            currency, {"available": 0, "pending": 0}
        )

    def top_up(self, amount: int, currency: str | None = None, *, owner: str = PLATFORM) -> Obj:
        """Add to an available balance (the platform's unless `owner` is an account id)."""
        with self.lock:
            self._funds(owner, (currency or self.default_currency).lower())["available"] += amount
            return self.balance(owner)

    def balance(self, owner: str = PLATFORM) -> Obj:
        with self.lock:
            obj = example("balance")
            funds = self.balances.get(owner, {})
            currencies = sorted(funds) or [self._account_currency(owner)]
            entry = {c: funds.get(c, {"available": 0, "pending": 0}) for c in currencies}
            templates = {k: obj[k][0] for k in ("available", "pending", "connect_reserved")}
            for kind in ("available", "pending"):
                obj[kind] = [
                    {
                        **copy.deepcopy(templates[kind]),
                        "amount": amounts[kind],
                        "currency": currency,
                        "source_types": {"card": amounts[kind]},
                    }
                    for currency, amounts in entry.items()
                ]
            obj["connect_reserved"] = [
                {**copy.deepcopy(templates["connect_reserved"]), "amount": 0, "currency": c}
                for c in currencies
            ]
            return obj

    def _account_currency(self, owner: str) -> str:
        account = self.accounts.get(owner)
        return str(account["default_currency"]) if account else self.default_currency

    # --- accounts -----------------------------------------------------------------------

    def _platform_account(self) -> Obj:
        account = example("account")
        account_id = self.new_id("acct", 16)
        account.update(
            id=account_id,
            created=self.now(),
            email=None,
            type="standard",
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            default_currency=self.default_currency,
        )
        account["external_accounts"]["url"] = f"/v1/accounts/{account_id}/external_accounts"
        self._clear_requirements(account)
        return account

    def create_account(
        self,
        *,
        type: str,
        country: str | None = None,
        email: str | None = None,
        capabilities: Mapping[str, bool] | None = None,
        metadata: Mapping[str, str] | None = None,
        business_type: str | None = None,
        business_profile: Mapping[str, Any] | None = None,
        default_currency: str | None = None,
        req: RequestInfo | None = None,
    ) -> Obj:
        with self.lock:
            account = example("account")
            account_id = self.new_id("acct", 16)
            country = (country or "US").upper()
            account.update(
                id=account_id,
                created=self.now(),
                type=type,
                country=country,
                email=email,
                metadata=dict(metadata or {}),
                business_type=business_type,
                default_currency=default_currency or _currency_of(country, self.default_currency),
                charges_enabled=False,
                payouts_enabled=False,
                details_submitted=False,
                capabilities={
                    name: "inactive"
                    for name, requested in (capabilities or {}).items()
                    if requested
                },
            )
            account["business_profile"].update(business_profile or {})
            account["external_accounts"]["url"] = f"/v1/accounts/{account_id}/external_accounts"
            if type == "express":
                account["controller"] = {
                    "type": "application",
                    "is_controller": True,
                    "fees": {"payer": "application_express"},
                    "losses": {"payments": "application"},
                    "requirement_collection": "stripe",
                    "stripe_dashboard": {"type": "express"},
                }
            self.accounts[account_id] = account
            # Stripe sends no event when an account is created (there is no account.created).
            return copy.deepcopy(account)

    def get_account(self, account_id: str) -> Obj:
        with self.lock:
            if account_id == self.platform_account["id"]:
                return copy.deepcopy(self.platform_account)
            return copy.deepcopy(self._get(self.accounts, account_id, "account"))

    def list_accounts(self, **page: Any) -> Obj:
        with self.lock:
            return _page(list(self.accounts.values()), url="/v1/accounts", kind="account", **page)

    def update_account(
        self,
        account_id: str,
        *,
        changes: Mapping[str, Any],
        req: RequestInfo | None = None,
    ) -> Obj:
        with self.lock:
            account = self._get(self.accounts, account_id, "account")
            previous: Obj = {}
            for key, value in changes.items():
                if key == "business_profile":
                    before = {k: account[key].get(k) for k in value}
                    if before != value:
                        previous[key] = before
                        account[key].update(value)
                elif account.get(key) != value:
                    previous[key] = copy.deepcopy(account.get(key))
                    account[key] = value
            if previous:
                self._emit(
                    "account.updated", account, req=req, previous=previous, account=account_id
                )
            return copy.deepcopy(account)

    def complete_onboarding(self, account_id: str, *, req: RequestInfo | None = None) -> Obj:
        """What the account holder finishing Connect onboarding does: details submitted,
        requested capabilities active, charges and payouts enabled, `account.updated`."""
        with self.lock:
            account = self._get(self.accounts, account_id, "account")
            if account["details_submitted"] and account["payouts_enabled"]:
                return copy.deepcopy(account)
            previous = {
                key: copy.deepcopy(account[key])
                for key in (
                    "capabilities",
                    "charges_enabled",
                    "details_submitted",
                    "payouts_enabled",
                    "requirements",
                )
            }
            account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
            account["capabilities"] = {name: "active" for name in account["capabilities"]}
            account["tos_acceptance"].update(date=self.now(), ip="127.0.0.1")
            self._clear_requirements(account)
            self._emit("account.updated", account, req=req, previous=previous, account=account_id)
            return copy.deepcopy(account)

    @staticmethod
    def _clear_requirements(account: Obj) -> None:
        for key in ("requirements", "future_requirements"):
            account[key].update(
                currently_due=[], eventually_due=[], past_due=[], pending_verification=[]
            )
            account[key]["disabled_reason"] = None
            account[key]["current_deadline"] = None

    def create_account_link(
        self,
        *,
        account: str,
        refresh_url: str,
        return_url: str,
        type: str,
        base_url: str,
        req: RequestInfo | None = None,
    ) -> Obj:
        with self.lock:
            self._get(self.accounts, account, "account", param="account", status=400)
            token = self.new_id("link", 24).removeprefix("link_")
            now = self.now()
            # Stripe's links are single-use and expire after a few minutes.
            link = OnboardingLink(token, account, refresh_url, return_url, type, now + 300)
            self.links[token] = link
            obj = example("account_link")
            obj.update(
                created=now,
                expires_at=link.expires_at,
                url=f"{base_url.rstrip('/')}/_fake/onboarding/{token}",
            )
            return obj

    def onboarding_link(self, token: str) -> OnboardingLink | None:
        """The link if it can still be used; None when unknown, used or expired."""
        with self.lock:
            link = self.links.get(token)
            if link is None or link.used or link.expires_at < self.now():
                return None
            return copy.copy(link)

    def use_onboarding_link(self, token: str, *, complete: bool) -> OnboardingLink | None:
        with self.lock:
            link = self.onboarding_link(token)
            if link is None:
                return None
            self.links[token].used = True
            if complete:
                self.complete_onboarding(link.account)
            return link

    # --- transfers ----------------------------------------------------------------------

    def create_transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        transfer_group: str | None = None,
        metadata: Mapping[str, str] | None = None,
        description: str | None = None,
        source_transaction: str | None = None,
        req: RequestInfo | None = None,
    ) -> Obj:
        with self.lock:
            account = self.accounts.get(destination)
            if account is None:
                raise StripeError(
                    400,
                    f"No such destination: '{destination}'",
                    code="resource_missing",
                    param="destination",
                )
            if account["capabilities"].get("transfers") != "active":
                raise StripeError(
                    400,
                    "Your destination account needs to have at least one of the following "
                    "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                    code="insufficient_capabilities_for_transfer",
                    param="destination",
                )
            funds = self._funds(PLATFORM, currency)
            if funds["available"] < amount:
                # Stripe answers 400 with an invalid_request_error here (the SDKs raise
                # InvalidRequestError), not 402, which the SDKs reserve for card errors.
                raise StripeError(
                    400,
                    "You have insufficient available funds in your Stripe account. Try adding "
                    "funds directly to your available balance by creating Charges using the "
                    "4000000000000077 test card. See: https://stripe.com/docs/testing#available-balance",
                    code="balance_insufficient",
                )
            transfer = example("transfer")
            transfer_id = self.new_id("tr")
            transfer.update(
                id=transfer_id,
                amount=amount,
                amount_reversed=0,
                balance_transaction=self.new_id("txn"),
                created=self.now(),
                currency=currency,
                description=description,
                destination=destination,
                destination_payment=self.new_id("py", 14),
                livemode=False,
                metadata=dict(metadata or {}),
                reversals=_embedded_list([], f"/v1/transfers/{transfer_id}/reversals"),
                reversed=False,
                source_transaction=source_transaction,
                source_type="card",
                transfer_group=transfer_group,
            )
            funds["available"] -= amount
            self._funds(destination, currency)["available"] += amount
            self.transfers[transfer_id] = transfer
            self._emit("transfer.created", transfer, req=req)
            return copy.deepcopy(transfer)

    def get_transfer(self, transfer_id: str) -> Obj:
        with self.lock:
            return copy.deepcopy(self._get(self.transfers, transfer_id, "transfer"))

    def list_transfers(
        self,
        *,
        destination: str | None = None,
        transfer_group: str | None = None,
        **page: Any,
    ) -> Obj:
        with self.lock:
            items = [
                t
                for t in self.transfers.values()
                if (destination is None or t["destination"] == destination)
                and (transfer_group is None or t["transfer_group"] == transfer_group)
            ]
            return _page(items, url="/v1/transfers", kind="transfer", **page)

    def update_transfer(
        self, transfer_id: str, *, changes: Mapping[str, Any], req: RequestInfo | None = None
    ) -> Obj:
        with self.lock:
            transfer = self._get(self.transfers, transfer_id, "transfer")
            previous = {k: transfer[k] for k, v in changes.items() if transfer[k] != v}
            transfer.update(changes)
            if previous:
                self._emit("transfer.updated", transfer, req=req, previous=previous)
            return copy.deepcopy(transfer)

    def create_reversal(
        self,
        transfer_id: str,
        *,
        amount: int | None = None,
        metadata: Mapping[str, str] | None = None,
        req: RequestInfo | None = None,
    ) -> Obj:
        with self.lock:
            transfer = self._get(self.transfers, transfer_id, "transfer")
            remaining = transfer["amount"] - transfer["amount_reversed"]
            if remaining == 0:
                raise StripeError(400, f"Transfer {transfer_id} is already fully reversed.")
            if amount is None:
                amount = remaining
            if amount > remaining:
                raise StripeError(
                    400,
                    f"Amount ({amount}) must be no more than the amount of the transfer left "
                    f"to reverse ({remaining}).",
                    param="amount",
                )
            reversal = example("transfer_reversal")
            reversal.update(
                id=self.new_id("trr"),
                amount=amount,
                balance_transaction=self.new_id("txn"),
                created=self.now(),
                currency=transfer["currency"],
                destination_payment_refund=self.new_id("pyr"),
                metadata=dict(metadata or {}),
                source_refund=None,
                transfer=transfer_id,
            )
            previous = {
                "amount_reversed": transfer["amount_reversed"],
                "reversed": transfer["reversed"],
            }
            self.reversals[reversal["id"]] = reversal
            transfer["amount_reversed"] += amount
            transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
            all_reversals = [r for r in self.reversals.values() if r["transfer"] == transfer_id]
            transfer["reversals"] = _embedded_list(
                all_reversals, f"/v1/transfers/{transfer_id}/reversals"
            )
            self._funds(PLATFORM, transfer["currency"])["available"] += amount
            self._funds(transfer["destination"], transfer["currency"])["available"] -= amount
            self._emit("transfer.reversed", transfer, req=req, previous=previous)
            return copy.deepcopy(reversal)

    def list_reversals(self, transfer_id: str, **page: Any) -> Obj:
        with self.lock:
            self._get(self.transfers, transfer_id, "transfer")
            items = [r for r in self.reversals.values() if r["transfer"] == transfer_id]
            url = f"/v1/transfers/{transfer_id}/reversals"
            return _page(items, url=url, kind="transfer_reversal", **page)

    def get_reversal(self, transfer_id: str, reversal_id: str) -> Obj:
        with self.lock:
            reversal = self._get(self.reversals, reversal_id, "transfer_reversal")
            if reversal["transfer"] != transfer_id:
                raise missing("transfer_reversal", reversal_id)
            return copy.deepcopy(reversal)

    # --- payment intents, charges, refunds ----------------------------------------------

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        metadata: Mapping[str, str] | None = None,
        description: str | None = None,
        payment_method_types: Sequence[str] | None = None,
        transfer_group: str | None = None,
        receipt_email: str | None = None,
        payment_method: str | None = None,
        confirm: bool = False,
        req: RequestInfo | None = None,
    ) -> Obj:
        with self.lock:
            intent = example("payment_intent")
            intent_id = self.new_id("pi")
            intent.update(
                id=intent_id,
                amount=amount,
                amount_capturable=0,
                amount_received=0,
                application=None,
                application_fee_amount=None,
                automatic_payment_methods=None if payment_method_types else {"enabled": True},
                canceled_at=None,
                cancellation_reason=None,
                capture_method="automatic",
                client_secret=f"{intent_id}_secret_" + self.new_id("s", 25)[2:],
                confirmation_method="automatic",
                created=self.now(),
                currency=currency,
                customer=None,
                customer_account=None,
                description=description,
                excluded_payment_method_types=None,
                last_payment_error=None,
                latest_charge=None,
                livemode=False,
                managed_payments=None,
                metadata=dict(metadata or {}),
                next_action=None,
                on_behalf_of=None,
                payment_method=payment_method,
                payment_method_configuration_details=None,
                payment_method_options={},
                payment_method_types=list(payment_method_types or ["card"]),
                processing=None,
                receipt_email=receipt_email,
                review=None,
                setup_future_usage=None,
                shipping=None,
                source=None,
                statement_descriptor=None,
                statement_descriptor_suffix=None,
                status="requires_confirmation" if payment_method else "requires_payment_method",
                transfer_data=None,
                transfer_group=transfer_group,
            )
            self.payment_intents[intent_id] = intent
            self._emit("payment_intent.created", intent, req=req)
            if confirm:
                return self.confirm_payment_intent(intent_id, req=req)
            return copy.deepcopy(intent)

    def get_payment_intent(self, intent_id: str) -> Obj:
        with self.lock:
            return copy.deepcopy(self._get(self.payment_intents, intent_id, "payment_intent"))

    def list_payment_intents(self, **page: Any) -> Obj:
        with self.lock:
            items = list(self.payment_intents.values())
            return _page(items, url="/v1/payment_intents", kind="payment_intent", **page)

    def confirm_payment_intent(
        self,
        intent_id: str,
        *,
        payment_method: str | None = None,
        req: RequestInfo | None = None,
    ) -> Obj:
        with self.lock:
            intent = self._get(self.payment_intents, intent_id, "payment_intent")
            self._check_payable(intent, "confirmed")
            method = payment_method or intent["payment_method"]
            if method is None:
                raise StripeError(
                    400,
                    "You cannot confirm this PaymentIntent because it's missing a payment "
                    "method. To confirm the PaymentIntent, specify a payment method.",
                    code="payment_intent_unexpected_state",
                    extra={"payment_intent": copy.deepcopy(intent)},
                )
            intent["payment_method"] = method
            if method in DECLINING_PAYMENT_METHODS:
                charge = self._fail_payment(intent, req)
                raise StripeError(
                    402,
                    "Your card was declined.",
                    type="card_error",
                    code="card_declined",
                    extra={
                        "decline_code": "generic_decline",
                        "charge": charge["id"],
                        "payment_intent": copy.deepcopy(intent),
                    },
                )
            self._succeed_payment(intent, req)
            return copy.deepcopy(intent)

    def pay_payment_intent(
        self, intent_id: str, *, succeed: bool = True, req: RequestInfo | None = None
    ) -> Obj:
        """The customer pays (or their card is declined), as on Stripe's payment page."""
        with self.lock:
            intent = self._get(self.payment_intents, intent_id, "payment_intent")
            self._check_payable(intent, "paid")
            if succeed:
                intent["payment_method"] = intent["payment_method"] or "pm_card_visa"
                self._succeed_payment(intent, req)
            else:
                intent["payment_method"] = "pm_card_chargeDeclined"
                self._fail_payment(intent, req)
            return copy.deepcopy(intent)

    @staticmethod
    def _check_payable(intent: Obj, verb: str) -> None:
        if intent["status"] not in _PAYABLE:
            raise StripeError(
                400,
                f"This PaymentIntent's status is {intent['status']}, but it must be one of "
                f"{', '.join(_PAYABLE)} to be {verb}.",
                code="payment_intent_unexpected_state",
                extra={"payment_intent": copy.deepcopy(intent)},
            )

    def _new_charge(self, intent: Obj, *, succeeded: bool) -> Obj:
        charge = example("charge")
        charge_id = self.new_id("ch")
        amount = intent["amount"]
        charge.update(
            id=charge_id,
            amount=amount,
            amount_captured=amount if succeeded else 0,
            amount_refunded=0,
            application=None,
            application_fee=None,
            application_fee_amount=None,
            balance_transaction=self.new_id("txn") if succeeded else None,
            captured=succeeded,
            created=self.now(),
            currency=intent["currency"],
            customer=None,
            description=intent["description"],
            failure_balance_transaction=None,
            failure_code=None if succeeded else "card_declined",
            failure_message=None if succeeded else "Your card was declined.",
            livemode=False,
            metadata=dict(intent["metadata"]),
            paid=succeeded,
            payment_intent=intent["id"],
            payment_method=intent["payment_method"],
            receipt_email=intent["receipt_email"],
            receipt_url=f"https://pay.stripe.com/receipts/payment/{charge_id}",
            refunded=False,
            refunds=_embedded_list([], f"/v1/charges/{charge_id}/refunds"),
            source=None,
            status="succeeded" if succeeded else "failed",
            transfer_data=None,
            transfer_group=intent["transfer_group"],
        )
        charge["outcome"].update(
            network_status="approved_by_network" if succeeded else "declined_by_network",
            reason=None if succeeded else "generic_decline",
            seller_message="Payment complete."
            if succeeded
            else "The bank did not return any further details with this decline.",
            type="authorized" if succeeded else "issuer_declined",
        )
        self.charges[charge_id] = charge
        intent["latest_charge"] = charge_id
        return charge

    def _succeed_payment(self, intent: Obj, req: RequestInfo | None) -> None:
        charge = self._new_charge(intent, succeeded=True)
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            last_payment_error=None,
            next_action=None,
        )
        # Test cards like 4000000000000077 put funds straight into the available balance;
        # the fake always does, and charges no fees.
        self._funds(PLATFORM, intent["currency"])["available"] += intent["amount"]
        self._emit("charge.succeeded", charge, req=req)
        self._emit("payment_intent.succeeded", intent, req=req)

    def _fail_payment(self, intent: Obj, req: RequestInfo | None) -> Obj:
        charge = self._new_charge(intent, succeeded=False)
        intent.update(
            status="requires_payment_method",
            last_payment_error={
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
                "charge": charge["id"],
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            },
        )
        self._emit("charge.failed", charge, req=req)
        self._emit("payment_intent.payment_failed", intent, req=req)
        return charge

    def cancel_payment_intent(
        self,
        intent_id: str,
        *,
        cancellation_reason: str | None = None,
        req: RequestInfo | None = None,
    ) -> Obj:
        with self.lock:
            intent = self._get(self.payment_intents, intent_id, "payment_intent")
            if intent["status"] in ("succeeded", "canceled"):
                raise StripeError(
                    400,
                    "You cannot cancel this PaymentIntent because it has a status of "
                    f"{intent['status']}. Only a PaymentIntent with one of the following "
                    "statuses may be canceled: requires_payment_method, requires_capture, "
                    "requires_confirmation, requires_action, processing.",
                    code="payment_intent_unexpected_state",
                    extra={"payment_intent": copy.deepcopy(intent)},
                )
            intent.update(
                status="canceled", canceled_at=self.now(), cancellation_reason=cancellation_reason
            )
            self._emit("payment_intent.canceled", intent, req=req)
            return copy.deepcopy(intent)

    def get_charge(self, charge_id: str) -> Obj:
        with self.lock:
            return copy.deepcopy(self._get(self.charges, charge_id, "charge"))

    def create_refund(
        self,
        *,
        payment_intent: str | None = None,
        charge: str | None = None,
        amount: int | None = None,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        req: RequestInfo | None = None,
    ) -> Obj:
        with self.lock:
            if payment_intent is None and charge is None:
                raise invalid(
                    "One of the following params should be provided for this request: "
                    "payment_intent or charge."
                )
            if payment_intent is not None:
                intent = self._get(
                    self.payment_intents, payment_intent, "payment_intent", param="payment_intent"
                )
                if intent["status"] != "succeeded" or intent["latest_charge"] is None:
                    raise StripeError(
                        400,
                        f"This PaymentIntent ({payment_intent}) does not have a successful "
                        "charge to refund.",
                        param="payment_intent",
                    )
                charge = str(intent["latest_charge"])
            assert charge is not None
            target = self._get(self.charges, charge, "charge", param="charge", status=400)
            remaining = target["amount_captured"] - target["amount_refunded"]
            if remaining <= 0:
                raise StripeError(
                    400,
                    f"Charge {charge} has already been refunded.",
                    code="charge_already_refunded",
                )
            if amount is None:
                amount = remaining
            if amount > remaining:
                raise StripeError(
                    400,
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                    f"({remaining})",
                    param="amount",
                )
            refund = example("refund")
            refund.update(
                id=self.new_id("re"),
                amount=amount,
                balance_transaction=self.new_id("txn"),
                charge=charge,
                created=self.now(),
                currency=target["currency"],
                customer=None,
                customer_account=None,
                metadata=dict(metadata or {}),
                payment_intent=target["payment_intent"],
                payment_method=target["payment_method"],
                reason=reason,
                receipt_number=None,
                source_transfer_reversal=None,
                status="succeeded",
                transfer_reversal=None,
            )
            self.refunds[refund["id"]] = refund
            previous = {"amount_refunded": target["amount_refunded"], "refunded": False}
            target["amount_refunded"] += amount
            target["refunded"] = target["amount_refunded"] == target["amount_captured"]
            refunds = [r for r in self.refunds.values() if r["charge"] == charge]
            target["refunds"] = _embedded_list(refunds, f"/v1/charges/{charge}/refunds")
            # Refunds come out of the available balance and may take it below zero, as
            # Stripe then debits the platform's bank account.
            self._funds(PLATFORM, target["currency"])["available"] -= amount
            self._emit("refund.created", refund, req=req)
            self._emit("charge.refunded", target, req=req, previous=previous)
            return copy.deepcopy(refund)

    def get_refund(self, refund_id: str) -> Obj:
        with self.lock:
            return copy.deepcopy(self._get(self.refunds, refund_id, "refund"))

    def list_refunds(self, *, payment_intent: str | None = None, **page: Any) -> Obj:
        with self.lock:
            items = [
                r
                for r in self.refunds.values()
                if payment_intent is None or r["payment_intent"] == payment_intent
            ]
            return _page(items, url="/v1/refunds", kind="refund", **page)

    # --- payouts of connected accounts --------------------------------------------------

    def fail_payout(
        self,
        account_id: str,
        *,
        amount: int,
        currency: str | None = None,
        failure_code: str = "account_closed",
        req: RequestInfo | None = None,
    ) -> Obj:
        """A payout of a connected account to its bank that the bank sends back:
        `payout.created` then `payout.failed`, both Connect events naming the account."""
        with self.lock:
            account = self._get(self.accounts, account_id, "account")
            now = self.now()
            payout = example("payout")
            payout.update(
                id=self.new_id("po"),
                amount=amount,
                application_fee=None,
                application_fee_amount=None,
                arrival_date=now + 86400,
                automatic=True,
                balance_transaction=self.new_id("txn"),
                created=now,
                currency=currency or account["default_currency"],
                description="STRIPE PAYOUT",
                destination=self.new_id("ba"),
                failure_balance_transaction=None,
                failure_code=None,
                failure_message=None,
                livemode=False,
                metadata={},
                original_payout=None,
                reconciliation_status="not_applicable",
                reversed_by=None,
                status="pending",
            )
            payout["trace_id"] = {"status": "pending", "value": None}
            self.payouts[payout["id"]] = payout
            self.payout_owner[payout["id"]] = account_id
            self._emit("payout.created", payout, req=req, account=account_id)
            payout.update(
                status="failed",
                failure_balance_transaction=self.new_id("txn"),
                failure_code=failure_code,
                failure_message=PAYOUT_FAILURES.get(failure_code, "The payout failed."),
            )
            payout["trace_id"] = {"status": "unsupported", "value": None}
            self._emit(
                "payout.failed",
                payout,
                req=req,
                account=account_id,
                previous={"status": "pending", "failure_code": None},
            )
            return copy.deepcopy(payout)

    def get_payout(self, payout_id: str, *, owner: str) -> Obj:
        with self.lock:
            payout = self._get(self.payouts, payout_id, "payout")
            if self.payout_owner[payout_id] != owner:
                raise missing("payout", payout_id)
            return copy.deepcopy(payout)

    def list_payouts(self, *, owner: str, **page: Any) -> Obj:
        with self.lock:
            items = [p for pid, p in self.payouts.items() if self.payout_owner[pid] == owner]
            return _page(items, url="/v1/payouts", kind="payout", **page)

    # --- events -------------------------------------------------------------------------

    def list_events(self, *, types: Sequence[str] | None = None, **page: Any) -> Obj:
        """Newest first; a type may end in `*` (`transfer.*`), as with Stripe."""
        with self.lock:
            items = [
                e
                for e in self.events.values()
                if not types or any(fnmatch.fnmatchcase(e["type"], t) for t in types)
            ]
            return _page(items, url="/v1/events", kind="event", **page)

    # --- idempotency --------------------------------------------------------------------

    def idempotency_begin(
        self,
        scope: tuple[str, str, str],
        *,
        method: str,
        path: str,
        params: dict[str, Any],
        request_id: str,
    ) -> StoredResult | None:
        """The finished result to replay, or None after reserving the key for this request.

        Same key with other parameters or another endpoint: 400 `idempotency_error`; same key
        while its first request still runs: 409, as Stripe answers.
        """
        key = scope[2]
        with self.lock:
            stored = self.idempotency.get(scope)
            if stored is not None and stored.created + IDEMPOTENCY_TTL_SECONDS < self.clock():
                stored = None  # Stripe prunes keys after 24 hours
            if stored is None:
                self.idempotency[scope] = StoredResult(
                    method, path, params, request_id, self.clock()
                )
                return None
            if (stored.method, stored.path) != (method, path):
                raise StripeError(
                    400,
                    "Keys for idempotent requests can only be used for the same endpoint they "
                    f"were first used for ('{stored.method} {stored.path}' vs '{method} {path}'). "
                    f"Try using a key other than '{key}' if you meant to execute a different "
                    "request.",
                    type="idempotency_error",
                    saved=False,
                )
            if stored.params != params:
                raise StripeError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you "
                    "meant to execute a different request.",
                    type="idempotency_error",
                    saved=False,
                )
            if stored.status is None:
                raise StripeError(
                    409,
                    "There is currently another in-progress request using this Idempotent Key "
                    "(that probably means you submitted twice, and the other request is still "
                    f"going through): {key}. Please try again later.",
                    code="idempotency_key_in_use",
                    saved=False,
                )
            return copy.copy(stored)

    def idempotency_finish(
        self,
        scope: tuple[str, str, str],
        *,
        status: int,
        body: bytes,
        headers: Mapping[str, str],
    ) -> None:
        with self.lock:
            stored = self.idempotency.get(scope)
            if stored is not None:
                stored.status, stored.body, stored.headers = status, body, dict(headers)

    def idempotency_release(self, scope: tuple[str, str, str]) -> None:
        with self.lock:
            stored = self.idempotency.get(scope)
            if stored is not None and stored.status is None:
                del self.idempotency[scope]

    # --- inspection ---------------------------------------------------------------------

    def counts(self) -> Obj:
        """Numbers a test asserts on: objects by kind, transfers per group, events per type,
        API calls per route, and the platform balance."""
        with self.lock:
            by_group: Counter[str] = Counter(
                t["transfer_group"] or "" for t in self.transfers.values()
            )
            funds = self.balances.get(PLATFORM, {})
            return {
                "accounts": len(self.accounts),
                "account_links": len(self.links),
                "transfers": len(self.transfers),
                "transfers_by_group": dict(by_group),
                "transfer_reversals": len(self.reversals),
                "payment_intents": len(self.payment_intents),
                "payment_intents_by_status": dict(
                    Counter(p["status"] for p in self.payment_intents.values())
                ),
                "charges": len(self.charges),
                "refunds": len(self.refunds),
                "payouts": len(self.payouts),
                "events": len(self.events),
                "events_by_type": dict(Counter(e["type"] for e in self.events.values())),
                "calls": dict(self.calls),
                "balance": {
                    "available": {c: f["available"] for c, f in funds.items()},
                    "pending": {c: f["pending"] for c, f in funds.items()},
                },
            }

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def _get(
        store: Mapping[str, Obj], object_id: str, kind: str, *, param: str = "id", status: int = 404
    ) -> Obj:
        obj = store.get(object_id)
        if obj is None:
            raise missing(kind, object_id, param=param, status=status)
        return obj


def _currency_of(country: str, fallback: str) -> str:
    if country in _EURO:
        return "eur"
    return _COUNTRY_CURRENCY.get(country, fallback)


def _embedded_list(items_oldest_first: Sequence[Obj], url: str) -> Obj:
    newest = [copy.deepcopy(i) for i in reversed(items_oldest_first)]
    return {"object": "list", "data": newest[:10], "has_more": len(newest) > 10, "url": url}


def _page(
    items_oldest_first: Sequence[Obj],
    *,
    url: str,
    kind: str,
    limit: int | None = None,
    starting_after: str | None = None,
    ending_before: str | None = None,
) -> Obj:
    """One page of a Stripe list, newest first, with its cursors checked like Stripe's."""
    items = list(reversed(items_oldest_first))
    ids = [i["id"] for i in items]
    size = limit or 10
    if starting_after is not None:
        if starting_after not in ids:
            raise missing(kind, starting_after, param="starting_after", status=400)
        rest = items[ids.index(starting_after) + 1 :]
        chosen, has_more = rest[:size], len(rest) > size
    elif ending_before is not None:
        if ending_before not in ids:
            raise missing(kind, ending_before, param="ending_before", status=400)
        before = items[: ids.index(ending_before)]
        chosen, has_more = before[-size:], len(before) > size
    else:
        chosen, has_more = items[:size], len(items) > size
    return {
        "object": "list",
        "data": [copy.deepcopy(i) for i in chosen],
        "has_more": has_more,
        "url": url,
    }
