"""The person's roles, worked out once per request from what the actor already holds, and the
main menu they see: only what those roles can use.

The memberships come with the actor (one query for every signed-in request); judging, which
is not a membership, comes as a duty (one more query for pages, by the loader the judging
area registers). Nothing here queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from service.accounts.actor import Actor
from service.accounts.models import APPLICANT_KINDS, OrganizationKind, Role
from service.accounts.permissions import actor_of
from service.core.i18n import N_, gettext

JUDGE = "judge"


@dataclass(frozen=True)
class Roles:
    """The organizations of each role the person has (a person may have several)."""

    signed_in: bool = False
    operator: bool = False
    judge: bool = False
    # Government organizations: all staff, the managers (owner or manager), finance.
    cities: tuple[int, ...] = ()
    city_managers: tuple[int, ...] = ()
    city_finance: tuple[int, ...] = ()
    applicants: tuple[int, ...] = ()
    investors: tuple[int, ...] = ()

    @property
    def city_staff(self) -> bool:
        return bool(self.cities)


def roles_from(actor: Actor) -> Roles:
    if actor.user is None:
        return Roles()
    gov = OrganizationKind.government
    cities = tuple(org for org, kind in actor.kinds.items() if kind is gov)
    return Roles(
        signed_in=True,
        operator=actor.is_operator,
        judge=JUDGE in actor.duties,
        cities=cities,
        city_managers=tuple(org for org in cities if actor.has_role(org, Role.manager)),
        city_finance=tuple(org for org in cities if actor.has_role(org, Role.finance)),
        applicants=tuple(org for org, kind in actor.kinds.items() if kind in APPLICANT_KINDS),
        investors=tuple(
            org for org, kind in actor.kinds.items() if kind is OrganizationKind.investor
        ),
    )


def roles_of(request: Request) -> Roles:
    """Worked out once per request and kept on it."""
    found = getattr(request.state, "roles", None)
    if isinstance(found, Roles):
        return found
    roles = roles_from(actor_of(request))
    request.state.roles = roles
    return roles


@dataclass(frozen=True)
class MenuItem:
    href: str
    label: str
    # The path (or path prefix, ending in "/") the item is the current page for.
    current: str = ""

    def is_current(self, path: str) -> bool:
        if not self.current:
            return False
        if self.current.endswith("/"):
            return path.startswith(self.current)
        return path == self.current


PUBLIC_ITEMS = (
    ("/", N_("Home"), "/"),
    ("/challenges", N_("Challenges"), "/challenges"),
    ("/proposals", N_("Proposals"), "/proposals"),
    ("/incubation", N_("Incubation"), "/incubation"),
    ("/opendata/dashboard", N_("Dashboards"), "/opendata/"),
    ("/api/docs", N_("API"), ""),
)


def menu_of(roles: Roles) -> list[MenuItem]:
    """The main menu: the public pages, then one item per thing the roles can use."""
    items = [MenuItem(href, gettext(label), current) for href, label, current in PUBLIC_ITEMS]
    if not roles.signed_in:
        return items
    if roles.city_staff:
        items.append(MenuItem("/#city", gettext("Your challenges")))
    if roles.applicants:
        items.append(MenuItem("/applications", gettext("Applications"), "/applications"))
    if roles.judge:
        items.append(MenuItem("/#judging", gettext("Judging")))
    if roles.investors:
        first = roles.investors[0]
        items.append(MenuItem(f"/investors/{first}/dealflow", gettext("Deal flow"), "/investors/"))
    if roles.operator:
        items.append(MenuItem("/admin/organizations", gettext("Verify"), "/admin/organizations"))
        items.append(MenuItem("/admin/audit", gettext("Audit log"), "/admin/audit"))
        items.append(MenuItem("/admin/rates", gettext("Exchange rates"), "/admin/rates"))
    items.append(MenuItem("/notifications", gettext("Notifications"), "/notifications"))
    items.append(MenuItem("/account", gettext("Account"), "/account"))
    return items


def menu_context(request: Request) -> dict[str, Any]:
    """For every page: the viewer's roles and the menu they see."""
    roles = roles_of(request)
    return {"viewer_roles": roles, "menu": menu_of(roles)}
