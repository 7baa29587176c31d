"""Who may keep a thesis or a profile, read recommendations and schedule demo days."""

from __future__ import annotations

from starlette.requests import Request

from service.accounts.models import Role
from service.accounts.permissions import Rule, path_int, register
from service.core.errors import NotFound
from service.matching.models import DemoDay

EDITORS = frozenset({Role.owner, Role.manager})

# An organization's owner (or manager) edits its thesis or profile; its members read them.
register("matching.edit", Rule(roles=EDITORS))
register("matching.view", Rule(member=True))
# "Challenges for you" are for the organization's own members.
register("matching.recommendations", Rule(member=True))


async def load_demo_day(request: Request) -> DemoDay:
    day = await DemoDay.get_or_none(id=path_int(request, "demo_day_id"))
    if day is None:
        raise NotFound("No such demo day.")
    return day
