"""Rewards API: funding, payout accounts, milestones, payouts, refunds, the public ledger, and
Stripe's webhooks."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from spectree import Response as Doc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts.models import Organization
from service.accounts.permissions import guard, load_organization, path_int
from service.challenges import permissions as challenge_perms
from service.challenges.attachments import file_response, received_file
from service.challenges.models import Challenge
from service.core import csv_export
from service.core.api import ErrorOut, api, json
from service.core.bodylimit import accepts_upload
from service.core.errors import BadRequest, NotFound
from service.core.i18n import gettext
from service.core.web import context, transaction
from service.rewards import ledger, payout_methods, schemas
from service.rewards import permissions as perms
from service.rewards import service as rewards
from service.rewards.gateway import InvalidSignature
from service.rewards.models import (
    Funding,
    LedgerTransaction,
    Milestone,
    MilestoneFile,
    Payout,
    PayoutAccount,
    Rail,
    Refund,
    WebhookEvent,
)

V1 = "/api/v1"
SECURED: dict[str, list[str]] = {"bearer": []}


class LedgerQuery(BaseModel):
    cursor: int | None = Field(default=None, ge=1, le=2**31 - 1, description="From next_cursor")
    limit: int = Field(default=50, ge=1, le=200)


# --- funding -------------------------------------------------------------------------------


def funding_out(funding: Funding, *, with_secret: bool = False) -> schemas.FundingOut:
    return schemas.FundingOut(
        id=funding.id,
        challenge_id=funding.challenge_id,
        amount_minor=funding.amount_minor,
        currency=funding.currency,
        method=funding.method.value,
        reference=funding.reference,
        status=funding.status.value,
        payment_intent_id=funding.payment_intent_id,
        client_secret=funding.client_secret if with_secret else None,
        created_at=funding.created_at,
    )


async def totals_of(challenge: Challenge) -> schemas.TotalsOut:
    t = await ledger.totals(challenge.id, challenge.reward_amount_minor, challenge.currency)
    return schemas.TotalsOut(
        challenge_id=challenge.id,
        currency=t.currency,
        committed_minor=t.committed,
        escrowed_minor=t.escrowed,
        allocated_minor=t.allocated,
        paid_minor=t.paid,
        refunded_minor=t.refunded,
        remaining_minor=t.remaining,
        funded=t.funded,
    )


@guard("rewards.fund", load=challenge_perms.load_challenge)
@api.validate(
    json=schemas.FundingIn,
    resp=Doc(
        HTTP_201=schemas.FundingOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
        HTTP_502=ErrorOut,
    ),
    tags=["rewards"],
    security=SECURED,
)
async def fund(request: Request, json: schemas.FundingIn) -> Response:
    """Fund the challenge's escrow: a recorded bank transfer, or a Stripe payment intent
    (escrowed when Stripe confirms the payment)."""
    async with transaction(request):
        funding = await rewards.fund(
            context(request),
            request.state.obj,
            request.app.state.deps.gateway,
            amount_minor=json.amount_minor,
            method=Rail(json.method),
            reference=json.reference,
        )
    if funding.method is Rail.stripe:
        funding = await rewards.start_card_payment(
            context(request), funding, request.app.state.deps.gateway, request.app.state.deps.queue
        )
    return _json(funding_out(funding, with_secret=True), 201)


@guard("challenge.view", load=challenge_perms.load_challenge)
@api.validate(resp=Doc(HTTP_200=schemas.TotalsOut, HTTP_404=ErrorOut), tags=["rewards"])
async def money(request: Request) -> Response:
    """The challenge's money: committed, escrowed, allocated, paid, refunded and remaining."""
    return _json(await totals_of(request.state.obj))


# --- the public ledger ---------------------------------------------------------------------


async def _lines(query: Any, cursor: int | None, limit: int) -> tuple[list[Any], str | None]:
    if cursor is not None:
        query = query.filter(id__gt=cursor)
    rows = await query.order_by("id").limit(limit + 1)
    names = dict(
        await Organization.filter(
            id__in={r.counterpart_id for r in rows if r.counterpart_id}
        ).values_list("id", "name")
    )
    items = [
        schemas.LedgerLineOut(
            id=r.id,
            date=r.created_at,
            kind=r.kind.value,
            amount_minor=r.amount_minor,
            currency=r.currency,
            counterpart_organization_id=r.counterpart_id,
            counterpart_name=names.get(r.counterpart_id),
            # Only the provider's own ids are public; bank references may carry private data.
            memo=r.memo if r.memo.startswith(("tr_", "re_", "pi_")) else "",
        )
        for r in rows[:limit]
    ]
    return items, (str(rows[limit - 1].id) if len(rows) > limit else None)


