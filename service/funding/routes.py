"""API of the funding rounds area: rounds, ballots, outcomes, overrides and a voter's share.

Public reads show published rounds; a ballot is read back by its voter only while the round
is open, and by its receipt code after the count (nobody else can tell whose it is).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spectree import Response as Doc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts.permissions import guard
from service.core.api import ErrorOut, api, json
from service.core.web import context, transaction
from service.funding import permissions as perms
from service.funding import schemas
from service.funding import service as funding
from service.funding.models import Candidate, FundingRound, Override, RoundStatus

V1 = "/api/v1"
SECURED: dict[str, list[str]] = {"bearer": []}
TAGS = ["funding rounds"]
ROUND = f"{V1}/funding-rounds/{{round_id:int}}"


def _doc(ok: int, model: Any, *codes: int) -> Doc:
    extra = {f"HTTP_{c}": ErrorOut for c in codes}
    return Doc(**{f"HTTP_{ok}": model}, **extra)


def candidate_out(c: Candidate) -> schemas.CandidateOut:
    return schemas.CandidateOut(
        id=c.id,
        position=c.position,
        challenge_id=c.challenge_id,
        title=c.title,
        summary=c.summary,
        cost_minor=c.cost_minor,
        votes=c.votes,
        funded=c.funded.value,
        equal_shares=c.plain_funded,
        greedy=c.greedy_funded,
        price=c.price,
        full_payers=c.full_payers,
        partial_payers=c.partial_payers,
        reserved_minor=c.reserved_minor,
        override=c.override.value,
        override_reason=c.override_reason,
    )


async def round_out(rnd: FundingRound, now: datetime | None = None) -> schemas.RoundOut:
    candidates = await funding.candidates_of(rnd)
    return schemas.RoundOut(
        id=rnd.id,
        organization_id=rnd.organization_id,
        title=rnd.title,
        description=rnd.description,
        region=rnd.region,
        budget_minor=rnd.budget_minor,
        currency=rnd.currency,
        ballot_kind=rnd.ballot_kind.value,
        max_approvals=rnd.max_approvals,
        require_oidc=rnd.require_oidc,
        opens_at=rnd.opens_at,
        closes_at=rnd.closes_at,
        state=funding.state_of(rnd, now),  # type: ignore[arg-type]
        voters=rnd.voters,
        share=rnd.share,
        base_share=rnd.base_share,
        reserved_minor=funding.reserved(candidates),
        candidates=[candidate_out(c) for c in candidates],
    )


@guard("funding.round.create", load=perms.load_organization_in_body)
@api.validate(
    json=schemas.RoundIn,
    resp=_doc(201, schemas.RoundOut, 403, 404, 422),
    tags=TAGS,
    security=SECURED,
)
async def create_round(request: Request, json: schemas.RoundIn) -> Response:
    """A city's manager drafts a funding round: budget, candidates (its challenge drafts, each
    costing its reward), who may vote and when."""
    async with transaction(request):
        rnd = await funding.create_round(context(request), request.state.obj, json)
    return _json(await round_out(rnd), 201)


@guard("funding.public")
@api.validate(query=schemas.ListQuery, resp=_doc(200, schemas.RoundPage), tags=TAGS)
async def list_rounds(request: Request, query: schemas.ListQuery) -> Response:
    """Published funding rounds, newest first by id (public)."""
    rows = FundingRound.exclude(status=RoundStatus.draft)
    if query.cursor is not None:
        rows = rows.filter(id__lt=query.cursor)
    found = await rows.order_by("-id").limit(query.limit + 1)
    page = found[: query.limit]
    cursor = str(page[-1].id) if len(found) > query.limit else None
    return _json(schemas.RoundPage(items=[await round_out(r) for r in page], next_cursor=cursor))


@guard("funding.round.view", load=perms.load_round)
@api.validate(resp=_doc(200, schemas.RoundOut, 404), tags=TAGS)
async def get_round(request: Request) -> Response:
    """A round with its candidates and, once counted, its outcome (public once published)."""
    return _json(await round_out(request.state.obj))


@guard("funding.round.manage", load=perms.load_round)
@api.validate(resp=_doc(200, schemas.RoundOut, 404, 409, 422), tags=TAGS, security=SECURED)
async def publish_round(request: Request) -> Response:
    """The city's manager publishes the round: voting opens and closes on its dates."""
    async with transaction(request):
        rnd = await funding.publish(context(request), request.state.obj)
    return _json(await round_out(rnd))


