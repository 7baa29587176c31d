"""Funding rounds in the area's words: create, publish, vote, count, override, and a voter's
share read back from their receipt.

The count (`count`) runs the Method of Equal Shares (`service.funding.mes`), records why each
candidate got money, sets aside the funded ones' costs from the round's budget, and seals the
ballots: their accounts and times are erased and the rows rewritten in receipt order, so the
published ballots cannot be matched to who cast them. Funded candidates are challenge drafts
of the city; they stay drafts, with their money reserved, for the city to publish.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction

from service.accounts.models import OidcIdentity, Organization, OrganizationKind, User
from service.audit import service as audit
from service.challenges.models import Challenge, ChallengeStatus
from service.core import i18n
from service.core.context import Context
from service.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from service.core.i18n import N_
from service.core.money import minor_units
from service.funding import mes
from service.funding.models import (
    Ballot,
    Candidate,
    Funded,
    FundingRound,
    Override,
    RoundStatus,
    shown_state,
)
from service.funding.schemas import RoundIn


class NotAGovernment(ValidationFailed):
    default_detail = N_("Only a city or government organization runs funding rounds.")


class BadCandidates(ValidationFailed):
    default_detail = N_(
        "Candidates are the organization's challenge drafts, in the round's currency."
    )


class RoundNotDraft(Conflict):
    default_detail = N_("This round is already published.")


class NotVoting(Conflict):
    default_detail = N_("Voting in this round is not open.")


class NotCounted(Conflict):
    default_detail = N_("This round has not been counted yet.")


class EmailNotVerified(PermissionDenied):
    default_detail = N_("Confirm your e-mail address before voting.")


class CityIdentityRequired(PermissionDenied):
    default_detail = N_("This round asks voters to sign in once with the city's identity service.")


class NotResident(ValidationFailed):
    default_detail = N_(
        "Only residents of the round's region may vote: confirm that you live there."
    )


class BadBallot(ValidationFailed):
    default_detail = N_("Choose candidates of this round.")


class OverrideNotAllowed(Conflict):
    default_detail = N_("This candidate is already in that state.")


class OverBudget(ValidationFailed):
    default_detail = N_("The budget left in the round does not cover this candidate.")


class UnknownReceipt(NotFound):
    default_detail = N_("No ballot of this round has that receipt.")


def _now() -> datetime:
    return datetime.now(UTC)


def frac_text(value: Fraction) -> str:
    """An exact amount as "p/q" (or "p" when whole), in minor units."""
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def parse_frac(text: str) -> Fraction:
    return Fraction(text) if text else Fraction(0)


def receipt_of(round_id: int, code: str) -> str:
    """The published receipt of a ballot: SHA-256 of the round and the voter's code."""
    return hashlib.sha256(
        f"civic-funding-round:{round_id}:{normal_code(code)}".encode()
    ).hexdigest()