@guard("challenge.view", load=challenge_perms.load_challenge)
@api.validate(
    query=LedgerQuery, resp=Doc(HTTP_200=schemas.LedgerOut, HTTP_404=ErrorOut), tags=["rewards"]
)
async def challenge_ledger(request: Request, query: LedgerQuery) -> Response:
    """Every ledger transaction of the challenge, oldest first, with its totals (public)."""
    challenge = request.state.obj
    items, cursor = await _lines(
        LedgerTransaction.filter(challenge_id=challenge.id), query.cursor, query.limit
    )
    return _json(
        schemas.LedgerOut(items=items, next_cursor=cursor, totals=[await totals_of(challenge)])
    )


async def _public_challenges_of(org: Organization) -> list[Challenge]:
    from service.challenges.models import PUBLIC_STATUSES

    return await Challenge.filter(
        organization_id=org.id,
        status__in=list(PUBLIC_STATUSES),
        published_at__isnull=False,
    ).order_by("id")


@guard("public", load=load_organization)
@api.validate(
    query=LedgerQuery, resp=Doc(HTTP_200=schemas.LedgerOut, HTTP_404=ErrorOut), tags=["rewards"]
)
async def city_ledger(request: Request, query: LedgerQuery) -> Response:
    """Every ledger transaction of the city's published challenges, with totals (public)."""
    challenges = await _public_challenges_of(request.state.obj)
    items, cursor = await _lines(
        LedgerTransaction.filter(challenge_id__in=[c.id for c in challenges]),
        query.cursor,
        query.limit,
    )
    totals = [await totals_of(c) for c in challenges]
    return _json(schemas.LedgerOut(items=items, next_cursor=cursor, totals=totals))


CSV_COLUMNS = [
    "id",
    "date",
    "challenge_id",
    "kind",
    "amount_minor",
    "currency",
    "counterpart_organization_id",
    "counterpart_name",
]


async def ledger_csv(transactions: Any, filename: str) -> Response:
    rows = await transactions.order_by("id")
    names = dict(
        await Organization.filter(
            id__in={r.counterpart_id for r in rows if r.counterpart_id}
        ).values_list("id", "name")
    )
    lines = (
        [
            r.id,
            r.created_at.isoformat(),
            r.challenge_id,
            r.kind.value,
            r.amount_minor,
            r.currency,
            r.counterpart_id or "",
            names.get(r.counterpart_id, ""),
        ]
        for r in rows
    )
    return csv_export.response(csv_export.write(CSV_COLUMNS, lines), filename)


CSV_DOC = Doc(HTTP_200=(None, "The ledger as CSV (text/csv)"), HTTP_404=ErrorOut)


@guard("challenge.view", load=challenge_perms.load_challenge)
@api.validate(resp=CSV_DOC, tags=["rewards"], skip_validation=True)
async def challenge_ledger_csv(request: Request) -> Response:
    """The challenge's ledger as CSV (columns: see the open data page)."""
    challenge = request.state.obj
    return await ledger_csv(
        LedgerTransaction.filter(challenge_id=challenge.id), f"ledger-challenge-{challenge.id}.csv"
    )


@guard("public", load=load_organization)
@api.validate(resp=CSV_DOC, tags=["rewards"], skip_validation=True)
async def city_ledger_csv(request: Request) -> Response:
    """The city's ledger as CSV."""
    org = request.state.obj
    challenges = await _public_challenges_of(org)
    return await ledger_csv(
        LedgerTransaction.filter(challenge_id__in=[c.id for c in challenges]),
        f"ledger-city-{org.id}.csv",
    )


# --- payout accounts -----------------------------------------------------------------------


def payout_account_out(
    org_id: int, account: PayoutAccount | None, url: str | None = None
) -> schemas.PayoutAccountOut:
    method = account.bank_method if account else ""
    details = account.bank_details if account else {}
    known = payout_methods.METHODS.get(method)
    return schemas.PayoutAccountOut(
        organization_id=org_id,
        rail=account.rail.value if account else None,
        payouts_enabled=bool(account and account.payouts_enabled),
        stripe_account_id=account.stripe_account_id if account else None,
        bank_holder=account.bank_holder if account else "",
        bank_iban_last4=details.get("iban", "")[-4:] if method == "iban" else "",
        method=method,
        method_label=gettext(known.label) if known else "",
        account_last4=payout_methods.last4(method, details),
        currency=account.currency if account else None,
        # Never the whole number again: secrets by their last four only.
        details=dict(payout_methods.shown(method, details)),
        onboarding_url=url,
    )


