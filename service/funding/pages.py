"""Web pages of the funding rounds area: the list of rounds, the round's page (candidates, the
ballot, the outcome beside greedy, overrides, open data), a voter's share found by receipt,
and the city's form to draft a round.

Handlers have the shape of the API's: parse the form, `async with transaction()`, call the
service, redirect with a notice; on an error the page is shown again with the message next to
the field it belongs to and what was typed kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from service.accounts.models import Organization, OrganizationKind, Role
from service.accounts.permissions import PERMISSIONS, actor_of, guard
from service.challenges.models import Challenge, ChallengeStatus
from service.challenges.sections import Section
from service.core import amounts, csv_export, zones
from service.core.errors import ServiceError
from service.core.forms import form_values, redirect, render, translate_error
from service.core.i18n import gettext, money, ngettext, number
from service.core.web import context, transaction
from service.funding import opendata
from service.funding import permissions as perms
from service.funding import service as funding
from service.funding.models import Candidate, Funded, FundingRound, Override, RoundStatus
from service.funding.schemas import RoundIn

RECEIPT_KEY = "funding_receipt"


def state_label(state: str) -> str:
    labels = {
        "draft": gettext("Draft"),
        "upcoming": gettext("Voting not open yet"),
        "voting": gettext("Voting open"),
        "counting": gettext("Voting closed: counting"),
        "counted": gettext("Counted"),
    }
    return labels.get(state, state)


def minor(value: Fraction) -> int:
    """An exact amount of minor units, rounded to the nearest unit for display."""
    return round(value)


def why_funded(candidate: Candidate, currency: str) -> str:
    """The sentence a funded candidate's page shows."""
    if candidate.funded is Funded.shares:
        price = money(minor(funding.parse_frac(candidate.price)), currency)
        text = ngettext(
            "Funded by the shares of %(n)s supporter, paying %(price)s.",
            "Funded by the shares of %(n)s supporters, each paying %(price)s.",
            candidate.full_payers,
        ) % {"n": number(candidate.full_payers), "price": price}
        if candidate.partial_payers:
            rest = money(minor(funding.parse_frac(candidate.partial_total)), currency)
            text += " " + ngettext(
                "One more supporter gave what was left of their share (%(total)s).",
                "%(n)s more supporters gave what was left of their shares (%(total)s in all).",
                candidate.partial_payers,
            ) % {"n": number(candidate.partial_payers), "total": rest}
        return text
    if candidate.funded is Funded.leftover:
        return gettext(
            "Funded from the budget left after the shares were spent (the most approved "
            "candidate that still fitted)."
        )
    if candidate.funded is Funded.override:
        return gettext("Funded by the city against the vote: %(reason)s") % {
            "reason": candidate.override_reason
        }
    if candidate.override is Override.drop:
        return gettext("Dropped by the city against the vote: %(reason)s") % {
            "reason": candidate.override_reason
        }
    return ""


def _allowed(request: Request, permission: str, obj: Any) -> bool:
    try:
        PERMISSIONS[permission].enforce(actor_of(request), obj)
    except ServiceError:
        return False
    return True


# --- the list ------------------------------------------------------------------------------


async def _cities_managed(request: Request) -> list[Organization]:
    actor = actor_of(request)
    ids = [
        org
        for org in actor.organizations_of_kind(OrganizationKind.government)
        if actor.has_role(org, Role.manager)
    ]
    return await Organization.filter(id__in=ids).order_by("name")


@guard("funding.public")
async def rounds_page(request: Request) -> Response:
    """Published rounds for all; a city's members also see its drafts."""
    actor = actor_of(request)
    now = datetime.now(UTC)
    public = await FundingRound.exclude(status=RoundStatus.draft).order_by("-id").limit(100)
    drafts = (
        await FundingRound.filter(status=RoundStatus.draft, organization_id__in=list(actor.roles))
        .order_by("-id")
        .limit(100)
        if actor.signed_in
        else []
    )
    rounds = list(drafts) + list(public)
    return render(
        request,
        "funding/rounds.html",
        rounds=rounds,
        states={r.id: funding.state_of(r, now) for r in rounds},
        state_label=state_label,
        can_start=bool(actor.signed_in and await _cities_managed(request)),
    )


