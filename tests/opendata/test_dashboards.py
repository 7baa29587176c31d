"""Dashboards: their figures equal sums taken straight from the ledger and the database, the CSV
datasets tell the same, and the pages draw accessible charts with a table beside each."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from service import db
from service.accounts.models import Organization
from service.applications.models import Award
from service.challenges.models import Challenge, ChallengeStatus
from service.config import Settings
from service.core.i18n import translations
from service.core.vocab import status_label
from service.rewards.demo_dates import DUE_AFTER, PAID
from service.rewards.models import LedgerTransaction, Payout
from tests.challenges.factories import challenge_body
from tests.challenges.helpers import make_city
from tests.challenges.test_applications import applicant, open_challenge
from tests.opendata.test_ocds import pay
from tests.rewards.helpers import Awarded, awarded, bank_account, fund

V1 = "/api/v1/opendata"


@dataclass
class World:
    a: Awarded
    b: Awarded
    draft_id: int
    draft_city: int
    open_id: int


async def world(client: httpx.AsyncClient) -> World:
    """Two awarded challenges of two cities, one with a consortium and a paid milestone, the
    other with both milestones paid; an open challenge with money in escrow; a draft."""
    a = await awarded(client, amounts=(1_000_000, 2_000_000), partner_share=30)
    assert a.partner is not None and a.partner_org is not None
    await bank_account(client, a.winner, a.winner_org)
    await bank_account(client, a.partner, a.partner_org)
    await pay(client, a, a.milestone_ids[0])
    b = await awarded(client, amounts=(700_000, 300_000), funded=5_000_000)
    await bank_account(client, b.winner, b.winner_org)
    for milestone_id in b.milestone_ids:
        await pay(client, b, milestone_id)
    city, open_id = await open_challenge(client, area="water")
    await fund(client, city, open_id, 1_200_000)
    hidden_city = await make_city(client)
    created = await client.post(
        "/api/v1/challenges",
        json=challenge_body(
            hidden_city.org,
            title="Unpublished plan",
            reward={"amount_minor": 9_999_999, "currency": "EUR"},
        ),
        headers=hidden_city.editor.headers,
    )
    assert created.status_code == 201, created.text
    return World(a, b, int(created.json()["id"]), hidden_city.org.id, open_id)


async def expected(city_id: int | None = None) -> dict[str, Any]:
    """The dashboard's figures, summed here from the tables themselves."""
    challenges = Challenge.exclude(status=ChallengeStatus.draft).filter(published_at__isnull=False)
    if city_id is not None:
        challenges = challenges.filter(organization_id=city_id)
    rows = await challenges
    ids = [c.id for c in rows]
    ledger = await LedgerTransaction.filter(challenge_id__in=ids)
    money: dict[str, Counter[str]] = {}
    for c in rows:
        money.setdefault(c.currency, Counter())["committed"] += c.reward_amount_minor
    for t in ledger:
        sums = money.setdefault(t.currency, Counter())
        sums[t.kind.value] += t.amount_minor
    awards = await Award.filter(challenge_id__in=ids)
    first_paid: dict[int, datetime] = {}
    for t in ledger:
        if t.kind.value != "payout":
            continue
        payout = await Payout.get(id=int(t.key.split(":")[1])).prefetch_related("milestone")
        award_id = payout.milestone.award_id
        if award_id not in first_paid or t.created_at < first_paid[award_id]:
            first_paid[award_id] = t.created_at
    days = [
        (first_paid[a.id] - a.created_at).total_seconds() / 86400
        for a in awards
        if a.id in first_paid
    ]
    return {
        "challenges": len(rows),
        "by_status": dict(Counter(c.status.value for c in rows)),
        "by_area": dict(Counter(c.area.value for c in rows)),
        "money": {
            currency: (
                sums["committed"],
                sums["fund"] - sums["refund"],
                sums["payout"] - sums["reversal"],
            )
            for currency, sums in money.items()
        },
        "awards": len(awards),
        "paid_awards": len(days),
        "median_days": round(statistics.median(days), 1) if days else None,
    }


