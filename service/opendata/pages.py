"""Open data pages: the datasets, the dashboards (platform and city) and the ecosystem map."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from babel.numbers import format_compact_currency, format_decimal, get_currency_precision
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts.models import Organization
from service.accounts.permissions import guard, path_int
from service.core import i18n
from service.core.errors import NotFound
from service.core.forms import render
from service.core.i18n import gettext
from service.core.templates import _money
from service.core.vocab import area_label, kind_label, status_label
from service.opendata import charts, dashboards, datasets, ecosystem, ocds, repository
from service.opendata.charts import Bar, Series

# Organizations listed per page of the ecosystem map's list.
MAP_PAGE = 50


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


# --- dashboards ----------------------------------------------------------------------------


def month_label(month: str) -> str:
    return format_date(
        date(int(month[:4]), int(month[5:]), 1), "MMM yyyy", locale=i18n.current_locale.get()
    )


def number(value: int | float) -> str:
    return format_decimal(value, locale=i18n.current_locale.get())


def compact_money(currency: str) -> Any:
    precision = get_currency_precision(currency)

    def tick(amount_minor: int) -> str:
        return format_compact_currency(
            amount_minor / 10**precision, currency, locale=i18n.current_locale.get()
        )

    return tick


@dataclass(frozen=True)
class MoneyView:
    currency: str
    chart: Markup
    rows: list[tuple[str, str, str, str]]
    last: dashboards.MoneyMonth


def _count_bars(counts: dict[str, int], label: Any) -> list[Bar]:
    return [Bar(label(k), v, number(v)) for k, v in counts.items()]


def dashboard_view(d: dashboards.Dashboard) -> dict[str, Any]:
    """The charts and the tables beside them, in the reader's language."""
    where = d.scope.city.name if d.scope.city is not None else gettext("the whole platform")
    status_bars = _count_bars(d.by_status, status_label)
    area_bars = _count_bars(d.by_area, area_label)
    by_status = charts.bar_chart(
        "chart-status",
        title=gettext("Challenges by state, %(where)s") % {"where": where},
        desc="; ".join(f"{b.label}: {b.shown}" for b in status_bars)
        or gettext("No published challenge yet."),
        bars=status_bars,
    )
    by_area = charts.bar_chart(
        "chart-area",
        title=gettext("Challenges by government area, %(where)s") % {"where": where},
        desc="; ".join(f"{b.label}: {b.shown}" for b in area_bars)
        or gettext("No published challenge yet."),
        bars=area_bars,
    )
    names = [gettext("Committed"), gettext("Escrowed"), gettext("Paid")]
    money = []
    for m in d.money:
        periods = [month_label(x.month) for x in m.months]
        last = m.last
        desc = gettext(
            "Running totals in %(currency)s by month, from %(first)s to %(last)s. At the end: "
            "committed %(committed)s, escrowed %(escrowed)s, paid %(paid)s."
        ) % {
            "currency": m.currency,
            "first": periods[0] if periods else "",
            "last": periods[-1] if periods else "",
            "committed": _money(last.committed, m.currency),
            "escrowed": _money(last.escrowed, m.currency),
            "paid": _money(last.paid, m.currency),
        }
        chart = charts.line_chart(
            f"chart-money-{m.currency.lower()}",
            title=gettext("Money committed, escrowed and paid over time (%(currency)s)")
            % {"currency": m.currency},
            desc=desc,
            periods=periods,
            series=[
                Series(names[0], [x.committed for x in m.months]),
                Series(names[1], [x.escrowed for x in m.months]),
                Series(names[2], [x.paid for x in m.months]),
            ],
            tick=compact_money(m.currency),
        )
        rows = [
            (
                label,
                _money(x.committed, m.currency),
                _money(x.escrowed, m.currency),
                _money(x.paid, m.currency),
            )
            for label, x in zip(periods, m.months, strict=True)
        ]
        money.append(MoneyView(m.currency, chart, rows, last))
    delay_bars = [
        Bar(gettext("%(range)s days") % {"range": k}, v, number(v)) for k, v in d.delays.buckets
    ]
    delays = charts.bar_chart(
        "chart-delay",
        title=gettext("Days from an award to its first payment, %(where)s") % {"where": where},
        desc="; ".join(f"{b.label}: {b.shown}" for b in delay_bars),
        bars=delay_bars,
    )
    return {
        "d": d,
        "where": where,
        "status_bars": status_bars,
        "area_bars": area_bars,
        "chart_status": by_status,
        "chart_area": by_area,
        "money": money,
        "money_names": names,
        "chart_delay": delays,
        "delay_bars": delay_bars,
        "number": number,
    }


