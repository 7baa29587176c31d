"""Rewards in the platform's words: fund, allocate, submit evidence, approve, release, pay,
refund, and follow what Stripe tells us.

Functions that change money run inside the caller's `db.transaction()` and lock the row they
change first (`select_for_update`), so two clicks, two workers or two webhooks are served one
after the other, and the second one sees the first one's result. A lock lasts until the
caller's transaction ends. Where several rows are locked they are taken in one order, so two
steps never wait on each other in a circle: a payout, then its milestone, then its challenge;
a funding, then its challenge.

Owns fundings, payout accounts, milestones and their evidence files, payouts and refunds; posts
to the ledger through `ledger` only; records the audit log and notifies people; moves a
challenge to completed when its last milestone is paid. Its Stripe calls go through
`gateway`: payment intents, connected accounts and their links, and re-fetching an intent, an
account or a transfer for a webhook. Transfers and refunds at Stripe are made by the jobs in
`tasks`, never here. It never calls Stripe while holding a row lock, except `sync_account`
(see there); the payout and refund jobs in `tasks` are the other, documented exceptions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from service import db
from service.accounts.actor import Actor
from service.accounts.models import Membership, Organization, Role, User
from service.accounts.permissions import TwoFactorRequired
from service.applications import escrow as award_escrow
from service.applications.models import (
    Application,
    ApplicationPartner,
    ApplicationStatus,
    Award,
    PartnerStatus,
)
from service.audit import service as audit
from service.challenges.models import Challenge, ChallengeStatus
from service.core import i18n
from service.core.context import Context
from service.core.errors import Conflict, PermissionDenied, ServiceError, ValidationFailed
from service.core.i18n import N_
from service.core.jobs import JobSender, enqueue
from service.core.money import CURRENCIES, minor_units, to_major
from service.notifications import service as notifications
from service.rewards import ledger, payout_methods
from service.rewards.gateway import GatewayError, PaymentGateway
from service.rewards.models import (
    MILESTONE_TRANSITIONS,
    AccountKind,
    Funding,
    FundingStatus,
    LedgerAccount,
    Milestone,
    MilestoneFile,
    MilestoneStatus,
    Payout,
    PayoutAccount,
    PayoutStatus,
    Rail,
    Refund,
    RefundStatus,
    TransactionKind,
)

if TYPE_CHECKING:
    from service.config import Settings

log = logging.getLogger(__name__)
_ = i18n.gettext
K = AccountKind
T = TransactionKind
M = MilestoneStatus
P = PayoutStatus
S = ChallengeStatus


class ProviderUnavailable(ServiceError):
    status_code = 502
    default_detail = N_(
        "The payment provider could not be reached. Nothing was charged: try again."
    )


class SameApprover(PermissionDenied):
    default_detail = N_(
        "The person who approved a milestone cannot release it: another finance member must."
    )


class NoPayoutAccount(Conflict):
    default_detail = N_("A recipient has no payout account that can receive money yet.")


# Separation of duties. A 403, not a 409: the milestone is in the right state and another
# member of the city may take the very same step; it is this person who may not.
class InterestedParty(PermissionDenied):
    default_detail = N_(
        "You are a member of an organization this award pays: another member of the city must "
        "do this."
    )


class OwnEvidence(PermissionDenied):
    default_detail = N_(
        "You submitted this milestone's evidence: another member of the city must do this."
    )


class InterestedFunder(PermissionDenied):
    default_detail = N_(
        "You are a member of an organization that applied to this challenge: another finance "
        "member must record money into its escrow."
    )


def system_context(settings: Settings) -> Context:
    """The context of work the platform does by itself (jobs, webhooks)."""
    return Context(actor=Actor(), settings=settings)


# --- funding -------------------------------------------------------------------------------

FUNDABLE = frozenset(set(S) - {S.cancelled, S.completed})


def bank_record_refusal(actor: Actor) -> ServiceError | None:
    """Why this person may not record a bank transfer into a challenge's escrow, or None.

    A bank transfer is recorded on the recorder's word, like a payout's: it takes two-factor
    sign-in, whichever page or API asks (a card payment is confirmed by Stripe instead). The
    money panel reads this to offer the form or say why not."""
    return None if actor.mfa else TwoFactorRequired()


async def fund(
    ctx: Context,
    challenge: Challenge,
    gateway: PaymentGateway,
    *,
    amount_minor: int,
    method: Rail,
    reference: str,
) -> Funding:
    """Record a bank transfer (escrowed at once) or reserve a card payment (escrowed when
    Stripe confirms it). The city cannot put more in escrow than the reward it committed.

    For a card payment the caller then calls `start_card_payment` after committing.
    """
    # The challenge row is the lock: two fundings at once cannot both take the last of the
    # reward, and a cancellation cannot slip in between the check and the escrow.
    challenge = await Challenge.select_for_update().get(id=challenge.id)
    if challenge.status not in FUNDABLE:
        raise Conflict(_("A cancelled or completed challenge cannot be funded."))
    if amount_minor <= 0:
        raise ValidationFailed(fields={"amount_minor": _("Enter an amount above zero.")})
    open_fundings = await Funding.filter(
        challenge_id=challenge.id, status__in=[FundingStatus.pending, FundingStatus.succeeded]
    ).values_list("amount_minor", flat=True)
    # Pending card payments count too: their amount stays reserved until they succeed or fail.
    still_open = challenge.reward_amount_minor - sum(
        int(n)  # type: ignore[call-overload]
        for n in open_fundings
    )
    if amount_minor > still_open:
        raise ValidationFailed(
            fields={
                "amount_minor": _(
                    "This is more than the reward still to fund (%(left)s in minor units)."
                )
                % {"left": max(still_open, 0)}
            }
        )
    reference = reference.strip()
    if method is Rail.bank_transfer and not reference:
        raise ValidationFailed(fields={"reference": _("Enter the bank transfer's reference.")})
    if method is Rail.stripe and gateway.rail is not Rail.stripe:
        raise ValidationFailed(
            fields={"method": _("Card payments are not available: record a bank transfer.")}
        )
    assert ctx.actor.user is not None
    # Money recorded by hand, unlike a card payment Stripe confirms: not by someone the
    # challenge may pay.
    if method is Rail.bank_transfer and await _is_member(
        ctx.actor.user.id, await applicant_organizations(challenge)
    ):
        raise InterestedFunder()
    # Two-factor sign-in, checked here rather than by the route's rule: the same route takes
    # card payments, which do not need it.
    if method is Rail.bank_transfer and (refusal := bank_record_refusal(ctx.actor)) is not None:
        raise refusal
    funding = await Funding.create(
        challenge=challenge,
        amount_minor=amount_minor,
        currency=challenge.currency,
        method=method,
        reference=reference,
        recorded_by_id=ctx.actor.user.id,
    )
    if method is not Rail.bank_transfer:
        # A card payment: the pending row reserves the amount against the reward (the lock on
        # the challenge keeps two fundings from both taking the last of it); Stripe is asked
        # for the payment intent by `start_card_payment`, after this transaction commits, so
        # no row lock is held while Stripe answers.
        return funding
    await _funding_succeeded(ctx, challenge, funding)
    await _audit_funding(ctx, challenge.organization_id, funding)
    return funding


async def _audit_funding(ctx: Context, organization_id: int, funding: Funding) -> None:
    await audit.record(
        ctx,
        "rewards.fund",
        object_type="funding",
        object_id=funding.id,
        organization_id=organization_id,
        amount_minor=funding.amount_minor,
        method=funding.method.value,
    )


async def start_card_payment(
    ctx: Context, funding: Funding, gateway: PaymentGateway, queue: JobSender | None
) -> Funding:
    """Second step of a card funding, called once `fund`'s transaction has committed: ask
    Stripe for the payment intent with no row lock held, then store it.

    Stripe gets the key `funding-<id>`, so asking again for the same funding returns the same
    intent. When Stripe cannot be reached the pending row is removed in a transaction of its
    own: nothing was charged (the client never saw a secret to pay with) and nothing stays
    reserved; the caller answers 502 and the city may try again.
    """
    try:
        intent = await gateway.create_payment_intent(
            funding.amount_minor,
            funding.currency,
            idempotency_key=f"funding-{funding.id}",
            metadata={"funding_id": str(funding.id), "challenge_id": str(funding.challenge_id)},
        )
    except GatewayError:
        # Only a row still pending and without an intent: one a second call has completed stays.
        async with db.transaction(queue):
            await Funding.filter(
                id=funding.id, status=FundingStatus.pending, payment_intent_id=None
            ).delete()
        raise ProviderUnavailable() from None
    async with db.transaction(queue):
        # Locked: a second call for the same funding stores the intent once.
        row = await Funding.select_for_update().get(id=funding.id)
        if row.payment_intent_id is None:
            row.payment_intent_id = intent.id
            row.client_secret = intent.client_secret
            await row.save(update_fields=["payment_intent_id", "client_secret"])
            challenge = await Challenge.get(id=row.challenge_id).only("id", "organization_id")
            await _audit_funding(ctx, challenge.organization_id, row)
    return row


async def _funding_succeeded(ctx: Context, challenge: Challenge, funding: Funding) -> None:
    funding.status = FundingStatus.succeeded
    funding.succeeded_at = datetime.now(UTC)
    await funding.save(update_fields=["status", "succeeded_at"])
    source = await ledger.account(
        K.funding_source, funding.currency, organization_id=challenge.organization_id
    )
    escrow = await ledger.account(K.escrow, funding.currency, challenge_id=challenge.id)
    # One posting per funding: a second "fund:<id>" (an event handled twice) is refused.
    await ledger.move(
        f"fund:{funding.id}",
        T.fund,
        source,
        escrow,
        funding.amount_minor,
        challenge_id=challenge.id,
        city_id=challenge.organization_id,
        counterpart_id=challenge.organization_id,
        memo=funding.reference or (funding.payment_intent_id or ""),
    )


async def sync_payment_intent(settings: Settings, gateway: PaymentGateway, intent_id: str) -> None:
    """Bring a Stripe funding in line with the payment intent as Stripe has it now."""
    # Stripe is asked before any row is locked, so no lock waits on the network.
    intent = await gateway.retrieve_payment_intent(intent_id)
    # Locked and re-checked: two events for one intent, handled at once, settle it once.
    funding = await Funding.select_for_update().get_or_none(payment_intent_id=intent_id)
    if funding is None or funding.status is not FundingStatus.pending:
        return
    # Then its challenge (funding first, then challenge): money enters escrow only under the
    # challenge's lock, which awarding and cancelling also take before they read the escrow.
    challenge = await Challenge.select_for_update().get(id=funding.challenge_id)
    ctx = system_context(settings)
    if intent.status == "succeeded":
        await _funding_succeeded(ctx, challenge, funding)
        await _tell_city(challenge, "funding_succeeded", _money_link(challenge))
    # A declined card leaves the intent waiting for another card, with a reason: that is a
    # failure to tell the city. Without a reason it is only waiting, and nothing changes.
    elif intent.status in ("canceled", "requires_payment_method") and intent.failure_reason:
        funding.status = FundingStatus.failed
        funding.failure_reason = intent.failure_reason
        await funding.save(update_fields=["status", "failure_reason"])
        await _tell_city(challenge, "funding_failed", _money_link(challenge))
    elif intent.status == "canceled":
        funding.status = FundingStatus.failed
        funding.failure_reason = "canceled"
        await funding.save(update_fields=["status", "failure_reason"])


def _money_link(challenge: Challenge) -> str:
    return f"/challenges/{challenge.id}/ledger"


async def _members(organization_id: int, *roles: Role) -> list[User]:
    query = Membership.filter(organization_id=organization_id)
    if roles:
        query = query.filter(role__in=[*roles, Role.owner])
    return [m.user for m in await query.select_related("user")]


async def _tell_city(challenge: Challenge, kind: str, link: str, **params: Any) -> None:
    for user in await _members(challenge.organization_id, Role.finance, Role.manager):
        await notifications.notify(user, kind, link=link, challenge=challenge, **params)


async def _tell_org(
    organization_id: int, kind: str, link: str, challenge: Challenge | None, **params: Any
) -> None:
    for user in await _members(organization_id):
        await notifications.notify(user, kind, link=link, challenge=challenge, **params)


# --- allocation (called by the award) ------------------------------------------------------


async def allocate(award: Award, challenge: Challenge) -> None:
    escrow = await ledger.account(K.escrow, award.currency, challenge_id=challenge.id)
    allocation = await ledger.account(K.allocation, award.currency, award_id=award.id)
    # Called by `award` under the challenge's lock; one posting per award ("allocate:<id>").
    await ledger.move(
        f"allocate:{award.id}",
        T.allocate,
        escrow,
        allocation,
        award.amount_minor,
        challenge_id=challenge.id,
        city_id=challenge.organization_id,
        counterpart_id=(await Application.get(id=award.application_id)).organization_id,
    )


async def unallocated(challenge: Challenge) -> int:
    """The escrowed money not yet awarded: the ceiling of new awards."""
    return await ledger.escrow_balance(challenge.id, challenge.currency)


async def open_award(award: Award, challenge: Challenge, milestones: list[dict[str, Any]]) -> None:
    """A new award's money: its amount allocated from the escrow, and its milestones (title,
    amount_minor, due_at), in order. Called by the award, under the challenge's lock."""
    await allocate(award, challenge)
    for position, milestone in enumerate(milestones):
        await Milestone.create(
            award=award,
            title=milestone["title"],
            amount_minor=int(milestone["amount_minor"]),
            currency=challenge.currency,
            due_at=milestone["due_at"],
            position=position,
        )


