"""Pages of the rewards area: a challenge's money panel and funding form, the public ledgers,
an award's milestones and payouts, payout accounts, and the bank transfers finance records.

Handlers have the shape of the API's: parse the form, `async with transaction()`, call the
rewards service, redirect with a notice; on an error the page is shown again with the message
next to the field or button it belongs to, and what was typed kept.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from babel.dates import format_datetime
from babel.numbers import format_currency, get_territory_currencies
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from tortoise.expressions import Subquery

from service.accounts.models import Organization
from service.accounts.permissions import (
    PERMISSIONS,
    actor_of,
    guard,
    load_organization,
    path_int,
)
from service.applications.models import Award
from service.challenges import permissions as challenge_perms
from service.challenges.attachments import file_response, received_file, size_label
from service.challenges.models import PUBLIC_STATUSES, Challenge
from service.core import i18n
from service.core.amounts import input_value, read_amount
from service.core.bodylimit import accepts_upload
from service.core.errors import NotFound, ServiceError
from service.core.forms import form_values, redirect, render
from service.core.i18n import gettext
from service.core.money import minor_units
from service.core.web import context, transaction
from service.rewards import ledger, payout_methods
from service.rewards import permissions as perms
from service.rewards import service as rewards
from service.rewards.gateway import GatewayError
from service.rewards.models import (
    Funding,
    FundingStatus,
    LedgerTransaction,
    Milestone,
    MilestoneFile,
    MilestoneStatus,
    Payout,
    PayoutAccount,
    PayoutStatus,
    Rail,
    Refund,
    RefundStatus,
)

M = MilestoneStatus
LEDGER_PAGE = 50
# The longest time zone name in the IANA database is 32 characters.
MAX_ZONE = 64


# --- labels --------------------------------------------------------------------------------


def kind_label(kind: str) -> str:
    labels = {
        "fund": gettext("Put in escrow by the city"),
        "allocate": gettext("Awarded to a winner"),
        "release": gettext("Released for payment"),
        "payout": gettext("Paid to the winner"),
        "payout_failed": gettext("Payout failed, back to the award"),
        "reversal": gettext("Payout reversed, back to the award"),
        "refund": gettext("Returned to the city"),
    }
    return labels.get(kind, kind)


def milestone_label(status: str) -> str:
    labels = {
        "planned": gettext("Planned"),
        "submitted": gettext("Evidence submitted"),
        "returned": gettext("Sent back"),
        "approved": gettext("Approved"),
        "released": gettext("Released"),
        "paid": gettext("Paid"),
    }
    return labels.get(status, status)


def payout_label(status: str) -> str:
    labels = {
        "queued": gettext("Queued for payment"),
        "in_flight": gettext("Being paid"),
        "awaiting_transfer": gettext("Waiting for the bank transfer"),
        "paid": gettext("Paid"),
        "failed": gettext("Failed"),
        "reversed": gettext("Reversed"),
    }
    return labels.get(status, status)


def rail_label(rail: str) -> str:
    labels = {"stripe": gettext("Stripe"), "bank_transfer": gettext("Bank transfer")}
    return labels.get(rail, rail)


def labels() -> dict[str, Any]:
    return {
        "kind_of_money": kind_label,
        "milestone_label": milestone_label,
        "payout_label": payout_label,
        "rail_label": rail_label,
        "file_size": size_label,
    }


def money(amount_minor: int, currency: str) -> str:
    """An amount in the reader's language, as the templates' `money` filter shows it."""
    value = Decimal(amount_minor).scaleb(-minor_units(currency))
    return format_currency(value, currency, locale=i18n.current_locale.get())


# --- helpers -------------------------------------------------------------------------------


def _allowed(request: Request, permission: str, obj: Any) -> bool:
    """Whether the acting user passes a registered rule on an object (to offer an action)."""
    return not _refusal(request, permission, obj)


def _refusal(request: Request, permission: str, obj: Any) -> str:
    """Why the acting user may not, in the reader's words; empty when they may."""
    try:
        PERMISSIONS[permission].enforce(actor_of(request), obj)
    except ServiceError as exc:
        return exc.detail
    return ""


