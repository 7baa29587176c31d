"""Who may do what with citizens' panels; registered into the one permissions table.

The panel's staff are the city's owner, managers and editors: only they see the pool (the
volunteers and what they declared). Anyone sees a panel of a public challenge: its quotas, the
pool as counts per value, the published draw, members as they chose to be named, sessions and
the recommendation. A member scores the finalists; a signed-in resident volunteers.
"""

from __future__ import annotations

from dataclasses import dataclass

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
class PanelView:
    """A panel with the signed-in user's own volunteering for it, as `load_panel` gives it."""

    panel: Panel
    mine: Volunteer | None

    @property
    def member(self) -> Volunteer:
        """The acting member's seat (the "panels.member" rule admits only members)."""
        assert self.mine is not None
        return self.mine


@dataclass(frozen=True)
class PanelVolunteer:
    """A panel (as `load_panel` gives it) with one of its volunteers (the one the path names)."""

    panel_view: PanelView
    volunteer: Volunteer

    @property
    def panel(self) -> Panel:
        return self.panel_view.panel


def _staff_of_panel(actor: Actor, view: PanelView) -> bool:
    return is_staff(actor, view.panel)


def _staff_of_volunteer(actor: Actor, view: PanelVolunteer) -> bool:
    return is_staff(actor, view.panel)


def _public(view: PanelView) -> bool:
    return is_public(view.panel.challenge)


def _member(actor: Actor, view: PanelView) -> bool:
    return view.mine is not None and view.mine.status is VolunteerStatus.member


# Opening a panel: the city's managers (the challenge's organization).
register("panels.open", Rule(roles=frozenset({Role.manager})))
register("panels.view", Rule(signed_in=False, public_when=_public, custom=_staff_of_panel))
register("panels.staff", Rule(custom=_staff_of_panel))
register("panels.staff.volunteer", Rule(custom=_staff_of_volunteer))
# Volunteering needs an account (one sign-up per person) on a public challenge's panel.
register("panels.volunteer", Rule(custom=lambda actor, view: _public(view)))
register("panels.member", Rule(custom=_member))


async def load_panel(request: Request) -> PanelView:
    panel = await Panel.get_or_none(id=path_int(request, "panel_id")).select_related("challenge")
    if panel is None:
        raise NotFound(gettext("No such panel."))
    user = actor_of(request).user
    mine = await Volunteer.get_or_none(panel_id=panel.id, user_id=user.id) if user else None
    return PanelView(panel, mine)