async def milestones_of(award: Award) -> list[award_escrow.Milestone]:
    return [
        award_escrow.Milestone(
            id=m.id,
            title=m.title,
            amount_minor=m.amount_minor,
            currency=m.currency,
            due_at=m.due_at,
            status=m.status.value,
        )
        for m in await Milestone.filter(award_id=award.id).order_by("position", "id")
    ]


# --- payout accounts -----------------------------------------------------------------------


async def connect_stripe(
    ctx: Context, org: Organization, gateway: PaymentGateway, *, email: str
) -> str:
    """Open (or reopen) Stripe's onboarding for the organization; returns where to send them.

    Stripe is called before the payout account's row is locked, so no lock waits on the
    network. Creating the connected account is idempotent per organization (its key): two
    clicks that both find no account get the same one back, and recording it under the lock
    writes the same id twice.
    """
    if gateway.rail is not Rail.stripe:
        raise ValidationFailed(
            fields={"rail": _("Stripe is not available here: enter bank details instead.")}
        )
    found = await PayoutAccount.get_or_none(organization_id=org.id)
    stripe_account_id = found.stripe_account_id if found is not None else None
    connected = None
    try:
        if not stripe_account_id:
            connected = await gateway.create_account(
                email=email,
                country=org.country,
                idempotency_key=f"payout-account-{org.id}",
                metadata={"organization_id": str(org.id)},
            )
            stripe_account_id = connected.id
        base = f"{ctx.settings.base_url}/organizations/{org.id}/payout-account"
        url = await gateway.account_link(
            stripe_account_id, refresh_url=f"{base}/refresh", return_url=f"{base}/return"
        )
    except GatewayError:
        raise ProviderUnavailable() from None
    if connected is not None:
        # Locked only now that Stripe has answered; two clicks write the same id in turn.
        account = await PayoutAccount.select_for_update().get_or_none(organization_id=org.id)
        if account is None:
            account = await PayoutAccount.create(
                organization=org, rail=Rail.stripe, stripe_account_id=connected.id
            )
        else:
            account.rail = Rail.stripe
            account.stripe_account_id = connected.id
            account.payouts_enabled = connected.payouts_enabled
            await account.save()
    await audit.record(
        ctx,
        "rewards.payout_account.stripe",
        object_type="organization",
        object_id=org.id,
        organization_id=org.id,
    )
    return url