@guard("rewards.payout_account", load=load_organization)
@api.validate(
    json=schemas.PayoutAccountIn,
    resp=Doc(
        HTTP_200=schemas.PayoutAccountOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut, HTTP_502=ErrorOut
    ),
    tags=["rewards"],
    security=SECURED,
)
async def set_payout_account(request: Request, json: schemas.PayoutAccountIn) -> Response:
    """Connect a Stripe Express account (answers the onboarding link) or enter bank details."""
    org = request.state.obj
    ctx = context(request)
    url = None
    async with transaction(request):
        if json.rail == "stripe":
            assert ctx.actor.user is not None
            url = await rewards.connect_stripe(
                ctx, org, request.app.state.deps.gateway, email=ctx.actor.user.email
            )
        else:
            fields = {
                # A number sent as a JSON number is read as its digits; the validators say
                # whether it is one.
                name: str(value) if isinstance(value, str | int) else ""
                for name, value in (json.model_extra or {}).items()
            }
            await rewards.set_bank_account(
                ctx,
                org,
                holder=json.holder,
                method=json.method,
                values={**fields, "iban": json.iban, "bic": json.bic},
                currency=json.currency,
            )
    account = await PayoutAccount.get_or_none(organization_id=org.id)
    return _json(payout_account_out(org.id, account, url))


@guard("rewards.payout_account.view", load=load_organization)
@api.validate(
    resp=Doc(HTTP_200=schemas.PayoutAccountOut, HTTP_404=ErrorOut),
    tags=["rewards"],
    security=SECURED,
)
async def get_payout_account(request: Request) -> Response:
    """Where the organization's payouts go, and whether they can be paid now."""
    org = request.state.obj
    return _json(
        payout_account_out(org.id, await PayoutAccount.get_or_none(organization_id=org.id))
    )


# --- milestones and payouts ----------------------------------------------------------------


def payout_out(payout: Payout, name: str) -> schemas.PayoutOut:
    return schemas.PayoutOut(
        id=payout.id,
        milestone_id=payout.milestone_id,
        organization_id=payout.organization_id,
        organization_name=name,
        amount_minor=payout.amount_minor,
        currency=payout.currency,
        rail=payout.rail.value,
        status=payout.status.value,
        stripe_transfer_id=payout.stripe_transfer_id,
        bank_reference=payout.bank_reference,
        transfer_currency=payout.transfer_currency,
        transfer_rate=payout.transfer_rate,
        transfer_amount_minor=payout.transfer_amount_minor,
        failure_reason=payout.failure_reason,
        attempts=payout.attempts,
        created_at=payout.created_at,
        paid_at=payout.paid_at,
    )


async def milestone_out(milestone: Milestone) -> schemas.MilestoneDetailOut:
    payouts = await Payout.filter(milestone_id=milestone.id).select_related("organization")
    files = await MilestoneFile.filter(milestone_id=milestone.id)
    return schemas.MilestoneDetailOut(
        id=milestone.id,
        award_id=milestone.award_id,
        title=milestone.title,
        amount_minor=milestone.amount_minor,
        currency=milestone.currency,
        due_at=milestone.due_at,
        status=milestone.status.value,
        evidence=milestone.evidence,
        submitted_at=milestone.submitted_at,
        return_reason=milestone.return_reason,
        approved_at=milestone.approved_at,
        released_at=milestone.released_at,
        paid_at=milestone.paid_at,
        files=[
            schemas.EvidenceFileOut(
                id=f.id,
                name=f.original_name,
                content_type=f.content_type,
                size=f.size,
                created_at=f.created_at,
            )
            for f in files
        ],
        payouts=[payout_out(p, p.organization.name) for p in payouts],
    )


@guard("rewards.milestone.view", load=perms.load_milestone)
@api.validate(
    resp=Doc(HTTP_200=schemas.MilestoneDetailOut, HTTP_404=ErrorOut),
    tags=["rewards"],
    security=SECURED,
)
async def get_milestone(request: Request) -> Response:
    """A milestone with its evidence and payouts (the city and the recipient)."""
    return _json(await milestone_out(request.state.obj))


_MILESTONE_DOC = Doc(
    HTTP_200=schemas.MilestoneDetailOut,
    HTTP_403=ErrorOut,
    HTTP_404=ErrorOut,
    HTTP_409=ErrorOut,
    HTTP_422=ErrorOut,
)


