"""Who may do what with citizens' panels; registered into the one permissions table.

The panel's staff are the city's owner, managers and editors: only they see the pool (the
volunteers and what they declared). Anyone sees a panel of a public challenge: its quotas, the
pool as counts per value, the published draw, members as they chose to be named, sessions and
the recommendation. A member scores the finalists; a signed-in resident volunteers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from service.accounts.actor import Actor
from service.accounts.models import Role
from service.accounts.permissions import Rule, actor_of, path_int, register
from service.challenges.permissions import is_public
from service.core.errors import NotFound
from service.core.i18n import gettext
from service.panels.models import Panel, Volunteer, VolunteerStatus

STAFF_ROLES = (Role.manager, Role.editor)


def is_staff(actor: Actor, panel: Panel) -> bool:
    return actor.has_role(panel.organization_id, *STAFF_ROLES)


@dataclass(frozen=True)
class PanelVolunteer:
    """A panel with one of its volunteers (the one the path names)."""

    panel: Panel
    volunteer: Volunteer


def _staff_of_volunteer(actor: Actor, view: PanelVolunteer) -> bool:
    return is_staff(actor, view.panel)


def _public(panel: Any) -> bool:
    return is_public(panel.challenge)


def mine_of(panel: Panel) -> Volunteer | None:
    """The signed-in user's own volunteering for the panel (set by `load_panel`)."""
    found: Volunteer | None = getattr(panel, "mine", None)
    return found


def member_of(panel: Panel) -> Volunteer:
    found = mine_of(panel)
    assert found is not None
    return found


def _member(actor: Actor, panel: Panel) -> bool:
    seat = mine_of(panel)
    return seat is not None and seat.status is VolunteerStatus.member


# Opening a panel: the city's managers (the challenge's organization).
register("panels.open", Rule(roles=frozenset({Role.manager})))
register("panels.view", Rule(signed_in=False, public_when=_public, custom=is_staff))
register("panels.staff", Rule(custom=is_staff))
register("panels.staff.volunteer", Rule(custom=_staff_of_volunteer))
# Volunteering needs an account (one sign-up per person) on a public challenge's panel.
register("panels.volunteer", Rule(custom=lambda actor, panel: _public(panel)))
register("panels.member", Rule(custom=_member))


async def load_panel(request: Request) -> Panel:
    panel = await Panel.get_or_none(id=path_int(request, "panel_id")).select_related("challenge")
    if panel is None:
        raise NotFound(gettext("No such panel."))
    user = actor_of(request).user
    panel.mine = await Volunteer.get_or_none(panel_id=panel.id, user_id=user.id) if user else None
    return panel
