"""Server-rendered pages: one Jinja2 environment with Babel's i18n extension."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jinja2
from babel.dates import format_date, format_time
from babel.numbers import format_currency
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from service.config import ROOT
from service.core import i18n

TEMPLATES_DIR = ROOT / "frontend" / "templates"


def _money(amount_minor: int, currency: str) -> str:
    from service.core.money import to_major

    return format_currency(
        to_major(amount_minor, currency), currency, locale=i18n.current_locale.get()
    )


def _datetime(value: datetime | None, fmt: str = "medium") -> str:
    """Date and time in the reader's language; times are shown in UTC, and say so."""
    if value is None:
        return ""
    locale = i18n.current_locale.get()
    if fmt == "date":
        return format_date(value, "medium", locale=locale)
    moment = value.astimezone(UTC)
    return (
        f"{format_date(moment, 'medium', locale=locale)}, "
        f"{format_time(moment, 'short', tzinfo=UTC, locale=locale)} UTC"
    )


def _base_context(request: Request) -> dict[str, Any]:
    language = getattr(request.state, "language", i18n.DEFAULT_LANGUAGE)
    extra = getattr(request.app.state, "context_processors", [])
    context: dict[str, Any] = {
        "language": language,
        "languages": i18n.LANGUAGES,
        "request_id": getattr(request.state, "request_id", "-"),
    }
    for processor in extra:
        context.update(processor(request))
    return context


def create_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    from service.core.vocab import area_label, kind_label, role_label, status_label

    env.globals.update(
        kind_label=kind_label,
        role_label=role_label,
        area_label=area_label,
        status_label=status_label,
    )
    env.filters["money"] = _money
    # Amount fields: the example ("e.g. 20.000.000") and keyboard that fit the currency.
    from service.core.amounts import amount_inputmode, example_hint

    env.globals.update(amount_hint=example_hint, amount_inputmode=amount_inputmode)
    env.filters["datetime"] = _datetime
    return Jinja2Templates(env=env, context_processors=[_base_context])
