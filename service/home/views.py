"""The home of a signed-in person at `/`: one section per role they have."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from service.accounts.permissions import actor_of
from service.accounts.roles import roles_of
from service.core.i18n import gettext, ngettext
from service.home import sections, visits


def waited(days: int) -> str:
    """How long something has waited, never "0 days"."""
    if days <= 0:
        return gettext("waiting since today")
    return ngettext("waiting %(num)d day", "waiting %(num)d days", days) % {"num": days}


def days_left(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = (moment - now).total_seconds()
    if seconds < 0:
        # "due 3 days ago", "deadline … (3 days ago)": how long ago, never a bare "past".
        ago = int(-seconds // 86400)
        if ago == 0:
            return gettext("earlier today")
        return ngettext("%(num)d day ago", "%(num)d days ago", ago) % {"num": ago}
    days = int(seconds // 86400)
    if days == 0:
        return gettext("today")
    return ngettext("in %(num)d day", "in %(num)d days", days) % {"num": days}


def judging_ends(moment: datetime, now: datetime) -> str:
    """When judging ends, or how long ago it was due to end once the deadline has passed."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > now:
        return gettext("judging ends %(when)s") % {"when": days_left(moment, now)}
    days = sections.days_since(moment, now)
    if days == 0:
        return gettext("judging was due to end today")
    return ngettext(
        "judging was due to end %(num)d day ago", "judging was due to end %(num)d days ago", days
    ) % {"num": days}


async def role_home(request: Request) -> Response:
    actor = actor_of(request)
    assert actor.user is not None
    roles = roles_of(request)
    settings = request.app.state.settings
    now = datetime.now(UTC)
    investors = list(roles.investors)
    matches = await sections.current_matches(investors, settings) if investors else {}
    deps = request.app.state.deps
    baseline = await visits.visit(deps.redis, settings.redis_prefix, actor.user, matches, now)
    values: dict[str, Any] = {"now": now, "since": baseline.since}
    if roles.city_staff:
        values["city"] = await sections.city_section(roles, now)
    if roles.applicants:
        values["applicant"] = await sections.applicant_section(roles, now, settings)
    if roles.judge:
        values["judging"] = await sections.judge_section(actor.user.id)
    if investors:
        values["investor"] = await sections.investor_section(
            roles, matches, baseline.seen_matches, baseline.since
        )
    values["citizen"] = await sections.citizen_section(actor.user.id, baseline.since)
    if roles.operator:
        values["operator"] = await sections.operator_section(now, settings)
    from service.applications.pages import labels
    from service.challenges.pages import vocabulary
    from service.participation import service as participation

    return request.app.state.templates.TemplateResponse(
        request,
        "home/role.html",
        {
            **values,
            **vocabulary(),
            **labels(),
            "proposal_status_label": participation.proposal_status_label,
            "waited": waited,
            "days_left": days_left,
            "judging_ends": judging_ends,
            "days_since": sections.days_since,
        },
    )