async def _dashboard(request: Request, scope: dashboards.Scope) -> Response:
    d = await dashboards.build(scope, now=datetime.now(UTC))
    return render(request, "opendata/dashboard.html", **dashboard_view(d))


@guard("public")
async def platform_dashboard(request: Request) -> Response:
    return await _dashboard(request, dashboards.Scope())


async def load_city(request: Request) -> Organization:
    city = await dashboards.city_or_none(path_int(request, "organization_id"))
    if city is None:
        raise NotFound("No such city.")
    return city


@guard("public", load=load_city)
async def city_dashboard(request: Request) -> Response:
    return await _dashboard(request, dashboards.Scope(request.state.obj))


# --- the ecosystem map ---------------------------------------------------------------------


def _edge_labels() -> dict[str, str]:
    return {
        "award": gettext("Award (city and winner)"),
        "consortium": gettext("Consortium (lead and partner)"),
        "incubation": gettext("Incubation (programme and startup)"),
        "intro": gettext("Introduction accepted (investor and startup)"),
    }


@guard("public")
async def ecosystem_page(request: Request) -> Response:
    kind = request.query_params.get("kind") or None
    region = (request.query_params.get("region") or "").strip()[:120] or None
    errors = {}
    if kind is not None and kind not in ecosystem.KIND_ORDER:
        errors["kind"] = gettext("Choose a kind of organization from the list.")
        kind = None
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    whole = await ecosystem.graph()
    g = ecosystem.filtered(whole, kind=kind, region=region)
    kind_labels = {k: kind_label(k) for k in ecosystem.KIND_ORDER}
    edge_labels = _edge_labels()
    counts = {k: sum(1 for e in g.edges if e.kind == k) for k in ecosystem.EDGE_KINDS}
    desc = gettext(
        "%(orgs)s organizations and %(ties)s ties between them. The list below the drawing "
        "names them all."
    ) % {"orgs": number(len(g.nodes)), "ties": number(len(g.edges))}
    desc += " " + "; ".join(f"{edge_labels[k]}: {number(n)}" for k, n in counts.items() if n)
    drawn = ecosystem.most_connected(g)
    if len(drawn.nodes) < len(g.nodes):
        desc += " " + gettext(
            "The drawing shows the %(count)s organizations with the most ties."
        ) % {"count": number(len(drawn.nodes))}
    drawing = ecosystem.drawing(
        drawn,
        title=gettext("Map of the organizations that worked together"),
        desc=desc,
        kind_labels=kind_labels,
        edge_labels=edge_labels,
    )
    listed = [
        n
        for n in g.nodes
        if (not kind or n.kind == kind) and (not region or n.region.lower() == region.lower())
    ]
    pages = max(1, -(-len(listed) // MAP_PAGE))
    page = min(page, pages)
    names = {n.id: n for n in whole.nodes}
    ties = g.neighbours()
    query = urlencode({k: v for k, v in (("kind", kind), ("region", region)) if v})
    return render(
        request,
        "opendata/ecosystem.html",
        drawing=drawing,
        drawn=len(drawn.nodes),
        drawn_all=len(drawn.nodes) == len(g.nodes),
        nodes=listed[(page - 1) * MAP_PAGE : page * MAP_PAGE],
        names=names,
        challenges=whole.challenges,
        ties=ties,
        kind_labels=kind_labels,
        edge_labels=edge_labels,
        regions=ecosystem.regions(whole),
        values={"kind": kind or "", "region": region or ""},
        errors=errors,
        page=page,
        pages=pages,
        query=query,
        total=len(listed),
        counts=counts,
        number=number,
    )


routes = [
    Route("/opendata", opendata_page, name="opendata"),
    Route("/opendata/dashboard", platform_dashboard, methods=["GET"]),
    Route("/opendata/cities/{organization_id:int}", city_dashboard, methods=["GET"]),
    Route("/opendata/ecosystem", ecosystem_page, methods=["GET"]),
]