async def set_bank_details(
    ctx: Context, org: Organization, *, holder: str, iban: str, bic: str
) -> PayoutAccount:
    """An IBAN (and BIC): the first form of bank details, kept for SEPA payees."""
    return await set_bank_account(
        ctx, org, holder=holder, method="iban", values={"iban": iban, "bic": bic}
    )


async def set_bank_account(
    ctx: Context,
    org: Organization,
    *,
    holder: str,
    method: str,
    values: Mapping[str, str],
    currency: str = "",
) -> PayoutAccount:
    """Bank details for the manual rail, in one of the methods of `payout_methods`. The
    account's currency is empty when it is the challenge's (no rate is then asked)."""
    problems: dict[str, str] = {}
    holder = " ".join(holder.split())
    if not holder:
        problems["holder"] = _("Enter the account holder's name.")
    elif len(holder) > 140:
        problems["holder"] = _("This is too long.")
    currency = currency.strip().upper()
    if currency and currency not in CURRENCIES:
        problems["currency"] = _("Enter a currency code such as EUR, CLP or BRL.")
    details, invalid = payout_methods.validate(method, values)
    problems.update(invalid)
    if problems:
        raise ValidationFailed(fields=problems)
    # Locked so two saves (two tabs, two members) replace the details in turn. With no row
    # yet there is nothing to lock: the one-per-organization key refuses a second insert.
    account = await PayoutAccount.select_for_update().get_or_none(organization_id=org.id)
    saved: dict[str, Any] = {
        "rail": Rail.bank_transfer,
        "bank_holder": holder,
        "method": method,
        "details": details,
        "currency": currency or None,
        # The IBAN columns still answer for IBAN accounts, and are emptied for the others
        # so an old IBAN is never shown for a new account.
        "bank_iban": details.get("iban", "") if method == "iban" else "",
        "bank_bic": details.get("bic", "") if method == "iban" else "",
        "payouts_enabled": True,
    }
    if account is None:
        account = await PayoutAccount.create(organization=org, **saved)
    else:
        account.update_from_dict(saved)
        await account.save()
    await audit.record(
        ctx,
        "rewards.payout_account.bank",
        object_type="organization",
        object_id=org.id,
        organization_id=org.id,
        method=method,
    )
    return account