# --- drafting a round ----------------------------------------------------------------------


class RoundForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    organization_id: int = Field(ge=1, le=2**31 - 1)
    title: str = Field(min_length=5, max_length=160)
    description: str = Field(default="", max_length=5000)
    region: str = Field(min_length=2, max_length=120)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    max_approvals: int | None = Field(default=None, ge=1, le=500)
    require_oidc: bool = False
    opens_at: datetime
    closes_at: datetime
    challenge_ids: list[int] = Field(min_length=1, max_length=500)

    @field_validator("max_approvals", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return value or None

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return str(value or "").strip().upper()

    @field_validator("require_oidc", mode="before")
    @classmethod
    def _checkbox(cls, value: Any) -> bool:
        return value in ("on", "true", "1", True)

    @field_validator("challenge_ids", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> list[Any]:
        if value is None or value == "":
            return []
        return value if isinstance(value, list) else [value]


def _errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        key, message = translate_error(dict(error))
        errors.setdefault(key.split(".")[0], message)
    return errors


async def _render_new(
    request: Request, status: int = 200, values: Any = None, errors: Any = None
) -> Response:
    cities = await _cities_managed(request)
    drafts = (
        await Challenge.filter(
            organization_id__in=[c.id for c in cities], status=ChallengeStatus.draft
        )
        .order_by("organization_id", "id")
        .limit(500)
    )
    names = {c.id: c.name for c in cities}
    return render(
        request,
        "funding/round_new.html",
        status_code=status,
        cities=cities,
        drafts=drafts,
        names=names,
        example=amounts.example_hint((values or {}).get("currency") or "EUR"),
        values=values or {},
        errors=errors or {},
    )


@guard("funding.signed_in")
async def new_round_page(request: Request) -> Response:
    return await _render_new(request)


def _selected(values: dict[str, Any]) -> list[str]:
    raw = values.get("challenge_ids")
    if raw is None or raw == "":
        return []
    return raw if isinstance(raw, list) else [raw]


@guard("funding.signed_in")
async def new_round_submit(request: Request) -> Response:
    values = form_values(await request.form())
    values["challenge_ids"] = _selected(values)
    errors: dict[str, str] = {}
    city = None
    try:
        city_id = int(str(values.get("organization_id") or "0"))
    except ValueError:
        city_id = 0
    city = next((c for c in await _cities_managed(request) if c.id == city_id), None)
    if city is None:
        errors["organization_id"] = gettext("Choose a city whose rounds you manage.")
    where = zones.zone(city.time_zone if city else "UTC")
    parsed: dict[str, Any] = dict(values)
    for name in ("opens_at", "closes_at"):
        text = str(values.get(name) or "")
        try:
            parsed[name] = zones.to_utc(datetime.fromisoformat(text), where) if text else None
        except zones.LocalTimeError as exc:
            errors[name] = str(exc)
        except ValueError:
            errors[name] = gettext("Enter a date and time.")
    currency = str(values.get("currency") or "").strip().upper()
    budget = None
    if len(currency) == 3:
        budget = amounts.read_amount(values, "budget", currency, errors)
    form = None
    try:
        form = RoundForm.model_validate(parsed)
    except ValidationError as exc:
        for key, message in _errors(exc).items():
            errors.setdefault(key, message)
    if form is None or city is None or budget is None or errors:
        return await _render_new(request, 422, values, errors)
    try:
        data = RoundIn.model_validate(
            {**form.model_dump(), "budget_minor": budget, "organization_id": city.id}
        )
    except ValidationError as exc:
        return await _render_new(request, 422, values, _errors(exc))
    try:
        async with transaction(request):
            rnd = await funding.create_round(context(request), city, data)
    except ServiceError as exc:
        return await _render_new(
            request, exc.status_code, values, exc.fields or {"__root__": exc.detail}
        )
    return redirect(
        request,
        f"/funding/rounds/{rnd.id}",
        notice=gettext("Round drafted: check it, then publish it to open the vote."),
    )


# --- the round -----------------------------------------------------------------------------


async def _render_round(
    request: Request, status: int = 200, values: Any = None, errors: Any = None
) -> Response:
    rnd: FundingRound = request.state.obj
    now = datetime.now(UTC)
    candidates = await funding.candidates_of(rnd)
    state = funding.state_of(rnd, now)
    actor = actor_of(request)
    ballot = await funding.my_ballot(context(request), rnd) if actor.signed_in else None
    receipt_code = ""
    if "session" in request.scope:
        stored = request.session.pop(RECEIPT_KEY, None)
        if isinstance(stored, dict) and stored.get("round") == rnd.id:
            receipt_code = str(stored.get("code", ""))
    shares = [c for c in candidates if c.funded is Funded.shares]
    reserved = funding.reserved(candidates)
    base_share = funding.parse_frac(rnd.base_share)
    share = funding.parse_frac(rnd.share)
    city = await Organization.get(id=rnd.organization_id)
    return render(
        request,
        "funding/round.html",
        status_code=status,
        rnd=rnd,
        city=city,
        state=state,
        state_label=state_label(state),
        candidates=candidates,
        by_id={c.id: c for c in candidates},
        ballot=ballot,
        chosen=set(ballot.choices) if ballot else set(),
        receipt_code=receipt_code,
        manager=_allowed(request, "funding.round.manage", rnd),
        why={c.id: why_funded(c, rnd.currency) for c in candidates},
        bought=sorted(shares, key=lambda c: c.purchase_order or 0),
        reserved=reserved,
        left=rnd.budget_minor - reserved,
        base_share_minor=minor(base_share),
        share_minor=minor(share),
        raised=share != base_share,
        greedy_cost=sum(c.cost_minor for c in candidates if c.greedy_funded),
        plain_cost=sum(c.cost_minor for c in candidates if c.plain_funded),
        overrides=[c for c in candidates if c.override is not Override.none],
        values=values or {},
        errors=errors or {},
    )


@guard("funding.round.view", load=perms.load_round)
async def round_page(request: Request) -> Response:
    return await _render_round(request)


@guard("funding.round.manage", load=perms.load_round)
async def publish_submit(request: Request) -> Response:
    rnd: FundingRound = request.state.obj
    try:
        async with transaction(request):
            await funding.publish(context(request), rnd)
    except ServiceError as exc:
        return await _render_round(request, exc.status_code, {}, {"__root__": exc.detail})
    return redirect(
        request,
        f"/funding/rounds/{rnd.id}",
        notice=gettext("Round published: voting opens and closes on its dates."),
    )


@guard("funding.round.vote", load=perms.load_round)
async def vote_submit(request: Request) -> Response:
    rnd: FundingRound = request.state.obj
    form = await request.form()
    values = form_values(form)
    raw = form.getlist("candidate_ids")
    try:
        ids = [int(str(v)) for v in raw]
    except ValueError:
        ids = []
    resident = values.get("resident") in ("on", "true", "1")
    try:
        async with transaction(request):
            _, code = await funding.cast(
                context(request), rnd, candidate_ids=ids, resident=resident
            )
    except ServiceError as exc:
        errors = exc.fields or {"__root__": exc.detail}
        return await _render_round(request, exc.status_code, values, errors)
    if "session" in request.scope:
        request.session[RECEIPT_KEY] = {"round": rnd.id, "code": code}
    return redirect(
        request,
        f"/funding/rounds/{rnd.id}#receipt",
        notice=gettext("Your vote is recorded. You can change it until the vote closes."),
    )


@guard("funding.round.manage", load=perms.load_candidate)
async def override_submit(request: Request) -> Response:
    candidate: Candidate = request.state.obj
    rnd = await FundingRound.get(id=candidate.round_id)
    values = form_values(await request.form())
    action = str(values.get("action") or "")
    request.state.obj = rnd
    if action not in ("fund", "drop"):
        return await _render_round(
            request, 422, values, {f"override-{candidate.id}": gettext("Choose fund or drop.")}
        )
    try:
        async with transaction(request):
            await funding.override(
                context(request),
                rnd,
                candidate,
                action=Override(action),
                reason=str(values.get("reason") or ""),
            )
    except ServiceError as exc:
        message = next(iter(exc.fields.values()), exc.detail)
        return await _render_round(
            request, exc.status_code, values, {f"override-{candidate.id}": message}
        )
    return redirect(
        request,
        f"/funding/rounds/{rnd.id}#overrides",
        notice=gettext("The change and its reason are now on the round's page."),
    )


@guard("funding.round.view", load=perms.load_round)
async def share_page(request: Request) -> Response:
    """How a voter's share was spent, found by the receipt code."""
    rnd: FundingRound = request.state.obj
    code = request.query_params.get("receipt", "").strip()[:64]
    use = None
    error = ""
    status = 200
    if code:
        try:
            use = await funding.share_use(rnd, code)
        except ServiceError as exc:
            error = exc.detail if not exc.fields else next(iter(exc.fields.values()))
            status = exc.status_code
    payments = []
    if use is not None:
        payments = [(c, minor(amount)) for c, amount in use.payments]
    candidates = {c.id: c for c in await funding.candidates_of(rnd)}
    return render(
        request,
        "funding/share.html",
        status_code=status,
        rnd=rnd,
        code=code,
        use=use,
        error=error,
        payments=payments,
        share_minor=minor(use.share) if use else 0,
        spent_minor=minor(use.spent) if use else 0,
        unspent_minor=minor(use.share - use.spent) if use else 0,
        chosen=[candidates[i] for i in use.ballot.choices if i in candidates] if use else [],
        counted=rnd.status is RoundStatus.counted,
    )


# --- open data -----------------------------------------------------------------------------


def _counted(rnd: FundingRound) -> None:
    if rnd.status is not RoundStatus.counted:
        raise funding.NotCounted()


@guard("funding.round.view", load=perms.load_round)
async def pabulib_file(request: Request) -> Response:
    rnd: FundingRound = request.state.obj
    _counted(rnd)
    return Response(
        await opendata.pabulib(rnd),
        media_type="text/plain; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="funding-round-{rnd.id}.pb"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@guard("funding.round.view", load=perms.load_round)
async def outcome_file(request: Request) -> Response:
    rnd: FundingRound = request.state.obj
    _counted(rnd)
    return csv_export.response(
        await opendata.outcome_csv(rnd), f"funding-round-{rnd.id}-outcome.csv"
    )


@guard("funding.round.view", load=perms.load_round)
async def ballots_file(request: Request) -> Response:
    rnd: FundingRound = request.state.obj
    _counted(rnd)
    return csv_export.response(
        await opendata.ballots_csv(rnd), f"funding-round-{rnd.id}-ballots.csv"
    )


# --- the challenge page's section -----------------------------------------------------------


async def challenge_section(request: Request, challenge: Challenge) -> Section | None:
    """'Funded by the shares of 1,240 supporters, each paying €81', on the funded challenge."""
    found = await funding.funded_section(challenge.id)
    if found is None:
        return None
    rnd, candidate = found
    return Section(
        template="funding/_challenge_section.html",
        slot="top",
        values={
            "rnd": rnd,
            "candidate": candidate,
            "why": why_funded(candidate, rnd.currency),
        },
    )


ROUND = "/funding/rounds/{round_id:int}"
routes: list[BaseRoute] = [
    Route("/funding", rounds_page, methods=["GET"]),
    Route("/funding/new", new_round_page, methods=["GET"]),
    Route("/funding/new", new_round_submit, methods=["POST"]),
    Route(ROUND, round_page, methods=["GET"]),
    Route(f"{ROUND}/publish", publish_submit, methods=["POST"]),
    Route(f"{ROUND}/vote", vote_submit, methods=["POST"]),
    Route(f"{ROUND}/share", share_page, methods=["GET"]),
    Route(f"{ROUND}/candidates/{{candidate_id:int}}/override", override_submit, methods=["POST"]),
    Route(f"{ROUND}/round.pb", pabulib_file, methods=["GET"]),
    Route(f"{ROUND}/outcome.csv", outcome_file, methods=["GET"]),
    Route(f"{ROUND}/ballots.csv", ballots_file, methods=["GET"]),
]