def normal_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_code() -> str:
    """80 random bits, in groups of four letters and digits (no padding)."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def state_of(rnd: FundingRound, now: datetime | None = None) -> str:
    return shown_state(rnd.status, rnd.opens_at, rnd.closes_at, now or _now())


def _user(ctx: Context) -> User:
    user = ctx.actor.user
    if user is None:
        raise PermissionDenied()
    return user


# --- rounds ---------------------------------------------------------------------------------


async def create_round(ctx: Context, org: Organization, data: RoundIn) -> FundingRound:
    if org.kind is not OrganizationKind.government:
        raise NotAGovernment(
            fields={"organization_id": i18n.gettext(NotAGovernment.default_detail)}
        )
    challenges = {
        c.id: c
        for c in await Challenge.filter(
            id__in=data.challenge_ids,
            organization_id=org.id,
            status=ChallengeStatus.draft,
            currency=data.currency,
        )
    }
    missing = [i for i in data.challenge_ids if i not in challenges]
    if missing:
        raise BadCandidates(
            fields={
                "challenge_ids": i18n.gettext(
                    "These are not drafts of the organization in %(currency)s: %(ids)s."
                )
                % {"currency": data.currency, "ids": ", ".join(str(i) for i in missing)}
            }
        )
    rnd = await FundingRound.create(
        organization=org,
        title=data.title,
        description=data.description,
        region=data.region,
        require_oidc=data.require_oidc,
        budget_minor=data.budget_minor,
        currency=data.currency,
        max_approvals=data.max_approvals,
        opens_at=data.opens_at.astimezone(UTC),
        closes_at=data.closes_at.astimezone(UTC),
        created_by_id=_user(ctx).id,
    )
    for position, challenge_id in enumerate(data.challenge_ids):
        challenge = challenges[challenge_id]
        await Candidate.create(
            round=rnd,
            position=position,
            challenge_id=challenge.id,
            proposal_id=challenge.proposal_id,
            title=challenge.title,
            summary=challenge.summary,
            cost_minor=challenge.reward_amount_minor,
        )
    await audit.record(
        ctx, "funding.create", object_type="funding_round", object_id=rnd.id, organization_id=org.id
    )
    return rnd


async def publish(ctx: Context, rnd: FundingRound) -> FundingRound:
    rnd = await FundingRound.select_for_update().get(id=rnd.id)
    if rnd.status is not RoundStatus.draft:
        raise RoundNotDraft()
    if rnd.closes_at <= _now():
        raise ValidationFailed(
            fields={"closes_at": i18n.gettext("The voting window has already ended.")}
        )
    rnd.status = RoundStatus.published
    rnd.published_at = _now()
    await rnd.save(update_fields=["status", "published_at"])
    await audit.record(
        ctx,
        "funding.publish",
        object_type="funding_round",
        object_id=rnd.id,
        organization_id=rnd.organization_id,
    )
    return rnd


async def candidates_of(rnd: FundingRound) -> list[Candidate]:
    return await Candidate.filter(round_id=rnd.id).order_by("position")


# --- voting -----------------------------------------------------------------------------------


async def _check_voter(ctx: Context, rnd: FundingRound, resident: bool) -> User:
    user = _user(ctx)
    if user.email_verified_at is None:
        raise EmailNotVerified()
    if rnd.require_oidc:
        identities = OidcIdentity.filter(user_id=user.id)
        if ctx.settings.oidc_issuer:
            identities = identities.filter(issuer=ctx.settings.oidc_issuer.rstrip("/"))
        if not await identities.exists():
            raise CityIdentityRequired()
    if not resident:
        raise NotResident(fields={"resident": i18n.gettext(NotResident.default_detail)})
    return user


async def cast(
    ctx: Context, rnd: FundingRound, *, candidate_ids: list[int], resident: bool
) -> tuple[Ballot, str]:
    """Cast or replace the voter's ballot; returns it and its new receipt code (shown once)."""
    rnd = await FundingRound.select_for_update().get(id=rnd.id)
    if state_of(rnd) != "voting":
        raise NotVoting()
    user = await _check_voter(ctx, rnd, resident)
    ids = {c.id for c in await candidates_of(rnd)}
    choices = sorted(set(candidate_ids))
    if not choices or len(choices) != len(candidate_ids) or not set(choices) <= ids:
        raise BadBallot(fields={"candidate_ids": i18n.gettext(BadBallot.default_detail)})
    if rnd.max_approvals is not None and len(choices) > rnd.max_approvals:
        detail = i18n.ngettext(
            "Choose at most %(n)s candidate.", "Choose at most %(n)s candidates.", rnd.max_approvals
        ) % {"n": rnd.max_approvals}
        raise BadBallot(detail, fields={"candidate_ids": detail})
    code = new_code()
    receipt = receipt_of(rnd.id, code)
    ballot = await Ballot.get_or_none(round_id=rnd.id, voter_id=user.id)
    if ballot is None:
        ballot = await Ballot.create(
            round=rnd, voter_id=user.id, choices=choices, receipt=receipt, cast_at=_now()
        )
    else:
        ballot.choices = choices
        ballot.receipt = receipt
        ballot.cast_at = _now()
        await ballot.save(update_fields=["choices", "receipt", "cast_at"])
    # The audit log says that someone voted, never what.
    await audit.record(
        ctx,
        "funding.vote",
        object_type="funding_round",
        object_id=rnd.id,
        organization_id=rnd.organization_id,
    )
    return ballot, code


async def my_ballot(ctx: Context, rnd: FundingRound) -> Ballot | None:
    """The voter's ballot while the round is open (after the count nobody can tell)."""
    user = ctx.actor.user
    if user is None or rnd.status is RoundStatus.counted:
        return None
    return await Ballot.get_or_none(round_id=rnd.id, voter_id=user.id)


# --- the count ------------------------------------------------------------------------------


async def due_rounds(now: datetime) -> list[int]:
    rows = await FundingRound.filter(status=RoundStatus.published, closes_at__lte=now).values_list(
        "id", flat=True
    )
    return [int(str(r)) for r in rows]


def election_of(
    rnd: FundingRound, candidates: list[Candidate], ballots: list[list[int]]
) -> mes.Election:
    index = {c.id: k for k, c in enumerate(candidates)}
    return mes.Election.build(
        [c.cost_minor for c in candidates],
        rnd.budget_minor,
        ([index[i] for i in choices if i in index] for choices in ballots),
    )


