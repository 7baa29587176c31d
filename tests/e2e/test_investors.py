"""The deal flow in a real browser, investor and startup each in a browser of their own.

An investor of a verified fund writes its thesis and watches the count of matching startups
change as it ticks sectors (the page's script), saves it, and the worker ranks the startups;
it browses and filters the deal flow, opens a startup, watches it with a private note and
asks for an intro. The startup sees the request, accepts it, and both then see each other's
contact. Every page is checked with axe-core and photographed into `screenshots/`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from service import db
from service.accounts.models import OrganizationKind, Role, User
from service.matching.models import Match, StartupProfile
from tests.e2e.test_accounts import Visit, expect_heading, unique_email
from tests.e2e.test_applications import signed_in
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]

STARTUPS = [
    ("BusFlow", ["mobility"], "seed", 30_000_000, "Bus routes that adapt to traffic in Madrid."),
    ("RiverSense", ["water"], "seed", 20_000_000, "Sensors that find leaks in water networks."),
    ("ParkLane", ["mobility", "environment"], "pre_seed", 15_000_000, "Parking sensors."),
    ("Quiet Co", ["water"], "seed", 10_000_000, "Not in the deal flow."),
]


async def fits_phone(page: Page, screenshots: Path, name: str) -> None:
    """The page on a phone-sized screen: photographed, and no sideways scrolling."""
    size = page.viewport_size
    await page.set_viewport_size({"width": 360, "height": 740})
    try:
        await page.screenshot(path=screenshots / f"investors-phone-{name}.png", full_page=True)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px on a phone"
    finally:
        if size is not None:
            await page.set_viewport_size(size)


async def _people() -> tuple[User, int, dict[str, tuple[User, int]]]:
    partner = await make_user(email=unique_email("partner"), name="Paula Partner")
    fund = await make_org(
        kind=OrganizationKind.investor, name="Meseta Ventures", members={partner: Role.owner}
    )
    startups = {}
    for name, sectors, stage, ask, text in STARTUPS:
        owner = await make_user(email=unique_email(name.lower()), name=f"{name} founder")
        org = await make_org(kind=OrganizationKind.startup, name=name, members={owner: Role.owner})
        async with db.transaction(None):
            await StartupProfile.create(
                organization=org,
                sectors=sectors,
                stage=stage,
                funding_ask_minor=ask,
                region="Madrid",
                text=text,
                dealflow_opt_in=name != "Quiet Co",
            )
        startups[name] = (owner, org.id)
    return partner, fund.id, startups


async def test_thesis_dealflow_watch_intro_accept(
    browser: Browser,
    base_url: str,
    screenshots: Path,
    worker_burst: Callable[[], Awaitable[None]],
) -> None:
    visit = Visit(screenshots, "investors")
    partner, fund_id, startups = await _people()
    async with signed_in(browser, base_url, partner) as page:
        await page.goto(f"/investors/{fund_id}/thesis")
        await expect_heading(page, "Investment thesis")
        count = page.locator("#preview-count")
        await page.get_by_label("Water").check()
        await expect(count).to_have_text(re.compile(r"startups? in the deal flow match"))
        water_only = await count.text_content()
        await page.get_by_label("Mobility").check()
        await expect(count).not_to_have_text(water_only or "")
        await page.get_by_label("Smallest ticket (EUR)").fill("50000")
        await page.get_by_label("Largest ticket (EUR)").fill("1000000")
        await page.get_by_label("Regions, separated by commas").fill("Madrid")
        await page.get_by_label("In your words").fill("Mobility and water for Spanish cities.")
        await visit.check(page, "thesis")
        await fits_phone(page, screenshots, "thesis")
        await page.get_by_role("button", name="Save the thesis").click()
        await expect(page.locator(".notice.ok")).to_have_text("Thesis saved.")

        # The worker ranks the startups for the new thesis.
        await worker_burst()
        assert await Match.filter(investor_id=fund_id).count() >= 2

        # The investor pages' own tabs (the main menu has a "Deal flow" link too).
        investor_pages = page.get_by_role("navigation", name="Investor pages")
        await investor_pages.get_by_role("link", name="Deal flow").click()
        await expect_heading(page, "Deal flow")
        main = page.get_by_role("main")
        await expect(main.get_by_role("link", name="BusFlow")).to_be_visible()
        await expect(main.get_by_role("link", name="RiverSense")).to_be_visible()
        await expect(main.get_by_text("Quiet Co")).to_have_count(0)
        await expect(main.get_by_text(re.compile(r"^Why:")).first).to_be_visible()
        await visit.check(page, "dealflow")
        await fits_phone(page, screenshots, "dealflow")
        await page.get_by_label("Sector").select_option("water")
        await page.get_by_role("button", name="Show startups").click()
        await expect(main.get_by_role("link", name="RiverSense")).to_be_visible()
        await expect(main.get_by_role("link", name="BusFlow")).to_have_count(0)
        await visit.check(page, "dealflow-filtered")

        await main.get_by_role("link", name="RiverSense").click()
        await expect_heading(page, "RiverSense")
        await visit.check(page, "startup")
        await fits_phone(page, screenshots, "startup")
        await page.get_by_label("Private note (only your organization sees it)").fill(
            "Met them at the water fair."
        )
        await page.get_by_role("button", name="Watch this startup").click()
        await expect(page.locator(".notice.ok")).to_have_text("Saved to your watchlist.")
        await page.get_by_role("button", name="Request an intro").click()
        await expect(page.get_by_label("Message to the startup")).to_have_attribute(
            "aria-invalid", "true"
        )
        await page.get_by_label("Message to the startup").fill("Could we meet next week?")
        await page.get_by_role("button", name="Request an intro").click()
        await expect_heading(page, "Intro requests")
        await expect(page.get_by_text("Waiting for an answer")).to_be_visible()
        founder = startups["RiverSense"][0]
        assert founder.email not in await page.content()
        await visit.check(page, "intros-open")
        await investor_pages.get_by_role("link", name="Watchlist").click()
        await expect(page.get_by_text("Met them at the water fair.")).to_be_visible()
        await visit.check(page, "watchlist")

    founder, startup_id = startups["RiverSense"]
    async with signed_in(browser, base_url, founder) as page:
        await page.goto(f"/startups/{startup_id}/profile")
        await expect_heading(page, "Deal flow profile")
        await visit.check(page, "profile")
        await page.get_by_role("link", name="Who viewed you and asked for an intro").click()
        await expect_heading(page, "Investor interest")
        await expect(page.get_by_text("Could we meet next week?")).to_be_visible()
        await expect(page.get_by_role("cell", name="Meseta Ventures")).to_be_visible()
        assert partner.email not in await page.content()
        await visit.check(page, "interest")
        await page.get_by_label("Optional message to Meseta Ventures").fill("Gladly.")
        await page.get_by_role("button", name="Accept and share contacts").click()
        await expect(page.locator(".notice.ok")).to_have_text(
            "Accepted: you now see each other's contact."
        )
        await expect(page.get_by_role("link", name=partner.email)).to_be_visible()
        await visit.check(page, "interest-accepted")

    async with signed_in(browser, base_url, partner) as page:
        await page.goto(f"/investors/{fund_id}/intros")
        await expect(page.get_by_role("link", name=founder.email)).to_be_visible()
        await expect(page.get_by_text("Gladly.")).to_be_visible()
        await visit.check(page, "intros-accepted")


async def test_an_unverified_fund_sees_no_deal_flow(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    visit = Visit(screenshots, "investors-unverified")
    partner = await make_user(email=unique_email("unverified"))
    fund = await make_org(
        kind=OrganizationKind.investor, verified=False, members={partner: Role.owner}
    )
    startup = await make_org(kind=OrganizationKind.startup, name="Visible Startup")
    async with db.transaction(None):
        await StartupProfile.create(organization=startup, sectors=["water"], dealflow_opt_in=True)
        await Match.create(
            investor=fund, startup=startup, rank=1, score=0.9, computed_at=datetime.now(UTC)
        )
    async with signed_in(browser, base_url, partner) as page:
        await page.goto(f"/investors/{fund.id}/dealflow")
        await expect(page.get_by_text("Visible Startup")).to_have_count(0)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Something is not right")
        await visit.check(page, "refused")
        await page.goto(f"/investors/{fund.id}/thesis")
        await expect(page.get_by_text("has not verified")).to_be_visible()
