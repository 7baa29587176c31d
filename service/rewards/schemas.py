"""API schemas of funding, payout accounts, milestones, payouts and the public ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FundingIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    amount_minor: int = Field(ge=1, le=10**13)
    method: Literal["stripe", "bank_transfer"]
    reference: str = Field(default="", max_length=120)


class FundingOut(BaseModel):
    id: int
    challenge_id: int
    amount_minor: int
    currency: str
    method: str
    reference: str
    status: str
    payment_intent_id: str | None = None
    client_secret: str | None = Field(
        default=None, description="For Stripe's payment form; only in the creating response"
    )
    created_at: datetime


class TotalsOut(BaseModel):
    challenge_id: int
    currency: str
    committed_minor: int
    escrowed_minor: int
    allocated_minor: int
    paid_minor: int
    refunded_minor: int
    remaining_minor: int
    funded: bool


class PayoutAccountIn(BaseModel):
    # The other fields of the method (`rut`, `bank`, `clabe`, `pix_key`, ...) come beside
    # these; each method's fields are in the README's table and checked by the service.
    model_config = ConfigDict(str_strip_whitespace=True, extra="allow")

    rail: Literal["stripe", "bank_transfer"]
    holder: str = Field(default="", max_length=140)
    method: str = Field(
        default="iban",
        max_length=30,
        description="How the bank transfer is made: iban, br_pix_cpf, br_pix_cnpj, "
        "br_pix_email, br_pix_phone, br_pix_random, br_bank, cl_account, mx_clabe, ar_cbu, "
        "co_account, us_ach, gb_sort_code",
    )
    iban: str = Field(default="", max_length=42)
    bic: str = Field(default="", max_length=11)
    currency: str = Field(
        default="",
        max_length=3,
        description="ISO 4217 code of the account's currency; empty when it is the "
        "challenge's. Finance then records the rate used for each bank transfer.",
    )


class PayoutAccountOut(BaseModel):
    organization_id: int
    rail: str | None
    payouts_enabled: bool
    stripe_account_id: str | None = None
    bank_holder: str = ""
    bank_iban_last4: str = ""
    method: str = ""
    method_label: str = ""
    account_last4: str = ""
    currency: str | None = Field(
        default=None, description="The account's currency; null when it is the challenge's"
    )
    details: dict[str, str] = Field(
        default_factory=dict,
        description="The method's fields; account numbers, keys and identifiers only as "
        'their last four characters ("•••• 5678")',
    )
    onboarding_url: str | None = Field(
        default=None, description="Where to send the user to finish Stripe's onboarding"
    )


class EvidenceIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    evidence: str = Field(min_length=1, max_length=20000)


class SendBackIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=5000)


class ReferenceIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    reference: str = Field(min_length=1, max_length=120)


class PayoutTransferIn(ReferenceIn):
    rate: str = Field(
        default="",
        max_length=40,
        description="Required when the payee's account is in another currency: units of the "
        "account's currency per 1 unit of the payout's, as a decimal string (\"1050.25\"). "
        "Ignored when the currencies match.",
    )


class PayoutOut(BaseModel):
    id: int
    milestone_id: int
    organization_id: int
    organization_name: str
    amount_minor: int
    currency: str
    rail: str
    status: str
    stripe_transfer_id: str | None
    bank_reference: str
    transfer_currency: str | None = Field(
        default=None, description="The payee account's currency, when it is not the payout's"
    )
    transfer_rate: str | None = Field(
        default=None, description="Units of transfer_currency per 1 unit of currency"
    )
    transfer_amount_minor: int | None = Field(
        default=None, description="What the payee received, in transfer_currency's minor units"
    )
    failure_reason: str
    attempts: int
    created_at: datetime
    paid_at: datetime | None


class EvidenceFileOut(BaseModel):
    id: int
    name: str
    content_type: str
    size: int
    created_at: datetime


class MilestoneDetailOut(BaseModel):
    id: int
    award_id: int
    title: str
    amount_minor: int
    currency: str
    due_at: datetime
    status: str
    evidence: str
    submitted_at: datetime | None
    return_reason: str
    approved_at: datetime | None
    released_at: datetime | None
    paid_at: datetime | None
    files: list[EvidenceFileOut] = Field(default_factory=list)
    payouts: list[PayoutOut]


class LedgerLineOut(BaseModel):
    id: int
    date: datetime
    kind: str
    amount_minor: int
    currency: str
    counterpart_organization_id: int | None
    counterpart_name: str | None
    memo: str


class LedgerOut(BaseModel):
    items: list[LedgerLineOut]
    next_cursor: str | None = None
    totals: list[TotalsOut] = Field(
        default_factory=list, description="Per challenge: committed, escrowed, paid, remaining"
    )


class RefundOut(BaseModel):
    id: int
    funding_id: int
    amount_minor: int
    currency: str
    status: str
    reference: str


class WebhookOut(BaseModel):
    received: bool
    duplicate: bool = False
