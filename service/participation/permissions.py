"""Who may do what with proposals; registered into the one permissions table."""

from __future__ import annotations

from typing import Any, cast

from starlette.requests import Request

from service.accounts.actor import Actor
from service.accounts.models import Organization, OrganizationKind, Role
from service.accounts.permissions import Rule, actor_of, path_int, register
from service.core.errors import NotFound
from service.participation.models import Comment, Proposal


def _is_author(actor: Actor, proposal: Any) -> bool:
    return actor.user is not None and actor.user.id == getattr(proposal, "author_id", None)


def _is_region_manager(actor: Actor, obj: Any) -> bool:
    """A `manager` (or owner) of a government organization of the object's region."""
    return any(actor.has_role(org_id, Role.manager) for org_id in getattr(obj, "city_ids", []))


def _may_moderate(actor: Actor, obj: Any) -> bool:
    return (actor.is_operator and actor.mfa) or _is_region_manager(actor, obj)


register("proposal.edit", Rule(custom=_is_author, hide=False))
register("proposal.moderate", Rule(custom=_may_moderate, hide=False))
register("proposal.answer", Rule(custom=_is_region_manager, hide=False))


async def _cities_of(region: str) -> list[int]:
    return cast(
        list[int],
        await Organization.filter(
            kind=OrganizationKind.government, region__iexact=region.strip()
        ).values_list("id", flat=True),
    )


async def load_proposal(request: Request) -> Proposal:
    return await load_proposal_by_id(request, path_int(request, "proposal_id"))


async def load_proposal_by_id(request: Request, proposal_id: int) -> Proposal:
    proposal = await Proposal.get_or_none(id=proposal_id)
    if proposal is None:
        raise NotFound("No such proposal.")
    # Only the signed-in can be a region's manager: the anonymous need no look-up.
    proposal.city_ids = await _cities_of(proposal.region) if actor_of(request).signed_in else []
    return proposal


async def load_comment(request: Request) -> Comment:
    comment = await Comment.get_or_none(id=path_int(request, "comment_id")).select_related(
        "proposal"
    )
    if comment is None:
        raise NotFound("No such comment.")
    signed_in = actor_of(request).signed_in
    comment.city_ids = await _cities_of(comment.proposal.region) if signed_in else []
    return comment