async def sync_account(gateway: PaymentGateway, stripe_account_id: str) -> None:
    # The one service step that asks Stripe under a lock (the webhook job and Stripe's return
    # page): only this account's row waits, and two updates in turn store the later answer last.
    account = await PayoutAccount.select_for_update().get_or_none(
        stripe_account_id=stripe_account_id
    )
    if account is None:
        return
    connected = await gateway.retrieve_account(stripe_account_id)
    if account.payouts_enabled != connected.payouts_enabled:
        account.payouts_enabled = connected.payouts_enabled
        await account.save(update_fields=["payouts_enabled", "updated_at"])


async def bank_payout_failed(stripe_account_id: str) -> None:
    """Stripe could not move a connected account's balance to its bank: tell its members."""
    account = await PayoutAccount.get_or_none(stripe_account_id=stripe_account_id)
    if account is not None:
        await _tell_org(
            account.organization_id,
            "bank_payout_failed",
            f"/organizations/{account.organization_id}/payout-account",
            None,
        )


# --- separation of duties ------------------------------------------------------------------


class Duty(StrEnum):
    approve = "approve"
    release = "release"
    record_transfer = "record_transfer"


def duty_refusal(
    user_id: int, milestone: Milestone, duty: Duty, *, paid_member: bool
) -> ServiceError | None:
    """Why this person may not take this step of a milestone's money, or None when they may.

    Pure, so that the pages ask it to grey out a button and the service to refuse the step.
    The city role itself is checked by the routes' guards."""
    # Someone the award pays takes no step of its money, whoever took the others.
    if paid_member:
        return InterestedParty()
    # Whoever submitted the evidence may not judge it, release it or record its payment.
    if milestone.submitted_by_id == user_id:
        return OwnEvidence()
    # Four eyes on releasing: not the approver. Recording a bank transfer the approver may do.
    if duty is Duty.release and milestone.approved_by_id == user_id:
        return SameApprover()
    return None


async def paid_organizations(application: Application) -> set[int]:
    """The organizations an award pays: its lead and every accepted partner, whatever its
    share."""
    partners = await ApplicationPartner.filter(
        application_id=application.id, status=PartnerStatus.accepted
    ).values_list("organization_id", flat=True)
    return {application.organization_id, *(int(p) for p in partners)}  # type: ignore[call-overload]


async def _is_member(user_id: int, organization_ids: set[int]) -> bool:
    # Memberships as they are now in the database, not as the request loaded them: someone
    # who joined the winner a moment ago is refused already.
    return await Membership.filter(
        user_id=user_id, organization_id__in=list(organization_ids)
    ).exists()


async def _check_duty(ctx: Context, milestone: Milestone, award: Award, duty: Duty) -> None:
    assert ctx.actor.user is not None
    user_id = ctx.actor.user.id
    paid = await _is_member(user_id, await paid_organizations(award.application))
    refusal = duty_refusal(user_id, milestone, duty, paid_member=paid)
    if refusal is not None:
        raise refusal


async def applicant_organizations(challenge: Challenge) -> set[int]:
    """The organizations the challenge may pay: leads of applications not withdrawn, and
    their partners that did not decline."""
    live = Application.filter(challenge_id=challenge.id).exclude(status=ApplicationStatus.withdrawn)
    leads = await live.values_list("organization_id", flat=True)
    partners = (
        await ApplicationPartner.filter(
            application__challenge_id=challenge.id,
            application__status__not=ApplicationStatus.withdrawn,
        )
        .exclude(status=PartnerStatus.declined)
        .values_list("organization_id", flat=True)
    )
    return {int(o) for o in [*leads, *partners]}  # type: ignore[call-overload]


# --- milestones ----------------------------------------------------------------------------


async def _locked_milestone(milestone: Milestone) -> Milestone:
    # Every milestone step locks its row first, so two clicks (approve and send back, release
    # twice) are served in turn and the second meets the new state: a 409, not a second step.
    # Held until the request's transaction ends; nothing under it calls Stripe.
    return await Milestone.select_for_update().get(id=milestone.id)


def _state_conflict(milestone: Milestone) -> Conflict:
    return Conflict(
        _("This milestone is %(status)s: that step is not possible now.")
        % {"status": milestone.status.value}
    )