@guard("rewards.milestone.submit", load=perms.load_milestone)
@api.validate(json=schemas.EvidenceIn, resp=_MILESTONE_DOC, tags=["rewards"], security=SECURED)
async def submit_milestone(request: Request, json: schemas.EvidenceIn) -> Response:
    """The winner submits evidence of delivery (again, after it was sent back)."""
    async with transaction(request):
        milestone = await rewards.submit_evidence(
            context(request), request.state.obj, evidence=json.evidence
        )
    return _json(await milestone_out(milestone))


@guard("rewards.milestone.approve", load=perms.load_milestone)
@api.validate(resp=_MILESTONE_DOC, tags=["rewards"], security=SECURED)
async def approve_milestone(request: Request) -> Response:
    """A city manager approves the evidence."""
    async with transaction(request):
        milestone = await rewards.approve(context(request), request.state.obj)
    return _json(await milestone_out(milestone))


@guard("rewards.milestone.approve", load=perms.load_milestone)
@api.validate(json=schemas.SendBackIn, resp=_MILESTONE_DOC, tags=["rewards"], security=SECURED)
async def send_back_milestone(request: Request, json: schemas.SendBackIn) -> Response:
    """A city manager sends the evidence back with a reason."""
    async with transaction(request):
        milestone = await rewards.send_back(context(request), request.state.obj, reason=json.reason)
    return _json(await milestone_out(milestone))


@guard("rewards.milestone.release", load=perms.load_milestone)
@api.validate(resp=_MILESTONE_DOC, tags=["rewards"], security=SECURED)
async def release_milestone(request: Request) -> Response:
    """A finance member other than the approver, with two-factor, releases the money: one
    payout per recipient, paid by the worker (Stripe) or by a recorded bank transfer."""
    async with transaction(request):
        await rewards.release(context(request), request.state.obj)
    milestone = await Milestone.get(id=request.state.obj.id)
    return _json(await milestone_out(milestone))


@guard("rewards.milestone.submit", load=perms.load_milestone)
@api.validate(
    resp=Doc(
        HTTP_201=schemas.EvidenceFileOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_413=ErrorOut,
        HTTP_415=ErrorOut,
        HTTP_422=ErrorOut,
    ),
    tags=["rewards"],
    security=SECURED,
)
@accepts_upload()
async def add_evidence_file(request: Request) -> Response:
    """Attach a file to the milestone's evidence (multipart, field `file`)."""
    async with received_file(request) as received, transaction(request):
        row = await rewards.add_evidence_file(
            context(request), request.state.obj, name=received.name, stored=received.stored
        )
    return _json(
        schemas.EvidenceFileOut(
            id=row.id,
            name=row.original_name,
            content_type=row.content_type,
            size=row.size,
            created_at=row.created_at,
        ),
        201,
    )


@guard("rewards.milestone.view", load=perms.load_milestone)
@api.validate(
    resp=Doc(HTTP_200=(None, "The file, as a download"), HTTP_404=ErrorOut),
    tags=["rewards"],
    security=SECURED,
    # A file, not a JSON body: nothing for the validator to read.
    skip_validation=True,
)
async def evidence_file(request: Request) -> Response:
    """Download a file of the milestone's evidence (the city and the recipient)."""
    row = await MilestoneFile.get_or_none(
        id=path_int(request, "evidence_id"), milestone_id=request.state.obj.id
    )
    if row is None:
        raise NotFound("No such file.")
    return await file_response(
        request,
        stored_name=row.stored_name,
        content_type=row.content_type,
        filename=row.original_name,
    )


@guard("rewards.payout.view", load=perms.load_payout)
@api.validate(
    resp=Doc(HTTP_200=schemas.PayoutOut, HTTP_404=ErrorOut), tags=["rewards"], security=SECURED
)
async def get_payout(request: Request) -> Response:
    """A payout's state: queued, in flight, awaiting a bank transfer, paid, failed, reversed."""
    payout = request.state.obj
    return _json(payout_out(payout, payout.organization.name))


@guard("rewards.payout.record", load=perms.load_payout)
@api.validate(
    json=schemas.PayoutTransferIn,
    resp=Doc(
        HTTP_200=schemas.PayoutOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
    ),
    tags=["rewards"],
    security=SECURED,
)
async def record_payout_transfer(request: Request, json: schemas.PayoutTransferIn) -> Response:
    """Finance records the bank transfer of a manual-rail payout (and the rate used when the
    payee's account is in another currency)."""
    async with transaction(request):
        payout = await rewards.record_bank_transfer(
            context(request), request.state.obj, reference=json.reference, rate=json.rate
        )
    return _json(payout_out(payout, request.state.obj.organization.name))