async def count(round_id: int, *, now: datetime) -> bool:
    """Count a closed round once: the outcome, the reservations, the sealed ballots."""
    rnd = await FundingRound.select_for_update().get_or_none(id=round_id)
    if rnd is None or rnd.status is not RoundStatus.published or now < rnd.closes_at:
        return False
    candidates = await candidates_of(rnd)
    rows = await Ballot.filter(round_id=rnd.id).values_list("receipt", "choices")
    sealed = sorted((str(r), list(c)) for r, c in rows)
    election = election_of(rnd, candidates, [c for _, c in sealed])
    result = mes.outcome(election, step=10 ** minor_units(rnd.currency))
    bought = {p.candidate: (order, p) for order, p in enumerate(result.purchases)}
    leftover = set(result.completed)
    plain = set(result.plain)
    greedy = set(result.greedy)
    for k, candidate in enumerate(candidates):
        candidate.votes = int(election.votes[k])
        candidate.plain_funded = k in plain
        candidate.greedy_funded = k in greedy
        if k in bought:
            order, purchase = bought[k]
            candidate.funded = Funded.shares
            candidate.purchase_order = order
            candidate.price = frac_text(purchase.price)
            candidate.full_payers = purchase.full
            candidate.partial_payers = purchase.partial
            candidate.partial_total = frac_text(purchase.partial_total)
        elif k in leftover:
            candidate.funded = Funded.leftover
        candidate.reserved_minor = candidate.cost_minor if candidate.funded else 0
        await candidate.save()
    # Sealing: new rows in receipt order, without accounts or times.
    await Ballot.filter(round_id=rnd.id).delete()
    await Ballot.bulk_create(
        [Ballot(round_id=rnd.id, choices=c, receipt=r) for r, c in sealed], batch_size=2000
    )
    rnd.status = RoundStatus.counted
    rnd.counted_at = now
    rnd.voters = election.voters
    rnd.share = frac_text(result.share)
    rnd.base_share = frac_text(result.base_share)
    rnd.completion_runs = result.completion_runs
    await rnd.save()
    return True


# --- after the count ------------------------------------------------------------------------


def reserved(candidates: list[Candidate]) -> int:
    return sum(c.reserved_minor for c in candidates)


async def override(
    ctx: Context, rnd: FundingRound, candidate: Candidate, *, action: Override, reason: str
) -> Candidate:
    """The city funds or drops a candidate against the outcome, with a public reason."""
    rnd = await FundingRound.select_for_update().get(id=rnd.id)
    if rnd.status is not RoundStatus.counted:
        raise NotCounted()
    candidate = await Candidate.select_for_update().get(id=candidate.id, round_id=rnd.id)
    reason = reason.strip()
    if len(reason) < 10:
        raise ValidationFailed(
            fields={"reason": i18n.gettext("Give the public reason (at least 10 characters).")}
        )
    if action is Override.fund:
        if candidate.funded is not Funded.no:
            raise OverrideNotAllowed()
        left = rnd.budget_minor - reserved(await candidates_of(rnd))
        if candidate.cost_minor > left:
            raise OverBudget(fields={"action": i18n.gettext(OverBudget.default_detail)})
        candidate.funded = Funded.override
        candidate.reserved_minor = candidate.cost_minor
    else:
        if candidate.funded is Funded.no:
            raise OverrideNotAllowed()
        candidate.funded = Funded.no
        candidate.reserved_minor = 0
    candidate.override = action
    candidate.override_reason = reason
    candidate.overridden_by_id = _user(ctx).id
    candidate.overridden_at = _now()
    await candidate.save()
    await audit.record(
        ctx,
        f"funding.override.{action.value}",
        object_type="funding_candidate",
        object_id=candidate.id,
        organization_id=rnd.organization_id,
        round=rnd.id,
        reason=reason,
    )
    return candidate


@dataclass(frozen=True)
class ShareUse:
    ballot: Ballot
    share: Fraction
    payments: list[tuple[Candidate, Fraction]]

    @property
    def spent(self) -> Fraction:
        return sum((amount for _, amount in self.payments), Fraction(0))


async def share_use(rnd: FundingRound, code: str) -> ShareUse:
    """What a voter's share paid for, found by their receipt code (after the count)."""
    if rnd.status is not RoundStatus.counted:
        raise NotCounted()
    ballot = await Ballot.get_or_none(round_id=rnd.id, receipt=receipt_of(rnd.id, code))
    if ballot is None:
        raise UnknownReceipt(fields={"receipt_code": i18n.gettext(UnknownReceipt.default_detail)})
    candidates = await candidates_of(rnd)
    position = {c.id: k for k, c in enumerate(candidates)}
    bought = sorted(
        (c for c in candidates if c.purchase_order is not None),
        key=lambda c: c.purchase_order or 0,
    )
    purchases = [mes.Purchase(position[c.id], parse_frac(c.price), Fraction(0)) for c in bought]
    share = parse_frac(rnd.share)
    paid = mes.payments(share, purchases, [position[i] for i in ballot.choices if i in position])
    return ShareUse(
        ballot=ballot,
        share=share,
        payments=[(candidates[k], amount) for k, amount in paid],
    )


async def funded_section(challenge_id: int) -> tuple[FundingRound, Candidate] | None:
    """The counted round that funded a challenge, for the challenge's page."""
    candidate = (
        await Candidate.filter(
            challenge_id=challenge_id, round__status=RoundStatus.counted, reserved_minor__gt=0
        )
        .order_by("-id")
        .first()
    )
    if candidate is None:
        return None
    return await FundingRound.get(id=candidate.round_id), candidate