async def submit_evidence(ctx: Context, milestone: Milestone, *, evidence: str) -> Milestone:
    milestone = await _locked_milestone(milestone)
    # Submitted evidence may be replaced until someone approves it or sends it back.
    if milestone.status not in (M.planned, M.returned, M.submitted):
        raise _state_conflict(milestone)
    evidence = evidence.strip()
    if not evidence:
        raise ValidationFailed(fields={"evidence": _("Describe what was delivered.")})
    assert ctx.actor.user is not None
    milestone.status = MILESTONE_TRANSITIONS.check(milestone.status, M.submitted)
    milestone.evidence = evidence
    milestone.submitted_at = datetime.now(UTC)
    milestone.submitted_by_id = ctx.actor.user.id
    await milestone.save()
    award = await Award.get(id=milestone.award_id).select_related("challenge")
    await audit.record(
        ctx,
        "rewards.milestone.submit",
        object_type="milestone",
        object_id=milestone.id,
        organization_id=award.challenge.organization_id,
    )
    for user in await _members(award.challenge.organization_id, Role.manager):
        await notifications.notify(
            user,
            "milestone_submitted",
            link=f"/awards/{award.id}",
            challenge=award.challenge,
            milestone=milestone.title,
        )
    return milestone


EVIDENCE_OPEN = (M.planned, M.returned, M.submitted)
# Files a milestone's evidence may hold at once.
MAX_EVIDENCE_FILES = 20


async def add_evidence_file(
    ctx: Context, milestone: Milestone, *, name: str, stored: Any
) -> MilestoneFile:
    """A file of the evidence, while the evidence can still change (before approval)."""
    milestone = await _locked_milestone(milestone)
    if milestone.status not in EVIDENCE_OPEN:
        raise _state_conflict(milestone)
    if await MilestoneFile.filter(milestone_id=milestone.id).count() >= MAX_EVIDENCE_FILES:
        raise ValidationFailed(
            fields={"file": _("A milestone holds at most 20 files of evidence.")}
        )
    assert ctx.actor.user is not None
    row = await MilestoneFile.create(
        milestone=milestone,
        original_name=name,
        stored_name=stored.name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by_id=ctx.actor.user.id,
    )
    award = await Award.get(id=milestone.award_id).select_related("challenge")
    await audit.record(
        ctx,
        "rewards.milestone.attach",
        object_type="milestone_file",
        object_id=row.id,
        organization_id=award.challenge.organization_id,
        name=name,
        size=stored.size,
    )
    return row


async def approve(ctx: Context, milestone: Milestone) -> Milestone:
    milestone = await _locked_milestone(milestone)
    if milestone.status is not M.submitted:
        raise _state_conflict(milestone)
    assert ctx.actor.user is not None
    award = await Award.get(id=milestone.award_id).select_related("challenge", "application")
    # After the lock: the duty is judged on the milestone as it is now, not as the page saw it.
    await _check_duty(ctx, milestone, award, Duty.approve)
    milestone.status = MILESTONE_TRANSITIONS.check(milestone.status, M.approved)
    milestone.approved_at = datetime.now(UTC)
    milestone.approved_by_id = ctx.actor.user.id
    milestone.return_reason = ""
    await milestone.save()
    await audit.record(
        ctx,
        "rewards.milestone.approve",
        object_type="milestone",
        object_id=milestone.id,
        organization_id=award.challenge.organization_id,
    )
    await _tell_org(
        award.application.organization_id,
        "milestone_approved",
        f"/awards/{award.id}",
        award.challenge,
        milestone=milestone.title,
    )
    for user in await _members(award.challenge.organization_id, Role.finance):
        await notifications.notify(
            user,
            "milestone_to_release",
            link=f"/awards/{award.id}",
            challenge=award.challenge,
            milestone=milestone.title,
        )
    return milestone


async def send_back(ctx: Context, milestone: Milestone, *, reason: str) -> Milestone:
    milestone = await _locked_milestone(milestone)
    if milestone.status is not M.submitted:
        raise _state_conflict(milestone)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(fields={"reason": _("Say what is missing.")})
    milestone.status = MILESTONE_TRANSITIONS.check(milestone.status, M.returned)
    milestone.return_reason = reason
    await milestone.save()
    award = await Award.get(id=milestone.award_id).select_related("challenge", "application")
    await audit.record(
        ctx,
        "rewards.milestone.send_back",
        object_type="milestone",
        object_id=milestone.id,
        organization_id=award.challenge.organization_id,
        reason=reason,
    )
    await _tell_org(
        award.application.organization_id,
        "milestone_sent_back",
        f"/awards/{award.id}",
        award.challenge,
        milestone=milestone.title,
        reason=reason,
    )
    return milestone


@dataclass(frozen=True)
class Share:
    organization_id: int
    pct: int


async def shares_of(application: Application) -> list[Share]:
    """The lead first, then accepted partners by id: the order rounding remainders follow."""
    partners = await ApplicationPartner.filter(
        application_id=application.id, status=PartnerStatus.accepted
    ).order_by("id")
    shares = [Share(application.organization_id, application.lead_share_pct)]
    shares += [Share(p.organization_id, p.share_pct) for p in partners]
    # A partner with no share is named on the application but paid nothing.
    return [s for s in shares if s.pct > 0]


def split(amount_minor: int, percentages: list[int]) -> list[int]:
    """Split an amount by percentages that sum to 100, to the cent, losing none.

    Each part is rounded down, and the cents left over go one each to the parts with the
    largest remainders (the earlier part first on a tie).
    """
    total = sum(percentages)
    if total <= 0:
        raise ValueError("percentages must sum above zero")
    exact = [amount_minor * p for p in percentages]
    parts = [e // total for e in exact]
    left = amount_minor - sum(parts)
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] % total), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


