"""What every page needs to know about the visitor: who they are, the CSRF token, notices."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from service.accounts.permissions import actor_of, csrf_token_for
from service.accounts.roles import menu_context
from service.core import zones
from service.core.forms import pop_flash

# Written by a static script from Intl.DateTimeFormat().resolvedOptions().timeZone; only read
# as a default and checked against the zone database like any other input.
BROWSER_ZONE_COOKIE = "tz"


def viewer_zone(request: Request) -> str:
    """The zone the viewer reads times in: the one they chose, else their first organization's,
    else the browser's (a cookie set by /static/js/time-zone.js), else UTC."""
    actor = actor_of(request)
    chosen = actor.user.time_zone if actor.user is not None else ""
    browser = request.cookies.get(BROWSER_ZONE_COOKIE, "")
    for name in (chosen, actor.organization_zone, browser):
        if name and zones.zone(name).key == name:
            return name
    return zones.DEFAULT_ZONE


def page_context(request: Request) -> dict[str, Any]:
    actor = actor_of(request)
    return {
        "actor": actor,
        "viewer_zone": viewer_zone(request),
        "current_user": actor.user,
        "csrf_token": csrf_token_for(request, actor),
        "flash": pop_flash(request),
        **menu_context(request),
    }
