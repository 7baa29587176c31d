"""A local fake of the Stripe API: a real HTTP server that the unmodified `stripe` SDK talks to.

For tests and demos of the Stripe rail (Connect Express payouts, escrow payments, refunds,
webhooks), with faults injected on purpose to prove that every payout happens exactly once.

Start it and point the SDK at it:

    fake = FakeStripe(webhook_url="http://127.0.0.1:8000/api/v1/webhooks/stripe",
                      webhook_secret="whsec_...").start()        # or `with` / `async with`
    client = fake.client()   # = stripe.StripeClient(key, base_addresses={"api": fake.url,
                             #   "connect": fake.url}, http_client=stripe.HTTPXClient(
                             #   allow_sync_methods=True), max_network_retries=0)
    fake.top_up(100_000, "eur")                 # platform balance, minor units
    fake.inject("POST /v1/transfers", "error_500_after")
    fake.counts()["transfers_by_group"]         # {"milestone-7": 1}
    fake.stop()

or from the command line: `python -m service fake-stripe --port 12111 --webhook-url URL
--webhook-secret whsec_...`. Any `sk_test_...` key is accepted (or only those given as
`api_keys`); live keys are refused.

What it covers (`/v1/`, Stripe's form encoding, JSON shapes, error shape and statuses):

- accounts: create (type, country, email, capabilities, metadata, business_type,
  business_profile, default_currency), retrieve, list, update, `GET /v1/account`; an express
  account has charges/payouts disabled and its requested capabilities `inactive` until its
  holder completes onboarding (the account link's page, or the control endpoint), which emits
  `account.updated` with `previous_attributes` and `account` set, as Connect events have.
- account_links: create -> a single-use URL to the fake's onboarding page (complete / leave,
  then back to `return_url`; a used or expired link goes to `refresh_url`).
- transfers: create, retrieve, update, list (limit, starting_after, ending_before, destination,
  transfer_group); reversals: create (amount optional), retrieve, list. Transfers need the
  destination's `transfers` capability active and enough available platform balance (else
  `insufficient_capabilities_for_transfer` / `balance_insufficient`, 400 invalid_request_error
  as Stripe answers them); reversals credit the platform back. Events `transfer.created`,
  `transfer.updated`, `transfer.reversed`.
- payment_intents: create, retrieve, list, confirm (`pm_card_visa` succeeds,
  `pm_card_chargeDeclined` is a 402 card error), cancel; the "customer pays" control succeeds
  (charge, balance credit, `charge.succeeded`, `payment_intent.succeeded`) or fails
  (`charge.failed`, `payment_intent.payment_failed`). Charges: retrieve.
- refunds: create (payment_intent or charge, amount optional), retrieve, list; they debit the
  balance (which may go negative) and emit `refund.created` and `charge.refunded`.
- balance: available and pending per currency, the platform's or (with `Stripe-Account`) a
  connected account's; payouts of connected accounts: the failed-payout control emits
  `payout.created` and `payout.failed`; retrieve and list them with `Stripe-Account`.
- events: retrieve and list, newest first, `type` (with `*`) or `types`, pagination; every
  change appends one with a snapshot in `data.object` and the causing request in `request`.
- idempotency as Stripe does it: per API key and `Stripe-Account`, a POST's first result is
  stored and replayed (same status and body, `Idempotent-Replayed: true`); the same key with
  other parameters or another endpoint is a 400 `idempotency_error`; while the first request
  still runs, 409. Refusals of parameter validation are not stored; keys expire after 24 h.
- faults (faults.py): `error_500`, `error_500_after`, `drop`, `timeout`, `delay`, per route
  pattern, scripted or with a seeded probability.
- webhooks (webhooks.py): signed like Stripe's, delivered asynchronously with bounded retries
  and backoff; duplicates, shuffled order, held events; `sign()` forges signatures for tests.
- objects start as deep copies of Stripe's own examples (examples.json, copied from
  stripe/openapi `openapi/fixtures3.json` at commit f6c2a48fbac2, MIT licence, Copyright (c)
  2011- Stripe, Inc.; text in LICENSE-examples), so their fields and types are Stripe's.

What it does not do: any other resource (customers, checkout, payment methods as objects,
balance transactions, files, v2 APIs); `expand` is accepted and ignored (ids stay ids);
`Stripe-Account` only on the balance, payouts and `GET /v1/account`; fees, pending funds,
payout schedules and automatic payouts, currency conversion, disputes, 3-D Secure and
`next_action`, search, `created` filters, rate limits, livemode. Capabilities other than those
requested stay absent; external accounts stay empty. One webhook endpoint receives both
platform and Connect events.

Control endpoints (JSON; the Python API of FakeStripe does the same):

    POST   /_fake/reset                               {"seed"?}
    GET    /_fake/counts                              objects, per transfer_group, per event
                                                      type, calls per route, balance, webhooks
    GET    /_fake/balance?account=                    POST /_fake/balance {"amount", "currency"?}
    GET    /_fake/faults      DELETE /_fake/faults    POST /_fake/faults {"rules": [...],
                                                      "replace"?, "seed"?} (see faults.py)
    POST   /_fake/accounts/{id}/complete_onboarding
    POST   /_fake/accounts/{id}/payouts/fail          {"amount", "currency"?, "failure_code"?}
    POST   /_fake/payment_intents/{id}/pay            {"outcome": "succeeded" | "failed"}
    POST   /_fake/transfers/{id}/reverse              {"amount"?}
    GET    /_fake/webhooks                            settings, counts, last attempts
    POST   /_fake/webhooks                            {"url", "secret", "duplicates", "shuffle",
                                                      "auto_deliver", "max_attempts", ...}
    POST   /_fake/webhooks/flush                      {"wait"?: true, "seconds"?: 10}
    GET    /_fake/onboarding/{token}                  the page an account link opens
"""

from service.integrations.fake_stripe.faults import Fault, FaultPlan
from service.integrations.fake_stripe.params import StripeError
from service.integrations.fake_stripe.server import TEST_API_KEY, BackgroundServer, FakeStripe
from service.integrations.fake_stripe.state import StripeState
from service.integrations.fake_stripe.webhooks import (
    SignedDelivery,
    WebhookDispatcher,
    WebhookSettings,
    sign,
)

__all__ = [
    "TEST_API_KEY",
    "BackgroundServer",
    "FakeStripe",
    "Fault",
    "FaultPlan",
    "SignedDelivery",
    "StripeError",
    "StripeState",
    "WebhookDispatcher",
    "WebhookSettings",
    "sign",
]
