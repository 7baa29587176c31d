"""Who may do what with funding rounds; registered into the one permissions table.

A round is public once published; before that only its city's members see it. Its city's
managers (and owner) create, publish and override; any signed-in person may try to vote (the
service then checks the e-mail, residence and, when asked, the city's identity service).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from service.accounts.models import Role
from service.accounts.permissions import Rule, path_int, register
from service.core.errors import NotFound
from service.funding.models import Candidate, FundingRound, RoundStatus


def _published(rnd: Any) -> bool:
    return getattr(rnd, "status", RoundStatus.draft) is not RoundStatus.draft


register("funding.public", Rule(signed_in=False))
register("funding.signed_in", Rule())
register("funding.round.view", Rule(signed_in=False, member=True, public_when=_published))
register("funding.round.create", Rule(roles=frozenset({Role.manager})))
register("funding.round.manage", Rule(roles=frozenset({Role.manager})))
register("funding.round.vote", Rule(member=True, public_when=_published))


async def load_round(request: Request) -> FundingRound:
    rnd = await FundingRound.get_or_none(id=path_int(request, "round_id"))
    if rnd is None:
        raise NotFound("No such funding round.")
    return rnd


async def load_candidate(request: Request) -> Candidate:
    """The candidate of the path, carrying its round's organization for the permission."""
    rnd = await load_round(request)
    candidate = await Candidate.get_or_none(id=path_int(request, "candidate_id"), round_id=rnd.id)
    if candidate is None:
        raise NotFound("No such candidate.")
    # The permission reads the organization from the object.
    setattr(candidate, "organization_id", rnd.organization_id)  # noqa: B010
    return candidate


async def load_organization_in_body(request: Request) -> Any:
    from service.challenges.permissions import load_organization_in_body as load

    return await load(request)
