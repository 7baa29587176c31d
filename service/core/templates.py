"""Server-rendered pages: one Jinja2 environment with Babel's i18n extension."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import jinja2
from babel.numbers import format_currency
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from service.config import ROOT
from service.core import i18n, zones

TEMPLATES_DIR = ROOT / "frontend" / "templates"


def _money(amount_minor: int, currency: str) -> str:
    from service.core.money import to_major

    return format_currency(
        to_major(amount_minor, currency), currency, locale=i18n.current_locale.get()
    )


@jinja2.pass_context
def _datetime(
    ctx: jinja2.runtime.Context,
    value: datetime | date | None,
    fmt: str = "medium",
    zone: str | None = None,
) -> str:
    """A moment in the reader's language, always with its zone.

    `zone` is the city's (the organization's whose deadline it is): the moment is shown
    there with its name and offset ("27 Dec 2026, 18:00 Santiago time (UTC-3)"), then in
    the viewer's zone when the clocks there read otherwise ("— 22:00 your time (Madrid,
    UTC+1)"). Without `zone` it is shown in the viewer's zone alone. "date" gives the day
    only: in the city's zone when given, else the stored UTC day.
    """
    if value is None:
        return ""
    language = i18n.current_locale.get()
    viewer = zones.zone(ctx.get("viewer_zone"))
    city = zones.zone(zone) if zone else viewer
    if not isinstance(value, datetime):
        # A calendar date (the day a project step was taken): no moment, so no zone.
        return zones.date_text(value, language)
    if value.tzinfo is None:
        # Naive values from the database driver are UTC (the connection's zone).
        value = value.replace(tzinfo=UTC)
    if fmt == "date":
        # A date alone (a milestone's due day, a cohort's first day) is stored as a moment
        # of that UTC day: read elsewhere it would slip to the day before or after.
        day_zone = city if zone else zones.zone(zones.DEFAULT_ZONE)
        return zones.wall_clock(value, day_zone, language)[0]
    text = zones.describe(value, city, language)
    if zone and zones.differs(value, city, viewer):
        text = f"{text} — {zones.describe_other(value, viewer, language, than=city)}"
    return text


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
