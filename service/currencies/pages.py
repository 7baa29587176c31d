"""The operators' exchange-rate page: the latest rates, an ECB file upload, one rate by hand."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts.permissions import guard
from service.core.bodylimit import accepts_upload
from service.core.errors import ServiceError
from service.core.forms import errors_of, form_values, redirect, render, translate_error
from service.core.i18n import gettext
from service.core.web import context, transaction
from service.currencies import service as rates
from service.currencies.schemas import RateIn

# The ECB's historic file (every day since 1999) is about 2 MB.
MAX_FILE_BYTES = 8 * 1024 * 1024


async def _render(request: Request, status_code: int = 200, **extra: Any) -> Response:
    settings = request.app.state.settings
    return render(
        request,
        "currencies/admin_rates.html",
        status_code,
        rates=await rates.recent(),
        platform_currency=settings.platform_currency,
        **extra,
    )


@guard("operator")
async def rates_page(request: Request) -> Response:
    if request.method == "GET":
        return await _render(request, values={"source": "ECB"})
    form = await request.form()
    values = form_values(form)
    try:
        data = RateIn.model_validate(values)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            key, message = translate_error(dict(error))
            errors.setdefault(key.split(".")[0], message)
        return await _render(request, 422, values=values, errors=errors)
    try:
        async with transaction(request):
            await rates.set_rate(
                context(request),
                day=data.date,
                base=data.base,
                quote=data.quote,
                rate=data.rate,
                source=data.source,
            )
    except ServiceError as exc:
        return await _render(request, exc.status_code, values=values, errors=errors_of(exc))
    return redirect(
        request,
        "/admin/rates",
        notice=gettext("Rate saved: 1 %(base)s = %(rate)s %(quote)s on %(day)s.")
        % {"base": data.base, "rate": data.rate, "quote": data.quote, "day": data.date},
    )


@guard("operator")
@accepts_upload(MAX_FILE_BYTES)
async def import_page(request: Request) -> Response:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _render(
            request, 422, file_errors={"file": gettext("Choose the ECB's CSV file to import.")}
        )
    try:
        text = (await upload.read()).decode("utf-8")
    except UnicodeDecodeError:
        return await _render(
            request,
            422,
            file_errors={"file": gettext("This file is not text (UTF-8): is it the ECB's CSV?")},
        )
    try:
        async with transaction(request):
            result = await rates.import_ecb(context(request), text)
    except ServiceError as exc:
        return await _render(request, exc.status_code, file_errors=errors_of(exc))
    return redirect(
        request,
        "/admin/rates",
        notice=gettext(
            "Imported %(days)s day(s) of ECB rates: %(added)s added, %(changed)s changed, "
            "%(unchanged)s already known; %(challenges)s challenge reference(s) updated."
        )
        % {
            "days": result.days,
            "added": result.added,
            "changed": result.changed,
            "unchanged": result.unchanged,
            "challenges": result.challenges_updated,
        },
    )


routes = [
    Route("/admin/rates", rates_page, methods=["GET", "POST"]),
    Route("/admin/rates/import", import_page, methods=["POST"]),
]