async def release(ctx: Context, milestone: Milestone) -> list[Payout]:
    """Release an approved milestone: one payout per recipient, queued for payment."""
    # Two-factor sign-in for this step is checked before, by its rule in `permissions`.
    milestone = await _locked_milestone(milestone)
    if milestone.status is not M.approved:
        raise _state_conflict(milestone)
    assert ctx.actor.user is not None
    award = await Award.get(id=milestone.award_id).select_related("challenge", "application")
    await _check_duty(ctx, milestone, award, Duty.release)
    shares = await shares_of(award.application)
    # Released again after a payout failed or was reversed: only those shares are paid anew,
    # a recipient whose payout is still owed or already paid is not paid twice.
    taken = set(
        await Payout.filter(
            milestone_id=milestone.id,
            status__in=[P.queued, P.in_flight, P.awaiting_transfer, P.paid],
        ).values_list("organization_id", flat=True)
    )
    accounts = {
        a.organization_id: a
        for a in await PayoutAccount.filter(organization_id__in=[s.organization_id for s in shares])
    }
    missing = [
        s.organization_id
        for s in shares
        if s.organization_id not in taken and not _can_receive(accounts.get(s.organization_id))
    ]
    # All or nothing: one recipient that cannot receive yet stops the whole release.
    if missing:
        names = await Organization.filter(id__in=missing).values_list("name", flat=True)
        raise NoPayoutAccount(
            _("These recipients have no payout account that can receive money yet: %(names)s.")
            % {"names": ", ".join(sorted(str(n) for n in names))}
        )
    # Payouts are never deleted and the milestone is locked, so each release gets a new round.
    round_no = 1 + await Payout.filter(milestone_id=milestone.id).count()
    payouts: list[Payout] = []
    amounts = split(milestone.amount_minor, [s.pct for s in shares])
    for share, amount in zip(shares, amounts, strict=True):
        # A share that rounds to nothing gets no payout (the ledger refuses a zero posting).
        if amount == 0 or share.organization_id in taken:
            continue
        account = accounts[share.organization_id]
        payout = await Payout.create(
            milestone=milestone,
            organization_id=share.organization_id,
            round=round_no,
            amount_minor=amount,
            currency=milestone.currency,
            rail=account.rail,
            status=P.queued if account.rail is Rail.stripe else P.awaiting_transfer,
            # Unique per milestone, recipient and round: Stripe answers a repeat with the first
            # transfer; a new round after a failure gets a key of its own.
            idempotency_key=f"payout-{milestone.id}-{share.organization_id}-{round_no}",
        )
        await _post_release(award, payout)
        # Sent after the commit (no job for a release that rolls back); one job id per payout.
        if payout.rail is Rail.stripe:
            enqueue("rewards.pay", payout_id=payout.id, job_id=f"payout-{payout.id}")
        payouts.append(payout)
    milestone.status = MILESTONE_TRANSITIONS.check(milestone.status, M.released)
    milestone.released_at = datetime.now(UTC)
    milestone.released_by_id = ctx.actor.user.id
    await milestone.save()
    await audit.record(
        ctx,
        "rewards.milestone.release",
        object_type="milestone",
        object_id=milestone.id,
        organization_id=award.challenge.organization_id,
        payouts=[p.id for p in payouts],
    )
    if any(p.rail is Rail.bank_transfer for p in payouts):
        for user in await _members(award.challenge.organization_id, Role.finance):
            await notifications.notify(
                user,
                "bank_transfers_to_send",
                link=f"/awards/{award.id}",
                challenge=award.challenge,
                milestone=milestone.title,
            )
    return payouts


def _can_receive(account: PayoutAccount | None) -> bool:
    return account is not None and account.payouts_enabled


async def _move_payout(
    award: Award,
    payout: Payout,
    kind: TransactionKind,
    source: AccountKind,
    target: AccountKind,
    *,
    key: str = "",
    amount_minor: int | None = None,
    memo: str = "",
) -> None:
    """Move a payout's money between the award's allocation and its recipient's accounts."""

    async def account_of(account_kind: AccountKind) -> LedgerAccount:
        if account_kind is K.allocation:
            return await ledger.account(K.allocation, payout.currency, award_id=award.id)
        return await ledger.account(
            account_kind, payout.currency, organization_id=payout.organization_id, award_id=award.id
        )

    # By default one posting per payout and kind ("release:12", "payout:12"): the ledger
    # refuses a repeat. The caller holds the payout's lock.
    await ledger.move(
        key or f"{kind.value}:{payout.id}",
        kind,
        await account_of(source),
        await account_of(target),
        payout.amount_minor if amount_minor is None else amount_minor,
        challenge_id=award.challenge_id,
        city_id=award.challenge.organization_id,
        counterpart_id=payout.organization_id,
        memo=memo,
    )


async def _post_release(award: Award, payout: Payout) -> None:
    await _move_payout(award, payout, T.release, K.allocation, K.payable)


# --- paying out ----------------------------------------------------------------------------


async def _award_of(payout: Payout) -> Award:
    milestone = await Milestone.get(id=payout.milestone_id)
    return await Award.get(id=milestone.award_id).select_related("challenge", "application")


