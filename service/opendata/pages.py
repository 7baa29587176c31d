"""The open data page: every dataset, its columns, its licence, with links."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts.permissions import guard
from service.core.forms import render
from service.opendata import datasets, ocds, repository


@guard("public")
async def opendata_page(request: Request) -> Response:
    settings = request.app.state.settings
    return render(
        request,
        "opendata/index.html",
        datasets=datasets.DATASETS,
        ledger=datasets.LEDGER,
        prefix=settings.ocds_prefix,
        publisher=settings.opendata_publisher,
        license_name=ocds.LICENSE_NAME,
        license_url=ocds.LICENSE_URL,
        ocds_version=ocds.OCDS_VERSION,
        page_size=ocds.PAGE_SIZE,
        # A real challenge makes the example links work.
        example_id=await repository.first_public_challenge_id(),
    )


routes = [Route("/opendata", opendata_page, name="opendata")]
