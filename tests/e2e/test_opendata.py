"""Dashboards, the ecosystem map and the provenance timeline in a real browser, checked with
axe-core in the three languages, with screenshots in `screenshots/`."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from service.accounts.models import Organization
from service.config import Settings
from service.core.i18n import translations
from tests.e2e.visit import Visit
from tests.incubation import helpers as incubation
from tests.opendata.test_ecosystem import world

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]


async def test_dashboards_map_and_provenance(
    page: Page, client: httpx.AsyncClient, screenshots: Path, settings: Settings
) -> None:
    w = await world(client)
    assert w.a.partner_org is not None
    # A winner of another city admitted to its incubation cohort.
    incubated = await incubation.admitted(client, settings)
    visit = Visit(screenshots, "opendata")

    await page.goto("/")
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboards").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Platform dashboard")
    for name in (
        "Challenges by state, the whole platform",
        "Challenges by government area, the whole platform",
    ):
        await expect(page.get_by_role("img", name=name)).to_be_visible()
    await expect(
        page.get_by_role("img", name="Money committed, escrowed and paid over time (EUR)")
    ).to_be_visible()
    money = page.get_by_role("table", name="Money by month (EUR)")
    # The header, the month before anything happened (all zero), and this month.
    await expect(money.get_by_role("row")).to_have_count(3)
    await expect(money).to_contain_text("€10,000.00")
    await expect(page.get_by_text("Startups incubated")).to_be_visible()
    assert incubated.a.winner_org
    await visit.check(page, "platform-dashboard")

    city = await Organization.get(id=w.a.city.org.id)
    await page.get_by_role("link", name=city.name).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Dashboard of {city.name}")
    await expect(
        page.get_by_role("table", name="Awards by days to their first payment")
    ).to_be_visible()
    await visit.check(page, "city-dashboard")

    for language in ("es", "pt"):
        await page.goto(f"/opendata/dashboard?lang={language}")
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await expect(
            page.get_by_role("link", name=translations(language).gettext("Open data")).first
        ).to_be_visible()
        await visit.check(page, f"platform-dashboard-{language}")

    await page.goto("/opendata?lang=en")
    await visit.check(page, "opendata")
    await page.get_by_role("link", name="Ecosystem map", exact=True).first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ecosystem map")
    await expect(
        page.get_by_role("img", name="Map of the organizations that worked together")
    ).to_be_visible()
    winner = await Organization.get(id=w.a.winner_org)
    await expect(page.get_by_role("heading", level=3, name=winner.name)).to_be_visible()
    incubation_tie = page.get_by_role("listitem").filter(
        has_text="Incubation (programme and startup)"
    )
    await expect(incubation_tie.first).to_be_visible()
    await visit.check(page, "ecosystem")
    # The filter works without JavaScript: a plain GET form.
    await page.get_by_label("Kind of organization").select_option("university")
    await page.get_by_label("Region").select_option("Porto")
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(re.compile(r"kind=university&region=Porto"))
    partner = await Organization.get(id=w.closed_pair[1])
    await expect(page.get_by_role("heading", level=3)).to_have_text([partner.name])
    await visit.check(page, "ecosystem-filtered")

    await page.goto(f"/challenges/{w.a.challenge_id}")
    timeline = page.get_by_role("table", name="Provenance of the challenge")
    await expect(timeline.get_by_role("row")).to_have_count(9)
    await expect(timeline).to_contain_text(f"Awarded to {winner.name}")
    await page.locator("#provenance").scroll_into_view_if_needed()
    await visit.check(page, "provenance")