async def mark_paid(
    payout: Payout, award: Award, *, transfer_id: str | None, reference: str
) -> None:
    """The payout reached its recipient: post it, and close the milestone when all are paid."""
    payout.status = P.paid
    payout.paid_at = datetime.now(UTC)
    payout.stripe_transfer_id = transfer_id
    payout.bank_reference = reference
    payout.last_error = ""
    await payout.save()
    await _move_payout(
        award, payout, T.payout, K.payable, K.paid_out, memo=transfer_id or reference
    )
    # Payout, then milestone: of two payouts of one milestone paid at once, the second waits
    # here and sees the first one paid, so the milestone is closed once and not left open.
    milestone = await Milestone.select_for_update().get(id=payout.milestone_id)
    # Every round counts: a release after a failure pays only the failed shares.
    unpaid = await Payout.filter(
        milestone_id=milestone.id, status__in=[P.queued, P.in_flight, P.awaiting_transfer]
    ).exists()
    if milestone.status is M.released and not unpaid:
        milestone.status = MILESTONE_TRANSITIONS.check(milestone.status, M.paid)
        milestone.paid_at = datetime.now(UTC)
        await milestone.save(update_fields=["status", "paid_at"])
        await _maybe_complete(award.challenge)
    await _tell_org(
        payout.organization_id,
        "payout_sent",
        f"/awards/{award.id}",
        award.challenge,
        milestone=milestone.title,
    )


async def _maybe_complete(challenge: Challenge) -> None:
    """Every milestone of every award paid: the challenge is complete."""
    if challenge.status is not S.in_delivery:
        return
    # Locked before counting: the last two payouts, paid at once, would otherwise each see the
    # other's milestone unpaid, and neither would complete the challenge.
    locked = await Challenge.select_for_update().get(id=challenge.id)
    if locked.status is not S.in_delivery:
        return
    open_milestones = (
        await Milestone.filter(award__challenge_id=challenge.id).exclude(status=M.paid).exists()
    )
    if not open_milestones:
        from service.challenges.service import move

        await move(None, locked, S.completed, datetime.now(UTC))


async def mark_failed(payout: Payout, award: Award, *, reason: str) -> None:
    """The payout cannot be made: its money returns to the award, the milestone can be
    released again once the recipient fixes its account."""
    payout.status = P.failed
    payout.failure_reason = reason[:2000]
    await payout.save()
    await _move_payout(award, payout, T.payout_failed, K.payable, K.allocation, memo=reason)
    await _reopen_milestone(payout)
    link = f"/awards/{award.id}"
    await _tell_org(payout.organization_id, "payout_failed", link, award.challenge, reason=reason)
    await _tell_city(award.challenge, "payout_failed", link, reason=reason)


async def _reopen_milestone(payout: Payout) -> None:
    # Locked after the payout (the same order as `mark_paid`), for as long as the caller's
    # transaction. Another failed payout of the milestone may have reopened it already.
    milestone = await Milestone.select_for_update().get(id=payout.milestone_id)
    if milestone.status in (M.released, M.paid):
        milestone.status = MILESTONE_TRANSITIONS.check(milestone.status, M.approved)
        milestone.paid_at = None
        await milestone.save(update_fields=["status", "paid_at"])


# A bigint column holds what the payee received, in its currency's minor units.
_MAX_MINOR = 2**63 - 1


def _converted(amount_minor: int, currency: str, target: str, text: str) -> int | None:
    """The payout in the account's currency at `text` units of it per unit of `currency`,
    rounded half-even to its minor unit; None when `text` is no positive rate."""
    # Enough digits that neither the product nor its rounding loses a unit of a bigint.
    with localcontext() as exact:
        exact.prec = 80
        try:
            rate = Decimal(text)
            if not rate.is_finite() or rate <= 0 or len(format(rate, "f")) > 40:
                return None
            amount = (to_major(amount_minor, currency) * rate).scaleb(minor_units(target))
            whole = amount.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        except InvalidOperation:
            return None
    return int(whole) if 0 < whole <= _MAX_MINOR else None


async def record_bank_transfer(
    ctx: Context, payout: Payout, *, reference: str, rate: str = ""
) -> Payout:
    """Finance sent a manual payout's bank transfer: record its reference, and the rate used
    when the payee's account is in another currency. The rate is ignored when the currencies
    match: the payout is then sent as it is."""
    # Locked: a double click or two finance members record the transfer once; the second
    # meets a paid payout (409). Two-factor sign-in is checked before, by `permissions`.
    payout = await Payout.select_for_update().get(id=payout.id)
    if payout.status is not P.awaiting_transfer:
        raise Conflict(_("This payout is not waiting for a bank transfer."))
    problems: dict[str, str] = {}
    reference = reference.strip()
    if not reference:
        problems["reference"] = _("Enter the bank transfer's reference.")
    account = await PayoutAccount.get_or_none(organization_id=payout.organization_id)
    target = account.currency if account is not None and account.currency else payout.currency
    converted: int | None = None
    if target != payout.currency:
        rate = rate.strip()
        converted = _converted(payout.amount_minor, payout.currency, target, rate)
        if not rate:
            problems["rate"] = _("Enter the rate used: %(to)s per 1 %(base)s.") % {
                "to": target,
                "base": payout.currency,
            }
        elif converted is None:
            problems["rate"] = _("Enter the rate as a positive number, such as 1050.25.")
    if problems:
        raise ValidationFailed(fields=problems)
    if converted is not None:
        payout.transfer_currency = target
        payout.transfer_rate = format(Decimal(rate), "f")
        payout.transfer_amount_minor = converted
    milestone = await Milestone.get(id=payout.milestone_id)
    award = await Award.get(id=milestone.award_id).select_related("challenge", "application")
    await _check_duty(ctx, milestone, award, Duty.record_transfer)
    await mark_paid(payout, award, transfer_id=None, reference=reference)
    await audit.record(
        ctx,
        "rewards.payout.bank_transfer",
        object_type="payout",
        object_id=payout.id,
        organization_id=award.challenge.organization_id,
        reference=reference,
        transfer_currency=payout.transfer_currency,
        transfer_rate=payout.transfer_rate,
    )
    return payout


