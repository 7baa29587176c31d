"""Who may see the deal flow, answer intro requests and pick startups for a city.

An investor organization sees nothing until an operator has verified it: its members get a
403 that says so; everyone outside it gets a 404.
"""

from __future__ import annotations

from starlette.requests import Request

from service.accounts.actor import Actor
from service.accounts.models import APPLICANT_KINDS, Organization, OrganizationKind, Role
from service.accounts.permissions import Rule, path_int, register
from service.core.errors import NotFound
from service.investors.models import IntroRequest

CURATORS = frozenset({Role.manager, Role.editor})


def _verified(actor: Actor, org: Organization) -> bool:
    return org.is_verified


def _intro_startup_side(actor: Actor, intro: IntroRequest) -> bool:
    return actor.role_in(intro.startup_id) is not None


def _intro_either_side(actor: Actor, intro: IntroRequest) -> bool:
    return (
        actor.role_in(intro.startup_id) is not None or actor.role_in(intro.investor_id) is not None
    )


# The deal flow and everything under it: members of a verified investor organization.
register("investors.dealflow", Rule(member=True, custom=_verified, hide=False))
# Editing the thesis is allowed before verification (it is what the operator looks at).
register("investors.thesis", Rule(member=True))
# A startup's own side: its profile, who viewed it, who asked for an intro.
register("investors.startup", Rule(member=True))
register("investors.intro.answer", Rule(custom=_intro_startup_side))
register("investors.intro.view", Rule(custom=_intro_either_side))
# City curators: the city's owner, managers and editors.
register("investors.city_picks", Rule(roles=CURATORS))


async def load_investor(request: Request) -> Organization:
    org = await Organization.get_or_none(id=path_int(request, "investor_id"))
    if org is None or org.kind is not OrganizationKind.investor:
        raise NotFound("No such investor.")
    return org


async def load_startup(request: Request) -> Organization:
    org = await Organization.get_or_none(id=path_int(request, "startup_id"))
    if org is None or org.kind not in APPLICANT_KINDS:
        raise NotFound("No such startup.")
    return org


async def load_city(request: Request) -> Organization:
    org = await Organization.get_or_none(id=path_int(request, "city_id"))
    if org is None or org.kind is not OrganizationKind.government:
        raise NotFound("No such city.")
    return org


async def load_intro(request: Request) -> IntroRequest:
    intro = await IntroRequest.get_or_none(id=path_int(request, "intro_request_id"))
    if intro is None:
        raise NotFound("No such intro request.")
    return intro