@guard("funding.round.vote", load=perms.load_round)
@api.validate(
    json=schemas.BallotIn,
    resp=_doc(200, schemas.ReceiptOut, 403, 404, 409, 422),
    tags=TAGS,
    security=SECURED,
)
async def put_ballot(request: Request, json: schemas.BallotIn) -> Response:
    """Cast or change one's ballot until the close. The answer holds a new receipt code, shown
    once: after the count the ballot no longer names its voter, and the code finds it."""
    async with transaction(request):
        ballot, code = await funding.cast(
            context(request),
            request.state.obj,
            candidate_ids=json.candidate_ids,
            resident=json.resident,
        )
    return _json(
        schemas.ReceiptOut(receipt_code=code, receipt=ballot.receipt, candidate_ids=ballot.choices)
    )


@guard("funding.round.vote", load=perms.load_round)
@api.validate(resp=_doc(200, schemas.MyBallotOut, 404), tags=TAGS, security=SECURED)
async def get_ballot(request: Request) -> Response:
    """One's own ballot while the round is open (404 when none, or after the count)."""
    ballot = await funding.my_ballot(context(request), request.state.obj)
    if ballot is None:
        raise funding.UnknownReceipt("You have no ballot in this round.")
    return _json(
        schemas.MyBallotOut(
            receipt=ballot.receipt, candidate_ids=ballot.choices, cast_at=ballot.cast_at
        )
    )


# A receipt code is a credential of its own (no session involved): the route is public, and a
# round still in draft is answered as if it did not exist.
@guard("public")
@api.validate(json=schemas.ShareIn, resp=_doc(200, schemas.ShareOut, 404, 409, 422), tags=TAGS)
async def read_share(request: Request, json: schemas.ShareIn) -> Response:
    """What a voter's share paid for, found by the receipt code (after the count)."""
    rnd = await perms.load_round(request)
    if rnd.status is RoundStatus.draft:
        raise funding.UnknownReceipt("No such funding round.")
    use = await funding.share_use(rnd, json.receipt_code)
    return _json(
        schemas.ShareOut(
            receipt=use.ballot.receipt,
            candidate_ids=use.ballot.choices,
            share=funding.frac_text(use.share),
            spent=funding.frac_text(use.spent),
            payments=[
                schemas.PaymentOut(
                    candidate_id=c.id, title=c.title, amount=funding.frac_text(amount)
                )
                for c, amount in use.payments
            ],
        )
    )


@guard("funding.round.manage", load=perms.load_candidate)
@api.validate(
    json=schemas.OverrideIn,
    resp=_doc(200, schemas.CandidateOut, 403, 404, 409, 422),
    tags=TAGS,
    security=SECURED,
)
async def override_candidate(request: Request, json: schemas.OverrideIn) -> Response:
    """The city funds or drops a candidate against the outcome, with a public reason (kept in
    the audit log and shown on the round's page)."""
    candidate: Candidate = request.state.obj
    async with transaction(request):
        updated = await funding.override(
            context(request),
            await FundingRound.get(id=candidate.round_id),
            candidate,
            action=Override(json.action),
            reason=json.reason,
        )
    return _json(candidate_out(updated))


def _json(model: Any, status: int = 200) -> Response:
    return json(model, status)


routes = [
    Route(f"{V1}/funding-rounds", create_round, methods=["POST"]),
    Route(f"{V1}/funding-rounds", list_rounds, methods=["GET"]),
    Route(ROUND, get_round, methods=["GET"]),
    Route(f"{ROUND}/publish", publish_round, methods=["POST"]),
    Route(f"{ROUND}/ballot", put_ballot, methods=["PUT"]),
    Route(f"{ROUND}/ballot", get_ballot, methods=["GET"]),
    Route(f"{ROUND}/share", read_share, methods=["POST"]),
    Route(
        f"{ROUND}/candidates/{{candidate_id:int}}/override", override_candidate, methods=["POST"]
    ),
]
