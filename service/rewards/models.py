"""Money: funding, the double-entry ledger, milestones, payout accounts, payouts, webhooks.

The ledger never updates or deletes a row. Every movement is one `LedgerTransaction` whose
`LedgerEntry` amounts sum to zero, and an account's balance is the sum of its entries.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from service.core.states import Transitions
from service.core.stored_file import StoredFile

if TYPE_CHECKING:
    from service.accounts.models import Organization
    from service.applications.models import Award
    from service.challenges.models import Challenge


class Rail(StrEnum):
    stripe = "stripe"
    bank_transfer = "bank_transfer"


# --- the ledger ----------------------------------------------------------------------------


class AccountKind(StrEnum):
    # A city's own money outside the platform: it goes negative as the city funds.
    funding_source = "funding_source"
    # A challenge's prize pool held in escrow, not yet awarded.
    escrow = "escrow"
    # An award's money, not yet released to its recipients.
    allocation = "allocation"
    # Released to a recipient, not yet paid out.
    payable = "payable"
    # Paid out to a recipient.
    paid_out = "paid_out"
    # Returned to the city.
    refunded = "refunded"


class LedgerAccount(Model):
    id = fields.IntField(primary_key=True)
    # A readable unique name: "escrow:challenge:12", "payable:organization:7:award:3".
    key = fields.CharField(max_length=120, unique=True)
    kind = fields.CharEnumField(AccountKind, max_length=20)
    currency = fields.CharField(max_length=3)
    organization_id = fields.IntField(null=True, db_index=True)
    challenge_id = fields.IntField(null=True, db_index=True)
    award_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ledger_accounts"


class TransactionKind(StrEnum):
    fund = "fund"
    allocate = "allocate"
    release = "release"
    payout = "payout"
    payout_failed = "payout_failed"
    reversal = "reversal"
    refund = "refund"


class LedgerTransaction(Model):
    id = fields.IntField(primary_key=True)
    # Names the business event, so that posting it twice is refused by the database.
    key = fields.CharField(max_length=120, unique=True)
    kind = fields.CharEnumField(TransactionKind, max_length=20)
    challenge_id = fields.IntField(db_index=True)
    city_id = fields.IntField(db_index=True)
    # Who is on the other side of the city: the recipient, or the city itself.
    counterpart_id = fields.IntField(null=True)
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    memo = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "ledger_transactions"
        ordering = ["id"]


class LedgerMonth(Model):
    """The ledger's transactions summed by challenge, kind, currency and month (UTC).

    Kept by the transaction that posts (see `service.rewards.aggregates`), so the dashboards
    and the public ledgers read sums whose number grows with challenges and months, never
    with the ledger's rows. Derived data: `aggregates.rebuild()` recomputes it from the ledger.
    """

    id = fields.IntField(primary_key=True)
    challenge_id = fields.IntField(db_index=True)
    city_id = fields.IntField(db_index=True)
    kind = fields.CharEnumField(TransactionKind, max_length=20)
    currency = fields.CharField(max_length=3)
    # "2026-12": the month of the transactions' created_at in UTC.
    month = fields.CharField(max_length=7)
    amount_minor = fields.BigIntField(default=0)
    transactions = fields.IntField(default=0)

    class Meta:
        table = "ledger_months"
        unique_together = (("challenge_id", "kind", "currency", "month"),)


class AwardPayment(Model):
    """When the ledger first posted a payment of each award (kept like `LedgerMonth`)."""

    award_id = fields.IntField(primary_key=True, generated=False)
    challenge_id = fields.IntField(db_index=True)
    first_paid_at = fields.DatetimeField()

    class Meta:
        table = "award_payments"


class LedgerEntry(Model):
    id = fields.IntField(primary_key=True)
    transaction: fields.ForeignKeyRelation[LedgerTransaction] = fields.ForeignKeyField(
        "civic.LedgerTransaction", related_name="entries", on_delete=fields.RESTRICT
    )
    account: fields.ForeignKeyRelation[LedgerAccount] = fields.ForeignKeyField(
        "civic.LedgerAccount", related_name="entries", on_delete=fields.RESTRICT
    )
    # Positive adds to the account's balance, negative takes from it.
    amount_minor = fields.BigIntField()
    transaction_id: int
    account_id: int

    class Meta:
        table = "ledger_entries"


# --- funding -------------------------------------------------------------------------------


class FundingStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class Funding(Model):
    id = fields.IntField(primary_key=True)
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "civic.Challenge", related_name="fundings", on_delete=fields.RESTRICT
    )
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    method = fields.CharEnumField(Rail, max_length=20)
    reference = fields.CharField(max_length=120, default="")
    status = fields.CharEnumField(FundingStatus, max_length=20, default=FundingStatus.pending)
    payment_intent_id = fields.CharField(max_length=120, null=True, unique=True)
    client_secret = fields.CharField(max_length=200, default="")
    failure_reason = fields.TextField(default="")
    recorded_by_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    succeeded_at = fields.DatetimeField(null=True)
    challenge_id: int

    class Meta:
        table = "fundings"
        ordering = ["id"]


class RefundStatus(StrEnum):
    queued = "queued"
    awaiting_transfer = "awaiting_transfer"
    paid = "paid"
    failed = "failed"


class Refund(Model):
    """Unallocated escrow returned to the city through the rail the funding came by."""

    id = fields.IntField(primary_key=True)
    funding: fields.ForeignKeyRelation[Funding] = fields.ForeignKeyField(
        "civic.Funding", related_name="refunds", on_delete=fields.RESTRICT
    )
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    status = fields.CharEnumField(RefundStatus, max_length=20, default=RefundStatus.queued)
    stripe_refund_id = fields.CharField(max_length=120, null=True, unique=True)
    reference = fields.CharField(max_length=120, default="")
    failure_reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    paid_at = fields.DatetimeField(null=True)
    funding_id: int

    class Meta:
        table = "refunds"
        ordering = ["id"]


# --- payout accounts -----------------------------------------------------------------------


class PayoutAccount(Model):
    id = fields.IntField(primary_key=True)
    organization: fields.OneToOneRelation[Organization] = fields.OneToOneField(
        "civic.Organization", related_name="payout_account", on_delete=fields.RESTRICT
    )
    rail = fields.CharEnumField(Rail, max_length=20)
    stripe_account_id = fields.CharField(max_length=120, null=True, unique=True)
    payouts_enabled = fields.BooleanField(default=False)
    bank_holder = fields.CharField(max_length=140, default="")
    bank_iban = fields.CharField(max_length=34, default="")
    bank_bic = fields.CharField(max_length=11, default="")
    # How the bank transfer reaches the payee (a code of `payout_methods.METHODS`) and that
    # method's fields in compact form. Accounts saved before methods existed have only the
    # IBAN columns: `bank_method` and `bank_details` read them as the "iban" method.
    method = fields.CharField(max_length=30, default="")
    details: dict[str, str] = fields.JSONField(default=dict)
    # The currency the account is held in (ISO 4217); empty = the challenge's. Escrow, ledger
    # and payouts stay in the challenge's currency: this only asks finance for the rate used.
    currency = fields.CharField(max_length=3, null=True)
    updated_at = fields.DatetimeField(auto_now=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    organization_id: int

    class Meta:
        table = "payout_accounts"

    @property
    def bank_method(self) -> str:
        return self.method or ("iban" if self.bank_iban else "")

    @property
    def bank_details(self) -> dict[str, str]:
        if self.method:
            return dict(self.details)
        return {"iban": self.bank_iban, "bic": self.bank_bic} if self.bank_iban else {}


# --- milestones and payouts ----------------------------------------------------------------


class MilestoneStatus(StrEnum):
    planned = "planned"
    submitted = "submitted"
    returned = "returned"
    approved = "approved"
    released = "released"
    paid = "paid"


# A milestone's life. The winner submits evidence (again while it waits, or after it was
# sent back); a manager approves or returns it; finance releases it; the payout pays it. A
# payout that fails or is reversed brings a released or paid milestone back to approved, to be
# released again.
MILESTONE_TRANSITIONS = Transitions(
    MilestoneStatus,
    {
        MilestoneStatus.planned: {MilestoneStatus.submitted},
        MilestoneStatus.submitted: {
            MilestoneStatus.submitted,
            MilestoneStatus.approved,
            MilestoneStatus.returned,
        },
        MilestoneStatus.returned: {MilestoneStatus.submitted},
        MilestoneStatus.approved: {MilestoneStatus.released},
        MilestoneStatus.released: {MilestoneStatus.paid, MilestoneStatus.approved},
        MilestoneStatus.paid: {MilestoneStatus.approved},
    },
)


class Milestone(Model):
    id = fields.IntField(primary_key=True)
    award: fields.ForeignKeyRelation[Award] = fields.ForeignKeyField(
        "civic.Award", related_name="milestones", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=160)
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    due_at = fields.DatetimeField()
    position = fields.IntField(default=0)
    status = fields.CharEnumField(MilestoneStatus, max_length=20, default=MilestoneStatus.planned)
    evidence = fields.TextField(default="")
    submitted_at = fields.DatetimeField(null=True)
    submitted_by_id = fields.IntField(null=True)
    return_reason = fields.TextField(default="")
    approved_at = fields.DatetimeField(null=True)
    approved_by_id = fields.IntField(null=True)
    released_at = fields.DatetimeField(null=True)
    released_by_id = fields.IntField(null=True)
    paid_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    award_id: int

    class Meta:
        table = "milestones"
        ordering = ["position", "id"]


class MilestoneFile(StoredFile):
    id = fields.IntField(primary_key=True)
    milestone: fields.ForeignKeyRelation[Milestone] = fields.ForeignKeyField(
        "civic.Milestone", related_name="files", on_delete=fields.RESTRICT
    )
    milestone_id: int

    class Meta:
        table = "milestone_files"
        ordering = ["id"]


class PayoutStatus(StrEnum):
    # Queued for the worker (Stripe rail).
    queued = "queued"
    # The worker has taken it; a transfer may or may not exist yet.
    in_flight = "in_flight"
    # Manual rail: finance sends the bank transfer and records its reference.
    awaiting_transfer = "awaiting_transfer"
    paid = "paid"
    failed = "failed"
    reversed = "reversed"


class Payout(Model):
    """One recipient's share of one milestone, paid exactly once."""

    id = fields.IntField(primary_key=True)
    milestone: fields.ForeignKeyRelation[Milestone] = fields.ForeignKeyField(
        "civic.Milestone", related_name="payouts", on_delete=fields.RESTRICT
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "civic.Organization", related_name="payouts", on_delete=fields.RESTRICT
    )
    # Releasing again after a failure makes a new round, so keys stay unique per attempt.
    round = fields.IntField(default=1)
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    rail = fields.CharEnumField(Rail, max_length=20)
    status = fields.CharEnumField(PayoutStatus, max_length=20, default=PayoutStatus.queued)
    idempotency_key = fields.CharField(max_length=80, unique=True)
    stripe_transfer_id = fields.CharField(max_length=120, null=True, unique=True)
    bank_reference = fields.CharField(max_length=120, default="")
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")
    failure_reason = fields.TextField(default="")
    amount_reversed_minor = fields.BigIntField(default=0)
    # A manual transfer to an account in another currency: the rate finance used (units of
    # `transfer_currency` per unit of `currency`) and what the payee received. A record only:
    # the ledger stays in `currency`.
    transfer_currency = fields.CharField(max_length=3, null=True)
    transfer_rate = fields.CharField(max_length=40, null=True)
    transfer_amount_minor = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True, db_index=True)
    paid_at = fields.DatetimeField(null=True)
    milestone_id: int
    organization_id: int

    class Meta:
        table = "payouts"
        unique_together = (("milestone", "organization", "round"),)
        ordering = ["id"]


# --- Stripe webhooks -----------------------------------------------------------------------


class WebhookEvent(Model):
    """The inbox: each Stripe event id is stored once and handled by a job."""

    id = fields.IntField(primary_key=True)
    event_id = fields.CharField(max_length=120, unique=True)
    type = fields.CharField(max_length=80)
    object_id = fields.CharField(max_length=120, default="")
    payload: dict = fields.JSONField()
    received_at = fields.DatetimeField(auto_now_add=True)
    processed_at = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    error = fields.TextField(default="")

    class Meta:
        table = "stripe_webhook_events"
        ordering = ["id"]


class InvariantBreach(Model):
    """What the nightly reconciliation found wrong, kept for the operators."""

    id = fields.IntField(primary_key=True)
    check = fields.CharField(max_length=60)
    detail = fields.TextField()
    city_id = fields.IntField(null=True)
    found_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ledger_breaches"
        ordering = ["id"]