@guard("rewards.refund.record", load=perms.load_refund)
@api.validate(
    json=schemas.ReferenceIn,
    resp=Doc(HTTP_200=schemas.RefundOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut),
    tags=["rewards"],
    security=SECURED,
)
async def record_refund_transfer(request: Request, json: schemas.ReferenceIn) -> Response:
    """Finance records the bank transfer that returned escrow to the city."""
    async with transaction(request):
        refund = await rewards.record_refund_transfer(
            context(request), request.state.obj, reference=json.reference
        )
    return _json(refund_out(refund))


def refund_out(refund: Refund) -> schemas.RefundOut:
    return schemas.RefundOut(
        id=refund.id,
        funding_id=refund.funding_id,
        amount_minor=refund.amount_minor,
        currency=refund.currency,
        status=refund.status.value,
        reference=refund.reference,
    )


# --- Stripe webhooks -----------------------------------------------------------------------


@guard("public")
@api.validate(resp=Doc(HTTP_200=schemas.WebhookOut, HTTP_400=ErrorOut), tags=["rewards"])
async def stripe_webhook(request: Request) -> Response:
    """Stripe's events: the signature is checked (within the tolerance window, either side of
    now), each event id is stored once, and a job handles it."""
    payload = await request.body()
    try:
        event = request.app.state.deps.gateway.verify_event(
            payload, request.headers.get("stripe-signature", "")
        )
    except InvalidSignature as exc:
        raise BadRequest(f"Invalid signature: {exc}") from None
    data = event.get("data") or {}
    obj = data.get("object") if isinstance(data, dict) else None
    object_id = str(obj.get("id") or "") if isinstance(obj, dict) else ""
    async with transaction(request):
        stored, created = await WebhookEvent.get_or_create(
            event_id=str(event["id"])[:120],
            defaults={
                "type": str(event["type"])[:80],
                "object_id": object_id[:120],
                "payload": event,
            },
        )
        if created:
            from service.core.jobs import enqueue

            enqueue("rewards.handle_event", event_id=stored.id, job_id=f"stripe-{stored.id}")
    return _json(schemas.WebhookOut(received=True, duplicate=not created))


def _json(model: Any, status: int = 200) -> Response:
    return json(model, status)


routes = [
    Route(f"{V1}/challenges/{{challenge_id:int}}/funding", fund, methods=["POST"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}/money", money, methods=["GET"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}/ledger", challenge_ledger, methods=["GET"]),
    Route(
        f"{V1}/challenges/{{challenge_id:int}}/ledger.csv", challenge_ledger_csv, methods=["GET"]
    ),
    Route(f"{V1}/organizations/{{organization_id:int}}/ledger", city_ledger, methods=["GET"]),
    Route(
        f"{V1}/organizations/{{organization_id:int}}/ledger.csv", city_ledger_csv, methods=["GET"]
    ),
    Route(
        f"{V1}/organizations/{{organization_id:int}}/payout-account",
        set_payout_account,
        methods=["POST"],
    ),
    Route(
        f"{V1}/organizations/{{organization_id:int}}/payout-account",
        get_payout_account,
        methods=["GET"],
    ),
    Route(f"{V1}/milestones/{{milestone_id:int}}", get_milestone, methods=["GET"]),
    Route(f"{V1}/milestones/{{milestone_id:int}}/submit", submit_milestone, methods=["POST"]),
    Route(f"{V1}/milestones/{{milestone_id:int}}/files", add_evidence_file, methods=["POST"]),
    Route(
        f"{V1}/milestones/{{milestone_id:int}}/files/{{evidence_id:int}}",
        evidence_file,
        methods=["GET"],
    ),
    Route(f"{V1}/milestones/{{milestone_id:int}}/approve", approve_milestone, methods=["POST"]),
    Route(f"{V1}/milestones/{{milestone_id:int}}/send-back", send_back_milestone, methods=["POST"]),
    Route(f"{V1}/milestones/{{milestone_id:int}}/release", release_milestone, methods=["POST"]),
    Route(f"{V1}/payouts/{{payout_id:int}}", get_payout, methods=["GET"]),
    Route(
        f"{V1}/payouts/{{payout_id:int}}/bank-transfer", record_payout_transfer, methods=["POST"]
    ),
    Route(
        f"{V1}/refunds/{{refund_id:int}}/bank-transfer", record_refund_transfer, methods=["POST"]
    ),
    Route(f"{V1}/webhooks/stripe", stripe_webhook, methods=["POST"]),
]