def figures(body: dict[str, Any]) -> dict[str, Any]:
    for money in body["money"]:
        last = money["months"][-1]
        # The headline totals are the last month's running totals.
        assert (last["committed_minor"], last["escrowed_minor"], last["paid_minor"]) == (
            money["committed_minor"],
            money["escrowed_minor"],
            money["paid_minor"],
        )
        assert last["month"] == datetime.now(UTC).strftime("%Y-%m")
    delays = body["award_to_first_payout"]
    assert sum(b["awards"] for b in delays["buckets"]) == delays["paid_awards"]
    return {
        "challenges": body["challenges"],
        "by_status": {c["key"]: c["count"] for c in body["challenges_by_status"]},
        "by_area": {c["key"]: c["count"] for c in body["challenges_by_area"]},
        "money": {
            m["currency"]: (m["committed_minor"], m["escrowed_minor"], m["paid_minor"])
            for m in body["money"]
        },
        "awards": body["awards"],
        "paid_awards": delays["paid_awards"],
        "median_days": delays["median_days"],
    }


class TestFigures:
    async def test_platform_and_city_figures_equal_the_ledger_and_the_database(
        self, client: httpx.AsyncClient
    ) -> None:
        w = await world(client)
        platform = (await client.get(f"{V1}/dashboard")).json()
        assert platform["scope"] == {"kind": "platform", "organization_id": None, "name": None}
        want = await expected()
        assert figures(platform) == want
        # What the world put in, written out: three published challenges, two awards paid.
        assert want["challenges"] == 3 and want["awards"] == 2 and want["paid_awards"] == 2
        committed, escrowed, paid = want["money"]["EUR"]
        assert paid == 1_000_000 + 1_000_000 and committed == 3 * 5_000_000
        assert escrowed == 5_000_000 + 5_000_000 + 1_200_000
        assert platform["winners"] == 2
        cities = {c["organization_id"]: c for c in platform["cities"]}
        assert w.a.city.org.id in cities and cities[w.a.city.org.id]["challenges"] == 1
        assert w.draft_city not in cities

        response = await client.get(f"{V1}/cities/{w.b.city.org.id}/dashboard")
        assert response.status_code == 200, response.text
        city = response.json()
        assert city["scope"]["name"] == w.b.city.org.name and city["cities"] == []
        assert figures(city) == await expected(w.b.city.org.id)
        assert figures(city)["money"]["EUR"][2] == 1_000_000

    async def test_money_by_month_is_a_running_total(self, client: httpx.AsyncClient) -> None:
        await world(client)
        (money,) = (await client.get(f"{V1}/dashboard")).json()["money"]
        months = money["months"]
        assert months[0]["committed_minor"] == months[0]["paid_minor"] == 0
        assert [m["month"] for m in months] == sorted(m["month"] for m in months)
        for key in ("committed_minor", "paid_minor"):
            values = [m[key] for m in months]
            assert values == sorted(values), key

    async def test_only_a_city_has_a_dashboard(self, client: httpx.AsyncClient) -> None:
        _, startup = await applicant(client)
        for path in (f"{V1}/cities/{startup}/dashboard", f"{V1}/cities/999999/dashboard"):
            response = await client.get(path)
            assert response.status_code == 404
            assert response.json()["error"] == "NotFound"
        assert (await client.get(f"/opendata/cities/{startup}")).status_code == 404

    async def test_an_empty_platform_shows_no_figure_as_measured(
        self, client: httpx.AsyncClient
    ) -> None:
        body = (await client.get(f"{V1}/dashboard")).json()
        assert body["challenges"] == 0 and body["money"] == []
        assert body["challenges_by_status"] == [] and body["challenges_by_area"] == []
        assert body["award_to_first_payout"]["median_days"] is None
        page = await client.get("/opendata/dashboard")
        assert page.status_code == 200
        assert "No published challenge yet." in page.text and "<svg" not in page.text


class TestTheCsvTellsTheSame:
    async def test_csv_parses_back_to_the_dashboard_figures(
        self, client: httpx.AsyncClient
    ) -> None:
        await world(client)
        body = (await client.get(f"{V1}/dashboard")).json()
        text = (await client.get(f"{V1}/challenges.csv")).text
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == body["challenges"]
        assert dict(Counter(r["status"] for r in rows)) == {
            c["key"]: c["count"] for c in body["challenges_by_status"]
        }
        assert dict(Counter(r["area"] for r in rows)) == {
            c["key"]: c["count"] for c in body["challenges_by_area"]
        }
        (money,) = body["money"]
        assert sum(int(r["reward_amount_minor"]) for r in rows) == money["committed_minor"]
        assert sum(int(r["escrowed_minor"]) for r in rows) == money["escrowed_minor"]
        assert sum(int(r["paid_minor"]) for r in rows) == money["paid_minor"]
        payouts = list(csv.DictReader(io.StringIO((await client.get(f"{V1}/payouts.csv")).text)))
        assert sum(int(p["amount_minor"]) for p in payouts) == money["paid_minor"]
        awards = list(csv.DictReader(io.StringIO((await client.get(f"{V1}/awards.csv")).text)))
        assert len(awards) == body["awards"]


