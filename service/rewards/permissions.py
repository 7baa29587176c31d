"""Who may move money; registered into the one permissions table."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from service.accounts.actor import Actor
from service.accounts.models import Role
from service.accounts.permissions import Rule, path_int, register
from service.applications.models import Award
from service.challenges.models import PUBLIC_STATUSES
from service.core.errors import NotFound
from service.rewards.models import Milestone, Payout, Refund

FINANCE = frozenset({Role.finance})


def _city(obj: Any) -> int:
    return int(obj.award.challenge.organization_id)


def _recipient(obj: Any) -> int:
    return int(obj.award.application.organization_id)


def _award_public(obj: Any) -> bool:
    challenge = obj.award.challenge if isinstance(obj, Milestone) else obj.challenge
    return challenge.status in PUBLIC_STATUSES and challenge.published_at is not None


def _may_view_milestone(actor: Actor, milestone: Milestone) -> bool:
    return (
        actor.role_in(_city(milestone)) is not None
        or actor.role_in(_recipient(milestone)) is not None
    )


def _may_submit(actor: Actor, milestone: Milestone) -> bool:
    return actor.role_in(_recipient(milestone)) is not None


def _may_view_payout(actor: Actor, payout: Payout) -> bool:
    city = int(payout.milestone.award.challenge.organization_id)
    return actor.role_in(city) is not None or actor.role_in(payout.organization_id) is not None


def _may_record_payout(actor: Actor, payout: Payout) -> bool:
    return actor.has_role(int(payout.milestone.award.challenge.organization_id), Role.finance)


def _may_view_award(actor: Actor, award: Award) -> bool:
    return (
        actor.role_in(award.challenge.organization_id) is not None
        or actor.role_in(award.application.organization_id) is not None
    )


# The city's finance members put money in escrow.
register("rewards.fund", Rule(roles=FINANCE))
# An organization's finance members (or its owner) set where its money goes.
register("rewards.payout_account", Rule(roles=FINANCE))
register("rewards.payout_account.view", Rule(member=True))
# An award's milestones: public in outline once the challenge is; the details for the two sides.
register(
    "rewards.award.view",
    Rule(signed_in=False, public_when=_award_public, custom=_may_view_award),
)
register("rewards.award.private", Rule(custom=_may_view_award))
register("rewards.milestone.view", Rule(custom=_may_view_milestone))
register("rewards.milestone.submit", Rule(custom=_may_submit, hide=False))
# Milestones and refunds carry their challenge: the city's roles apply to them.
register("rewards.milestone.approve", Rule(roles=frozenset({Role.manager})))
# Separation of duties: finance releases, with two-factor, and not the approver (checked on use).
register("rewards.milestone.release", Rule(roles=FINANCE, mfa=True))
register("rewards.payout.view", Rule(custom=_may_view_payout))
register("rewards.payout.record", Rule(custom=_may_record_payout, hide=False, mfa=True))
register("rewards.refund.record", Rule(roles=FINANCE, mfa=True))
# The pages' guards for the same three steps check the role only: the handler then applies
# the full rule above, so that a missing two-factor sign-in is explained next to the button.
register("rewards.milestone.release.page", Rule(roles=FINANCE))
register("rewards.payout.record.page", Rule(custom=_may_record_payout, hide=False))
register("rewards.refund.record.page", Rule(roles=FINANCE))


async def load_award(request: Request) -> Award:
    award = await Award.get_or_none(id=path_int(request, "award_id")).select_related(
        "challenge", "application"
    )
    if award is None:
        raise NotFound("No such award.")
    return award


async def load_milestone(request: Request) -> Milestone:
    milestone = await Milestone.get_or_none(id=path_int(request, "milestone_id")).select_related(
        "award__challenge", "award__application"
    )
    if milestone is None:
        raise NotFound("No such milestone.")
    # The city's roles decide who approves and releases.
    milestone.challenge = milestone.award.challenge
    return milestone


async def load_payout(request: Request) -> Payout:
    payout = await Payout.get_or_none(id=path_int(request, "payout_id")).select_related(
        "milestone__award__challenge", "organization"
    )
    if payout is None:
        raise NotFound("No such payout.")
    return payout


async def load_refund(request: Request) -> Refund:
    refund = await Refund.get_or_none(id=path_int(request, "refund_id")).select_related(
        "funding__challenge"
    )
    if refund is None:
        raise NotFound("No such refund.")
    refund.challenge = refund.funding.challenge
    return refund
