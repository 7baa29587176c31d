"""Site-wide pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts.permissions import guard


@guard("public")
async def home(request: Request) -> Response:
    return request.app.state.templates.TemplateResponse(request, "home.html", {})


routes = [Route("/", home, name="home")]