async def sync_transfer(settings: Settings, gateway: PaymentGateway, transfer_id: str) -> None:
    """A transfer changed at Stripe: post any reversal we have not posted yet.

    Stripe is asked before the payout's row is locked, so no lock waits on the network. The
    amount reversed only grows at Stripe and the part not yet posted is worked out under the
    lock: an answer older than one already posted finds nothing left to post. A paid payout
    stays paid or reversed, so the status read before the lock still holds under it.
    """
    found = await Payout.get_or_none(stripe_transfer_id=transfer_id)
    if found is None or found.status not in (P.paid, P.reversed):
        return
    transfer = await gateway.retrieve_transfer(transfer_id)
    # Locked until the event's transaction ends: two events for one transfer post in turn, and
    # the second finds nothing left. The milestone, if reopened, is locked after it.
    payout = await Payout.select_for_update().get(id=found.id)
    delta = transfer.amount_reversed_minor - payout.amount_reversed_minor
    if delta <= 0:
        return
    award = await _award_of(payout)
    # One posting per reversed total: the same answer handled twice posts once, and a later,
    # larger reversal posts only the difference under a key of its own.
    await _move_payout(
        award,
        payout,
        T.reversal,
        K.paid_out,
        K.allocation,
        key=f"reversal:{payout.id}:{transfer.amount_reversed_minor}",
        amount_minor=delta,
        memo=transfer_id,
    )
    payout.amount_reversed_minor = transfer.amount_reversed_minor
    # Only a full reversal reopens the milestone for a new release; a partial one stays paid.
    if transfer.amount_reversed_minor >= payout.amount_minor:
        payout.status = P.reversed
        await _reopen_milestone(payout)
    await payout.save()
    link = f"/awards/{award.id}"
    await _tell_org(
        payout.organization_id, "payout_reversed", link, award.challenge, transfer=transfer_id
    )
    await _tell_city(award.challenge, "payout_reversed", link, transfer=transfer_id)


# --- refunds -------------------------------------------------------------------------------


async def refund_unallocated(ctx: Context, challenge: Challenge) -> list[Refund]:
    """On cancelling: give the unallocated escrow back, newest funding first, by its rail."""
    # Runs in the cancellation's transaction, under its lock on the challenge: no funding or
    # award can change the escrow meanwhile. Allocated money stays for the awards.
    left = await unallocated(challenge)
    already = {
        r["funding_id"]: r
        for r in await Refund.filter(funding__challenge_id=challenge.id).values("funding_id")
    }
    pending = sum(
        int(r.amount_minor)
        for r in await Refund.filter(
            funding__challenge_id=challenge.id,
            status__in=[RefundStatus.queued, RefundStatus.awaiting_transfer],
        )
    )
    # Refunds not yet paid have not left the escrow in the ledger: not asked twice.
    left -= pending
    refunds: list[Refund] = []
    fundings = await Funding.filter(
        challenge_id=challenge.id, status=FundingStatus.succeeded
    ).order_by("-id")
    for funding in fundings:
        if left <= 0:
            break
        # At most one refund per funding, whatever its outcome.
        if funding.id in already:
            continue
        amount = min(left, funding.amount_minor)
        refund = await Refund.create(
            funding=funding,
            amount_minor=amount,
            currency=funding.currency,
            status=RefundStatus.queued
            if funding.method is Rail.stripe
            else RefundStatus.awaiting_transfer,
        )
        # Sent after the commit; the job refunds with the key "refund-<id>" (see `tasks`).
        if funding.method is Rail.stripe:
            enqueue("rewards.refund", refund_id=refund.id, job_id=f"refund-{refund.id}")
        refunds.append(refund)
        left -= amount
    if refunds:
        await audit.record(
            ctx,
            "rewards.refund",
            object_type="challenge",
            object_id=challenge.id,
            organization_id=challenge.organization_id,
            refunds=[r.id for r in refunds],
        )
        await _tell_city(challenge, "escrow_refunded", _money_link(challenge))
    return refunds


async def refund_done(refund: Refund, *, stripe_refund_id: str | None, reference: str) -> None:
    # The caller holds the refund's lock; the ledger refuses a second "refund:<id>".
    funding = await Funding.get(id=refund.funding_id)
    challenge = await Challenge.get(id=funding.challenge_id)
    refund.status = RefundStatus.paid
    refund.stripe_refund_id = stripe_refund_id
    refund.reference = reference
    refund.paid_at = datetime.now(UTC)
    await refund.save()
    escrow = await ledger.account(K.escrow, refund.currency, challenge_id=challenge.id)
    back = await ledger.account(
        K.refunded, refund.currency, organization_id=challenge.organization_id
    )
    await ledger.move(
        f"refund:{refund.id}",
        T.refund,
        escrow,
        back,
        refund.amount_minor,
        challenge_id=challenge.id,
        city_id=challenge.organization_id,
        counterpart_id=challenge.organization_id,
        memo=stripe_refund_id or reference,
    )


async def record_refund_transfer(ctx: Context, refund: Refund, *, reference: str) -> Refund:
    # Locked: a double click records the refund once; the second meets it paid (409).
    # Two-factor sign-in and the finance role are checked before, by `permissions`.
    refund = await Refund.select_for_update().get(id=refund.id)
    if refund.status is not RefundStatus.awaiting_transfer:
        raise Conflict(_("This refund is not waiting for a bank transfer."))
    reference = reference.strip()
    if not reference:
        raise ValidationFailed(fields={"reference": _("Enter the bank transfer's reference.")})
    await refund_done(refund, stripe_refund_id=None, reference=reference)
    funding = await Funding.get(id=refund.funding_id).select_related("challenge")
    await audit.record(
        ctx,
        "rewards.refund.bank_transfer",
        object_type="refund",
        object_id=refund.id,
        organization_id=funding.challenge.organization_id,
        reference=reference,
    )
    return refund