def _message(exc: ServiceError, name: str) -> str:
    """The service's error about one field, or its whole message."""
    return exc.fields.get(name) or next(iter(exc.fields.values()), "") or exc.detail


def _text(values: dict[str, Any], name: str, limit: int) -> tuple[str, str]:
    """A text field of the form, and an error when it is longer than the column holds."""
    text = str(values.get(name, "") or "")
    return text, gettext("This is too long.") if len(text) > limit else ""


@dataclass(frozen=True)
class Zone:
    """The zone the reader asked dates in (`?tz=`), UTC by default."""

    info: zoneinfo.ZoneInfo
    name: str
    error: str = ""

    def show(self, moment: datetime) -> str:
        local = moment.astimezone(self.info)
        text = format_datetime(local, "medium", tzinfo=self.info, locale=i18n.current_locale.get())
        return f"{text} ({self.info.key})"


def zone_of(request: Request) -> Zone:
    name = request.query_params.get("tz", "").strip()
    if not name:
        return Zone(zoneinfo.ZoneInfo("UTC"), "")
    try:
        if len(name) > MAX_ZONE:
            raise ValueError(name)
        return Zone(zoneinfo.ZoneInfo(name), name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return Zone(
            zoneinfo.ZoneInfo("UTC"),
            name[:MAX_ZONE],
            gettext("This is not a time zone name. Use one such as Europe/Madrid."),
        )


def cursor_of(request: Request) -> int | None:
    text = request.query_params.get("cursor", "")
    if text.isdigit() and 0 < int(text) < 2**31:
        return int(text)
    return None


# --- the money panel of a challenge and its funding form -----------------------------------


@dataclass(frozen=True)
class MoneyPanel:
    totals: ledger.Totals
    # The viewer may record a bank transfer (or start a card payment) into escrow.
    can_fund: bool
    # Stripe is configured: card payments are offered besides bank transfers.
    card: bool
    # What the city has not yet funded (nor started to), in minor units.
    to_fund: int
    # Card payments waiting for Stripe's confirmation.
    pending: list[Funding] = field(default_factory=list)
    # Why the viewer may not record a bank transfer (a member of an applicant), or empty.
    bank_refusal: str = ""
    # The viewer is not signed in with two-factor: recording a bank transfer is not offered
    # (the rule of `rewards.fund`), the page says how to turn it on instead.
    needs_two_factor: bool = False

    @property
    def to_fund_text(self) -> str:
        """What is left to fund as the form's amount field shows it to the viewer
        ("1,500.00" in English, "1.500,00" in Spanish)."""
        return input_value(self.to_fund, self.totals.currency) if self.to_fund else ""


async def money_panel(request: Request, challenge: Challenge) -> MoneyPanel:
    """The money of a challenge as its page shows it: a constant number of queries."""
    totals = await ledger.totals(challenge.id, challenge.reward_amount_minor, challenge.currency)
    can_fund = _allowed(request, "rewards.fund", challenge) and challenge.status in rewards.FUNDABLE
    to_fund = 0
    pending: list[Funding] = []
    bank_refusal = ""
    if can_fund:
        fundings = await Funding.filter(
            challenge_id=challenge.id,
            status__in=[FundingStatus.pending, FundingStatus.succeeded],
        ).order_by("id")
        to_fund = max(challenge.reward_amount_minor - sum(f.amount_minor for f in fundings), 0)
        pending = [f for f in fundings if f.status is FundingStatus.pending]
        if await rewards.applicant_organizations(challenge) & set(actor_of(request).roles):
            bank_refusal = rewards.InterestedFunder().detail
    # (A member of an applicant is told that first: two-factor would not let them either.)
    needs_two_factor = (
        can_fund and not bank_refusal and rewards.bank_record_refusal(actor_of(request)) is not None
    )
    return MoneyPanel(
        totals=totals,
        can_fund=can_fund,
        card=request.app.state.deps.gateway.rail is Rail.stripe,
        to_fund=to_fund,
        pending=pending,
        bank_refusal=bank_refusal,
        needs_two_factor=needs_two_factor,
    )


async def _challenge_again(
    request: Request, status_code: int, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    # Imported here: the challenge page imports this module for its money panel.
    from service.challenges.pages import _render_detail

    return await _render_detail(request, status_code, fund_values=values, fund_errors=errors)


@guard("rewards.fund", load=challenge_perms.load_challenge)
async def fund_page(request: Request) -> Response:
    challenge: Challenge = request.state.obj
    values = form_values(await request.form())
    errors: dict[str, str] = {}
    method = str(values.get("method") or Rail.bank_transfer.value)
    if method not in (Rail.bank_transfer.value, Rail.stripe.value):
        errors["method"] = gettext("Choose one of the options.")
    amount = read_amount(values, "amount", challenge.currency, errors)
    reference, too_long = _text(values, "reference", 120)
    if too_long:
        errors["reference"] = too_long
    if errors or amount is None:
        return await _challenge_again(request, 422, values, errors)
    try:
        async with transaction(request):
            funding = await rewards.fund(
                context(request),
                challenge,
                request.app.state.deps.gateway,
                amount_minor=amount,
                method=Rail(method),
                reference=reference,
            )
        if funding.method is Rail.stripe:
            funding = await rewards.start_card_payment(
                context(request),
                funding,
                request.app.state.deps.gateway,
                request.app.state.deps.queue,
            )
    except ServiceError as exc:
        found = {
            {"amount_minor": "amount"}.get(key, key): message for key, message in exc.fields.items()
        }
        if "method" in found and request.app.state.deps.gateway.rail is not Rail.stripe:
            # No choice of method is shown without Stripe: the message goes on top.
            found["__root__"] = found.pop("method")
        if "amount" in found and amount > 0:
            left = (await money_panel(request, challenge)).to_fund
            found["amount"] = gettext("This is more than the reward still to fund: %(left)s.") % {
                "left": money(left, challenge.currency)
            }
        return await _challenge_again(
            request, exc.status_code, values, found or {"__root__": exc.detail}
        )
    if funding.method is Rail.stripe:
        notice = gettext(
            "Card payment started: Stripe payment intent %(intent)s. The escrow is credited "
            "when Stripe confirms the payment."
        ) % {"intent": funding.payment_intent_id}
    else:
        notice = gettext("Bank transfer of %(amount)s recorded: it is in escrow now.") % {
            "amount": money(funding.amount_minor, funding.currency)
        }
    return redirect(request, f"/challenges/{challenge.id}#money", notice=notice)


# --- the public ledgers --------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    id: int
    date: datetime
    kind: str
    amount_minor: int
    currency: str
    counterpart_id: int | None
    counterpart_name: str
    challenge_id: int
    challenge_title: str


async def ledger_lines(query: Any, cursor: int | None) -> tuple[list[Line], int | None]:
    """One page of transactions, oldest first, with their organizations and challenges named:
    three queries whatever the page's length."""
    if cursor is not None:
        query = query.filter(id__gt=cursor)
    rows = await query.order_by("id").limit(LEDGER_PAGE + 1)
    page = rows[:LEDGER_PAGE]
    names = dict(
        await Organization.filter(
            id__in={r.counterpart_id for r in page if r.counterpart_id}
        ).values_list("id", "name")
    )
    titles = dict(
        await Challenge.filter(id__in={r.challenge_id for r in page}).values_list("id", "title")
    )
    lines = [
        Line(
            id=r.id,
            date=r.created_at,
            kind=r.kind.value,
            amount_minor=r.amount_minor,
            currency=r.currency,
            counterpart_id=r.counterpart_id,
            counterpart_name=str(names.get(r.counterpart_id, "")),
            challenge_id=r.challenge_id,
            challenge_title=str(titles.get(r.challenge_id, "")),
        )
        for r in page
    ]
    return lines, (page[-1].id if len(rows) > LEDGER_PAGE else None)


async def _render_challenge_ledger(
    request: Request,
    challenge: Challenge,
    status_code: int = 200,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    zone = zone_of(request)
    cursor = cursor_of(request)
    lines, next_cursor = await ledger_lines(
        LedgerTransaction.filter(challenge_id=challenge.id), cursor
    )
    totals = await ledger.totals(challenge.id, challenge.reward_amount_minor, challenge.currency)
    # Refunds waiting for their bank transfer: the city's finance members record them here.
    refunds: list[Refund] = []
    # Finance without two-factor sign-in sees what is waiting but no form: the recording
    # rule (role and two-factor) would refuse it.
    can_record_refunds = _allowed(request, "rewards.refund.record", challenge)
    if _allowed(request, "rewards.refund.record.page", challenge):
        refunds = (
            await Refund.filter(
                funding__challenge_id=challenge.id, status=RefundStatus.awaiting_transfer
            )
            .select_related("funding")
            .order_by("id")
        )
    organization = await Organization.get(id=challenge.organization_id)
    return render(
        request,
        "rewards/ledger.html",
        status_code=status_code,
        challenge=challenge,
        organization=organization,
        lines=lines,
        next_cursor=next_cursor,
        first_page=cursor is None,
        totals=[totals],
        zone=zone,
        refunds=refunds,
        can_record_refunds=can_record_refunds,
        csv_url=f"/api/v1/challenges/{challenge.id}/ledger.csv",
        page_url=f"/challenges/{challenge.id}/ledger",
        values=values or {},
        errors=errors or {},
        **labels(),
    )


@guard("challenge.view", load=challenge_perms.load_challenge)
async def challenge_ledger_page(request: Request) -> Response:
    return await _render_challenge_ledger(request, request.state.obj)


@guard("public", load=load_organization)
async def city_ledger_page(request: Request) -> Response:
    org: Organization = request.state.obj
    zone = zone_of(request)
    cursor = cursor_of(request)
    public = Challenge.filter(
        organization_id=org.id, status__in=list(PUBLIC_STATUSES), published_at__isnull=False
    )
    lines, next_cursor = await ledger_lines(
        LedgerTransaction.filter(challenge_id__in=Subquery(public.values("id"))), cursor
    )
    return render(
        request,
        "rewards/ledger.html",
        challenge=None,
        organization=org,
        lines=lines,
        next_cursor=next_cursor,
        first_page=cursor is None,
        totals=await ledger.totals_by_currency(public),
        zone=zone,
        refunds=[],
        csv_url=f"/api/v1/organizations/{org.id}/ledger.csv",
        page_url=f"/organizations/{org.id}/ledger",
        **labels(),
    )


@guard("rewards.refund.record.page", load=perms.load_refund)
async def record_refund_page(request: Request) -> Response:
    refund: Refund = request.state.obj
    challenge: Challenge = refund.challenge  # type: ignore[attr-defined]
    values = form_values(await request.form())
    key = f"refund-{refund.id}"
    reference, error = _text(values, "reference", 120)
    status = 422
    refusal = _refusal(request, "rewards.refund.record", refund)
    if refusal:
        error, status = refusal, 403
    if not error:
        try:
            async with transaction(request):
                await rewards.record_refund_transfer(context(request), refund, reference=reference)
        except ServiceError as exc:
            error, status = _message(exc, "reference"), exc.status_code
    if error:
        return await _render_challenge_ledger(
            request, challenge, status, values={key: reference}, errors={key: error}
        )
    return redirect(
        request,
        f"/challenges/{challenge.id}/ledger",
        notice=gettext("Refund of %(amount)s recorded: the money is back with the city.")
        % {"amount": money(refund.amount_minor, refund.currency)},
    )


# --- an award's milestones and payouts -----------------------------------------------------


@dataclass
class MilestoneView:
    milestone: Milestone
    payouts: list[Payout]
    files: list[MilestoneFile] = field(default_factory=list)
    # Why the viewer may not approve, release, or record its transfers (separation of duties):
    # the page greys the button out and says so. Empty when they may.
    approve_refusal: str = ""
    release_refusal: str = ""
    record_refusal: str = ""


def _duty_refusals(
    user_id: int | None, milestone: Milestone, *, paid_member: bool
) -> dict[str, str]:
    if user_id is None:
        return {}

    def why(duty: rewards.Duty) -> str:
        refusal = rewards.duty_refusal(user_id, milestone, duty, paid_member=paid_member)
        return refusal.detail if refusal is not None else ""

    return {
        "approve_refusal": why(rewards.Duty.approve),
        "release_refusal": why(rewards.Duty.release),
        "record_refusal": why(rewards.Duty.record_transfer),
    }


async def _render_award(
    request: Request,
    award_id: int,
    status_code: int = 200,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    award = await Award.get(id=award_id).select_related("challenge", "application__organization")
    challenge: Challenge = award.challenge
    milestones = await Milestone.filter(award_id=award.id).order_by("position", "id")
    payouts = (
        await Payout.filter(milestone_id__in=[m.id for m in milestones])
        .select_related("organization")
        .order_by("id")
    )
    # The rules of a milestone depend on its award only: one stand-in answers for all.
    one = SimpleNamespace(award=award, challenge=challenge)
    private = _allowed(request, "rewards.award.private", award)
    is_finance = _allowed(request, "rewards.milestone.release.page", one)
    # Where the money goes is shown in full to finance signed in with two-factor only.
    see_bank = _allowed(request, "rewards.milestone.release", one)
    accounts: dict[int, TransferInstruction] = {}
    if is_finance and any(p.status is PayoutStatus.awaiting_transfer for p in payouts):
        accounts = {
            a.organization_id: view
            for a in await PayoutAccount.filter(
                organization_id__in=list({p.organization_id for p in payouts})
            )
            if (view := _transfer_instruction(a)) is not None
        }
    files = (
        await MilestoneFile.filter(milestone_id__in=[m.id for m in milestones]) if private else []
    )
    actor = actor_of(request)
    # The city's staff only: whether the viewer is in an organization this award pays.
    user_id = (
        actor.user.id
        if actor.user is not None and actor.role_in(challenge.organization_id) is not None
        else None
    )
    paid_member = user_id is not None and bool(
        await rewards.paid_organizations(award.application) & set(actor.roles)
    )
    views = [
        MilestoneView(
            m,
            [p for p in payouts if p.milestone_id == m.id],
            [f for f in files if f.milestone_id == m.id],
            **_duty_refusals(user_id, m, paid_member=paid_member),
        )
        for m in milestones
    ]
    return render(
        request,
        "rewards/award.html",
        status_code=status_code,
        award=award,
        challenge=challenge,
        winner=award.application.organization,
        milestones=views,
        private=private,
        can_submit=_allowed(request, "rewards.milestone.submit", one),
        can_approve=_allowed(request, "rewards.milestone.approve", one),
        is_finance=is_finance,
        see_bank=see_bank,
        # The release rule itself (role and two-factor): the button is offered only then.
        may_release=see_bank,
        mfa=actor_of(request).mfa,
        accounts=accounts,
        values=values or {},
        errors=errors or {},
        **labels(),
    )


@guard("rewards.award.view", load=perms.load_award)
async def award_page(request: Request) -> Response:
    return await _render_award(request, request.state.obj.id)


def _milestone_target(milestone: Milestone) -> str:
    return f"/awards/{milestone.award_id}#milestone-{milestone.id}"


@guard("rewards.milestone.submit", load=perms.load_milestone)
async def submit_page(request: Request) -> Response:
    milestone: Milestone = request.state.obj
    values = form_values(await request.form())
    key = f"evidence-{milestone.id}"
    evidence, error = _text(values, "evidence", 20000)
    status = 422
    if not error:
        try:
            async with transaction(request):
                await rewards.submit_evidence(context(request), milestone, evidence=evidence)
        except ServiceError as exc:
            error, status = _message(exc, "evidence"), exc.status_code
    if error:
        return await _render_award(
            request, milestone.award_id, status, values={key: evidence}, errors={key: error}
        )
    return redirect(
        request,
        _milestone_target(milestone),
        notice=gettext("Evidence submitted. The city's managers are told and will review it."),
    )


@guard("rewards.milestone.submit", load=perms.load_milestone)
@accepts_upload()
async def evidence_upload_page(request: Request) -> Response:
    """The winner attaches a file to a milestone's evidence."""
    milestone: Milestone = request.state.obj
    try:
        async with received_file(request) as received, transaction(request):
            await rewards.add_evidence_file(
                context(request), milestone, name=received.name, stored=received.stored
            )
    except ServiceError as exc:
        message = exc.fields.get("file", "")
        error = gettext(message) if message and message != "required" else exc.detail
        key = f"file-{milestone.id}"
        return await _render_award(
            request, milestone.award_id, exc.status_code, errors={key: error}
        )
    return redirect(request, _milestone_target(milestone), notice=gettext("File attached."))


@guard("rewards.milestone.view", load=perms.load_milestone)
async def evidence_download_page(request: Request) -> Response:
    row = await MilestoneFile.get_or_none(
        id=path_int(request, "evidence_id"), milestone_id=request.state.obj.id
    )
    if row is None:
        raise NotFound()
    return await file_response(
        request,
        stored_name=row.stored_name,
        content_type=row.content_type,
        filename=row.original_name,
    )


@guard("rewards.milestone.approve", load=perms.load_milestone)
async def approve_page(request: Request) -> Response:
    milestone: Milestone = request.state.obj
    try:
        async with transaction(request):
            await rewards.approve(context(request), milestone)
    except ServiceError as exc:
        return await _render_award(
            request,
            milestone.award_id,
            exc.status_code,
            errors={f"approve-{milestone.id}": exc.detail},
        )
    return redirect(
        request,
        _milestone_target(milestone),
        notice=gettext(
            "Milestone approved. The city's finance members are told and can release it."
        ),
    )


@guard("rewards.milestone.approve", load=perms.load_milestone)
async def send_back_page(request: Request) -> Response:
    milestone: Milestone = request.state.obj
    values = form_values(await request.form())
    key = f"reason-{milestone.id}"
    reason, error = _text(values, "reason", 5000)
    status = 422
    if not error:
        try:
            async with transaction(request):
                await rewards.send_back(context(request), milestone, reason=reason)
        except ServiceError as exc:
            error, status = _message(exc, "reason"), exc.status_code
    if error:
        return await _render_award(
            request, milestone.award_id, status, values={key: reason}, errors={key: error}
        )
    return redirect(
        request,
        _milestone_target(milestone),
        notice=gettext("Milestone sent back. The winner is told why."),
    )


@guard("rewards.milestone.release.page", load=perms.load_milestone)
async def release_page(request: Request) -> Response:
    milestone: Milestone = request.state.obj
    key = f"release-{milestone.id}"
    refusal = _refusal(request, "rewards.milestone.release", milestone)
    if refusal:
        return await _render_award(request, milestone.award_id, 403, errors={key: refusal})
    try:
        async with transaction(request):
            payouts = await rewards.release(context(request), milestone)
    except ServiceError as exc:
        return await _render_award(
            request, milestone.award_id, exc.status_code, errors={key: exc.detail}
        )
    if any(p.status is PayoutStatus.awaiting_transfer for p in payouts):
        notice = gettext(
            "Released. Send the bank transfers listed under the milestone and record their "
            "references."
        )
    else:
        notice = gettext("Released. The payment is on its way through Stripe.")
    return redirect(request, _milestone_target(milestone), notice=notice)


@guard("rewards.payout.record.page", load=perms.load_payout)
async def record_payout_page(request: Request) -> Response:
    payout: Payout = request.state.obj
    milestone: Milestone = payout.milestone
    values = form_values(await request.form())
    key = f"payout-{payout.id}"
    reference, error = _text(values, "reference", 120)
    rate = str(values.get("rate", "") or "")
    rate_error = ""
    status = 422
    refusal = _refusal(request, "rewards.payout.record", payout)
    if refusal:
        error, status = refusal, 403
    if not error:
        try:
            async with transaction(request):
                await rewards.record_bank_transfer(
                    context(request), payout, reference=reference, rate=rate
                )
        except ServiceError as exc:
            # The rate's error beside the rate; the reference's (or the whole refusal) beside
            # the reference.
            rate_error = exc.fields.get("rate", "")
            error = exc.fields.get("reference", "") or ("" if rate_error else exc.detail)
            status = exc.status_code
    if error or rate_error:
        return await _render_award(
            request,
            milestone.award_id,
            status,
            values={key: reference, f"{key}-rate": rate},
            errors={k: text for k, text in ((key, error), (f"{key}-rate", rate_error)) if text},
        )
    return redirect(
        request,
        _milestone_target(milestone),
        notice=gettext("Bank transfer to %(name)s recorded: the payout is paid.")
        % {"name": payout.organization.name},
    )


# --- payout accounts -----------------------------------------------------------------------


@dataclass(frozen=True)
class TransferInstruction:
    """What finance needs to send a bank transfer to a payee: every field, in full."""

    last4: str
    lines: list[tuple[str, str]]
    # The account's currency, empty when it is the challenge's: then no rate is asked.
    currency: str = ""


def _transfer_instruction(account: PayoutAccount) -> TransferInstruction | None:
    method = account.bank_method
    if not method:
        return None
    details = account.bank_details
    return TransferInstruction(
        last4=payout_methods.last4(method, details),
        lines=payout_methods.instruction(method, account.bank_holder, details),
        currency=account.currency or "",
    )


@dataclass(frozen=True)
class MethodField:
    """A field of the bank details form, in the reader's language."""

    name: str
    label: str
    example: str
    optional: bool
    choices: list[tuple[str, str]]


def _method_form(code: str) -> list[MethodField]:
    method = payout_methods.METHODS[code]
    return [
        MethodField(
            f.name,
            gettext(f.label),
            f.example,
            f.optional,
            [(value, gettext(label)) for value, label in f.choices],
        )
        for f in method.fields
    ]


def _ending_in(value: str) -> str:
    return gettext("ending in %(last4)s") % {"last4": payout_methods.tail(value)}


def _country_name(country: str) -> str:
    return str(i18n.locale_of(i18n.current_locale.get()).territories.get(country, country))


async def _render_account(
    request: Request,
    org: Organization,
    status_code: int = 200,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    returned: bool = False,
    stripe_error: str = "",
    method: str = "",
) -> Response:
    account = await PayoutAccount.get_or_none(organization_id=org.id)
    # The account's currency as saved, else the usual one of the payee's country.
    usual = get_territory_currencies(org.country) or [""]
    currency = account.currency if account is not None and account.currency else usual[0]
    own = payout_methods.methods_for(org.country)
    # The payee's country first; a payee may still hold its account in another country.
    others = [m for m in payout_methods.METHODS.values() if m not in own]
    saved = account.bank_method if account is not None else ""
    chosen = method or request.query_params.get("method", "") or saved
    if chosen not in payout_methods.METHODS:
        chosen = own[0].code
    current: list[tuple[str, str]] = []
    if account is not None and saved:
        labelled = {f.name: gettext(f.label) for f in payout_methods.METHODS[saved].fields}
        current = [
            (labelled[name], text)
            for name, text in payout_methods.shown(saved, account.bank_details, _ending_in)
        ]
    return render(
        request,
        "rewards/payout_account.html",
        status_code=status_code,
        org=org,
        account=account,
        can_manage=_allowed(request, "rewards.payout_account", org),
        card=request.app.state.deps.gateway.rail is Rail.stripe,
        returned=returned,
        stripe_error=stripe_error,
        values=values or {},
        errors=errors or {},
        country_name=_country_name(org.country),
        own_methods=[(m.code, gettext(m.label)) for m in own],
        other_methods=[(m.code, gettext(m.label)) for m in others],
        method=chosen,
        method_label=gettext(payout_methods.METHODS[chosen].label),
        method_fields=_method_form(chosen),
        current_method=gettext(payout_methods.METHODS[saved].label) if saved else "",
        current=current,
        currency=currency,
        **labels(),
    )


@guard("rewards.payout_account.view", load=load_organization)
async def payout_account_page(request: Request) -> Response:
    return await _render_account(request, request.state.obj)


@guard("rewards.payout_account", load=load_organization)
async def bank_details_page(request: Request) -> Response:
    org: Organization = request.state.obj
    values = form_values(await request.form())
    texts = {name: value for name, value in values.items() if isinstance(value, str)}
    # Without a method the form is the first one, which asked for an IBAN only.
    method = texts.get("method") or "iban"
    try:
        async with transaction(request):
            account = await rewards.set_bank_account(
                context(request),
                org,
                holder=texts.get("holder", ""),
                method=method,
                values=texts,
                currency=texts.get("currency", ""),
            )
    except ServiceError as exc:
        errors = exc.fields or {"__root__": exc.detail}
        return await _render_account(
            request, org, exc.status_code, values=values, errors=errors, method=method
        )
    return redirect(
        request,
        f"/organizations/{org.id}/payout-account",
        notice=gettext(
            "Bank details saved. Payouts to %(name)s go to the account ending in %(last4)s."
        )
        % {
            "name": org.name,
            "last4": payout_methods.last4(account.bank_method, account.bank_details),
        },
    )


async def _onboarding(request: Request, org: Organization) -> Response:
    """Send the user to Stripe's onboarding, or show why not."""
    ctx = context(request)
    assert ctx.actor.user is not None
    try:
        async with transaction(request):
            url = await rewards.connect_stripe(
                ctx, org, request.app.state.deps.gateway, email=ctx.actor.user.email
            )
    except ServiceError as exc:
        return await _render_account(
            request, org, exc.status_code, stripe_error=_message(exc, "rail")
        )
    return RedirectResponse(url, status_code=303)


@guard("rewards.payout_account", load=load_organization)
async def connect_page(request: Request) -> Response:
    return await _onboarding(request, request.state.obj)


@guard("rewards.payout_account", load=load_organization)
async def refresh_page(request: Request) -> Response:
    """Stripe sends the user here when an onboarding link expired: make a new one. A link
    anyone could send, so it only renews the onboarding of an account that exists."""
    org: Organization = request.state.obj
    account = await PayoutAccount.get_or_none(organization_id=org.id)
    if account is None or not account.stripe_account_id:
        return await _render_account(
            request,
            org,
            409,
            stripe_error=gettext("There is no Stripe onboarding to continue: start it below."),
        )
    return await _onboarding(request, org)


@guard("rewards.payout_account", load=load_organization)
async def return_page(request: Request) -> Response:
    """Stripe sends the user back here: read the account's state from Stripe again."""
    org: Organization = request.state.obj
    account = await PayoutAccount.get_or_none(organization_id=org.id)
    gateway = request.app.state.deps.gateway
    error = ""
    if account is not None and account.stripe_account_id and gateway.rail is Rail.stripe:
        try:
            async with transaction(request):
                await rewards.sync_account(gateway, account.stripe_account_id)
        except GatewayError:
            error = gettext(
                "Stripe could not be reached, so the state shown may be out of date. Reload "
                "this page in a moment."
            )
    return await _render_account(request, org, returned=True, stripe_error=error)


routes: list[BaseRoute] = [
    Route("/challenges/{challenge_id:int}/funding", fund_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/ledger", challenge_ledger_page, methods=["GET"]),
    Route("/organizations/{organization_id:int}/ledger", city_ledger_page, methods=["GET"]),
    Route("/refunds/{refund_id:int}/bank-transfer", record_refund_page, methods=["POST"]),
    Route("/awards/{award_id:int}", award_page, methods=["GET"]),
    Route("/milestones/{milestone_id:int}/submit", submit_page, methods=["POST"]),
    Route("/milestones/{milestone_id:int}/files", evidence_upload_page, methods=["POST"]),
    Route(
        "/milestones/{milestone_id:int}/files/{evidence_id:int}",
        evidence_download_page,
        methods=["GET"],
    ),
    Route("/milestones/{milestone_id:int}/approve", approve_page, methods=["POST"]),
    Route("/milestones/{milestone_id:int}/send-back", send_back_page, methods=["POST"]),
    Route("/milestones/{milestone_id:int}/release", release_page, methods=["POST"]),
    Route("/payouts/{payout_id:int}/bank-transfer", record_payout_page, methods=["POST"]),
    Route(
        "/organizations/{organization_id:int}/payout-account",
        payout_account_page,
        methods=["GET"],
    ),
    Route(
        "/organizations/{organization_id:int}/payout-account",
        bank_details_page,
        methods=["POST"],
    ),
    Route(
        "/organizations/{organization_id:int}/payout-account/stripe",
        connect_page,
        methods=["POST"],
    ),
    Route(
        "/organizations/{organization_id:int}/payout-account/return",
        return_page,
        methods=["GET"],
    ),
    Route(
        "/organizations/{organization_id:int}/payout-account/refresh",
        refresh_page,
        methods=["GET"],
    ),
]
