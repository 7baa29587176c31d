"""Site-wide pages."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts.permissions import actor_of, guard
from service.home import views as role_home_views


@guard("public")
async def home(request: Request) -> Response:
    """The role home for the signed-in (`?view=public` shows them the public one), the
    public home for everybody else."""
    if actor_of(request).signed_in and request.query_params.get("view") != "public":
        return await role_home_views.role_home(request)
    from service.challenges import presenters, repository
    from service.challenges.pages import vocabulary

    page = await repository.list_public(
        repository.ChallengeFilters(statuses=["open", "published"], sort="closing"), limit=6
    )
    now = datetime.now(UTC)
    items = [presenters.summary_out(row, now) for row in page.items]
    from service.participation import pages as participation_pages
    from service.participation import presenters as proposal_presenters
    from service.participation import repository as proposals

    proposal_items = [proposal_presenters.summary_out(r, now) for r in await proposals.home_items()]
    return request.app.state.templates.TemplateResponse(
        request,
        "home.html",
        {
            "items": items,
            "proposals": proposal_items,
            **participation_pages.vocabulary(),
            **vocabulary(),
        },
    )


routes = [Route("/", home, name="home")]