class TestPages:
    async def test_charts_are_accessible_svg_with_a_table_beside(
        self, client: httpx.AsyncClient
    ) -> None:
        w = await world(client)
        page = await client.get("/opendata/dashboard")
        assert page.status_code == 200
        text = page.text
        for chart in ("chart-status", "chart-area", "chart-money-eur", "chart-delay"):
            assert 'role="img" class="chart"' in text
            assert f'aria-labelledby="{chart}-title {chart}-desc"' in text, chart
            assert f'<title id="{chart}-title">' in text and f'<desc id="{chart}-desc">' in text
        for caption in ("status-table", "area-table", "money-table-eur", "delay-table"):
            assert f'<caption id="{caption}">' in text, caption
        # The tables hold the figures the charts draw, named in words.
        body = (await client.get(f"{V1}/dashboard")).json()
        for c in body["challenges_by_status"]:
            assert (
                f'<th scope="row">{status_label(c["key"])}</th><td class="amount">{c["count"]}<'
                in text
            )
        assert '<th scope="row">Water</th><td class="amount">1<' in text
        assert f'href="/opendata/cities/{w.a.city.org.id}"' in text
        assert "€20,000.00" in text  # paid in all, in the money table and the headline
        assert "Unpublished plan" not in text and "99,999.99" not in text

        city = await client.get(f"/opendata/cities/{w.a.city.org.id}")
        assert city.status_code == 200 and w.a.city.org.name in city.text
        assert "€10,000.00" in city.text
        org_page = await client.get(f"/organizations/{w.a.city.org.id}")
        assert f'href="/opendata/cities/{w.a.city.org.id}"' in org_page.text
        assert 'href="/opendata/dashboard"' in (await client.get("/")).text
        index = (await client.get("/opendata")).text
        assert 'href="/opendata/dashboard"' in index and 'href="/opendata/ecosystem"' in index

    async def test_the_dashboard_reads_in_spanish_and_portuguese(
        self, client: httpx.AsyncClient
    ) -> None:
        await world(client)
        for language in ("es", "pt"):
            page = await client.get(f"/opendata/dashboard?lang={language}")
            assert page.status_code == 200
            assert f'<html lang="{language}">' in page.text
            # Strings go through the catalogs: a translated one shows translated.
            title = translations(language).gettext("Open data")
            assert title in page.text


async def _org_names(*ids: int) -> list[str]:
    async with db.transaction(None):
        return [o.name for o in await Organization.filter(id__in=list(ids))]


class TestPureParts:
    def test_months_and_scales(self) -> None:
        from service.opendata.charts import nice_scale
        from service.opendata.dashboards import _month_before, months_between

        assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
        assert _month_before("2026-01") == "2025-12" and _month_before("2026-07") == "2026-06"
        assert [nice_scale(v) for v in (0, 7, 10, 11, 240, 251, 999_999)] == [
            (1, 1),
            (8, 4),
            (10, 5),
            (20, 4),
            (300, 3),
            (300, 3),
            (1_000_000, 5),
        ]

    def test_every_text_in_a_chart_is_escaped(self) -> None:
        from service.opendata.charts import Bar, bar_chart

        svg = bar_chart("c", title="<b>", desc="a & b", bars=[Bar("<script>", 1, "1")])
        assert "<script>" not in svg and "&lt;script&gt;" in svg and "a &amp; b" in svg


class TestDemoData:
    async def test_the_demo_fills_the_dashboards_and_the_map(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        from service.demo import seed

        await seed(settings)
        body = (await client.get(f"{V1}/dashboard")).json()
        assert figures(body) == await expected()
        assert body["challenges"] >= 10 and body["awards"] >= 1
        # What the city reads matches the demo's calendar: each award's first milestone is paid
        # two days before it falls due, a month after the award (service/rewards/demo_dates.py).
        first_payment = (DUE_AFTER[0] - PAID).total_seconds() / 86400
        assert body["award_to_first_payout"]["median_days"] == first_payment
        assert sum(m["paid_minor"] for m in body["money"]) > 0
        graph = (await client.get(f"{V1}/ecosystem")).json()
        assert {e["kind"] for e in graph["edges"]} >= {"award"}
        for city in body["cities"]:
            response = await client.get(city["url"])
            assert response.status_code == 200
        print(
            f"demo data: {body['challenges']} challenges, {body['awards']} awards, "
            f"{len(graph['nodes'])} organizations and {len(graph['edges'])} ties on the map"
        )
