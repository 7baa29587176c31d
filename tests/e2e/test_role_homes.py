"""Each role's home in a real browser: the person signs in (the one address typed is /signin),
lands on their home at `/`, and does their first task by following its links alone.

Every page on the way is checked with axe-core and photographed; each home is also read on a
390 px phone, where the main menu folds behind "Menu" and opens without JavaScript. The
citizen reads everything in Spanish. Finance and operators sign in with two-factor, as
releasing money and verifying organizations demand.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from service import db
from service.accounts.models import Organization, OrganizationKind, Role, User
from service.applications.models import Application, ApplicationStatus, JudgeAssignment
from service.challenges.models import Challenge, ChallengeStatus, Question
from service.core.i18n import translations
from service.matching.models import Match, StartupProfile
from service.rewards.models import Milestone, MilestoneStatus
from tests import factories
from tests.challenges.factories import make_draft_challenge
from tests.e2e.visit import PHONE, Visit
from tests.rewards.helpers import approved, awarded, bank_account

# `app` is the served app: using it cleans the tables after the test.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]
CODE_LABEL = "Code from your authenticator app"


@asynccontextmanager
async def home_of(
    browser: Browser, base_url: str, user: User, *, locale: str = "en-US"
) -> AsyncIterator[Page]:
    """A browser of the user's own, signed in through the form: it lands on the home."""
    context = await browser.new_context(base_url=base_url, locale=locale)
    context.set_default_timeout(10_000)
    try:
        page = await context.new_page()
        await page.goto("/signin")
        await page.locator("[name=email]").fill(user.email)
        await page.locator("[name=password]").fill(factories.PASSWORD)
        await page.get_by_role("main").get_by_role("button").first.click()
        if user.totp_secret:
            code = page.locator("[name=code], [name=totp]").first
            await code.fill(await factories.totp_code(user))
            await page.get_by_role("main").get_by_role("button").first.click()
        await expect(page).to_have_url(re.compile(r"/$"))
        yield page
    finally:
        await context.close()


async def check_home(page: Page, visit: Visit, name: str) -> None:
    """The home: axe at 0, and on a phone no sideways scroll and a menu that opens."""
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await visit.check(page, name)
    await visit.fits_phone(page, name)
    size = page.viewport_size
    await page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
    try:
        menu = page.locator("details.menu")
        links = menu.locator("ul.nav")
        await expect(links).to_be_hidden()
        await menu.locator("summary").click()
        await expect(links).to_be_visible()
        await visit.check(page, f"{name}-menu-open")
        await menu.locator("summary").click()
    finally:
        if size is not None:
            await page.set_viewport_size(size)


async def open_challenge(city: Organization, **fields: object) -> Challenge:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "title": "Cut school-bus delays in the north district",
        "opens_at": now - timedelta(days=1),
        "closes_at": now + timedelta(days=20),
        "judging_ends_at": now + timedelta(days=50),
        "status": ChallengeStatus.open,
        "published_at": now - timedelta(days=1),
        **fields,
    }
    async with db.transaction(None):
        return await make_draft_challenge(city, **values)


async def test_city_manager_answers_a_question_from_home(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    manager = await factories.make_user(name="Marta Manager")
    city = await factories.make_org(
        kind=OrganizationKind.government, members={manager: Role.manager}
    )
    challenge = await open_challenge(city)
    asker = await factories.make_user(name="Rosa Resident")
    async with db.transaction(None):
        await Question.create(
            challenge=challenge, author=asker, text="Can the buses share their GPS data?"
        )
    visit = Visit(screenshots, "role-home-city")
    async with home_of(browser, base_url, manager) as page:
        nav = page.get_by_role("navigation", name="Main")
        await expect(nav.get_by_role("link", name="Your challenges")).to_be_visible()
        await expect(nav.get_by_role("link", name="Applications")).to_have_count(0)
        await check_home(page, visit, "home")
        questions = page.locator("#city-questions")
        await expect(questions).to_contain_text("(1)")
        await page.get_by_role("link", name="Can the buses share their GPS data?").click()
        await expect(page).to_have_url(re.compile(rf"/challenges/{challenge.id}#question-\d+$"))
        await visit.check(page, "challenge")
        await page.get_by_label("Answer in public").fill("Yes: the feed is open data.")
        await page.get_by_role("button", name="Publish the answer").click()
        await expect(page.get_by_text("Yes: the feed is open data.").first).to_be_visible()
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
        await expect(page.locator("#city-questions")).to_contain_text("(0)")
        await visit.check(page, "home-after")


async def test_startup_submits_its_draft_from_home(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    city = await factories.make_org(kind=OrganizationKind.government)
    challenge = await open_challenge(city)
    founder = await factories.make_user(name="Sara Startup")
    startup = await factories.make_org(name="BusWise", members={founder: Role.owner})
    async with db.transaction(None):
        application = await Application.create(
            challenge=challenge,
            organization=startup,
            title="Live routes for school buses",
            summary="We plan routes around traffic with live data.",
            proposal="Three phases.",
            team="Five engineers.",
            budget_minor=4_000_000,
        )
    visit = Visit(screenshots, "role-home-startup")
    async with home_of(browser, base_url, founder) as page:
        nav = page.get_by_role("navigation", name="Main")
        await expect(nav.get_by_role("link", name="Applications")).to_be_visible()
        await expect(nav.get_by_role("link", name="Your challenges")).to_have_count(0)
        await check_home(page, visit, "home")
        await expect(page.locator("#applicant-drafts")).to_contain_text("(1)")
        await page.get_by_role("link", name="Live routes for school buses").click()
        await visit.check(page, "application")
        await page.get_by_role("button", name="Submit the application").click()
        await expect(page.get_by_role("status")).to_be_visible()
    assert (await Application.get(id=application.id)).status is ApplicationStatus.submitted


async def test_judge_opens_a_review_from_home(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    city = await factories.make_org(kind=OrganizationKind.government)
    now = datetime.now(UTC)
    challenge = await open_challenge(
        city, status=ChallengeStatus.judging, closes_at=now - timedelta(days=1)
    )
    judge = await factories.make_user(name="Jon Judge")
    async with db.transaction(None):
        for n in range(2):
            org = await factories.make_org(name=f"Applicant {n}")
            await Application.create(
                challenge=challenge,
                organization=org,
                title=f"Plan number {n}",
                summary="A plan.",
                status=ApplicationStatus.submitted,
                submitted_at=now - timedelta(days=2),
            )
        await JudgeAssignment.create(challenge=challenge, user=judge)
    visit = Visit(screenshots, "role-home-judge")
    async with home_of(browser, base_url, judge) as page:
        nav = page.get_by_role("navigation", name="Main")
        await expect(nav.get_by_role("link", name="Judging")).to_be_visible()
        await check_home(page, visit, "home")
        reviews = page.locator("#judging")
        await expect(reviews).to_contain_text("0 of 2 reviewed")
        await reviews.get_by_role("link", name=challenge.title).click()
        await expect(page).to_have_url(re.compile(rf"/judging/{challenge.id}$"))
        await visit.check(page, "judging")
        await page.get_by_role("link", name="Plan number 0").click()
        await expect(page).to_have_url(re.compile(r"/applications/\d+/review$"))
        await visit.check(page, "review")


async def test_investor_watches_a_new_match_from_home(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    partner = await factories.make_user(name="Ivo Investor")
    fund = await factories.make_org(
        kind=OrganizationKind.investor, name="Seed Fund", members={partner: Role.member}
    )
    startup = await factories.make_org(name="BusWise")
    async with db.transaction(None):
        await StartupProfile.create(
            organization=startup, sectors=["mobility"], dealflow_opt_in=True, text="Routes."
        )
        await Match.create(
            investor=fund, startup=startup, rank=1, score=0.8, computed_at=datetime.now(UTC)
        )
    visit = Visit(screenshots, "role-home-investor")
    async with home_of(browser, base_url, partner) as page:
        nav = page.get_by_role("navigation", name="Main")
        await expect(nav.get_by_role("link", name="Deal flow")).to_be_visible()
        await check_home(page, visit, "home")
        await expect(page.locator("#investor")).to_contain_text("1 startup is ranked")
        await page.get_by_role("link", name="Open the deal flow").click()
        await expect(page).to_have_url(re.compile(rf"/investors/{fund.id}/dealflow"))
        await visit.check(page, "dealflow")
        await page.get_by_role("main").get_by_role("link", name="BusWise").first.click()
        await visit.check(page, "startup")
        await page.get_by_role("button", name="Watch this startup").click()
        await expect(page.get_by_role("button", name="Stop watching")).to_be_visible()


async def test_operator_verifies_an_organization_from_home(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    operator = await factories.make_user(name="Olga Operator", operator=True, totp=True)
    await factories.make_org(name="Waiting Robotics", verified=False)
    visit = Visit(screenshots, "role-home-operator")
    async with home_of(browser, base_url, operator) as page:
        nav = page.get_by_role("navigation", name="Main")
        await expect(nav.get_by_role("link", name="Verify")).to_be_visible()
        await check_home(page, visit, "home")
        await expect(page.locator("#operator-verify")).to_contain_text("(1)")
        await page.get_by_role("link", name="Waiting Robotics").click()
        await expect(page).to_have_url(re.compile(r"/admin/organizations$"))
        await visit.check(page, "verify")
        await page.get_by_role("button", name=re.compile("Verify")).first.click()
        await expect(page.get_by_role("status")).to_be_visible()
    found = await Organization.get(name="Waiting Robotics")
    assert found.verified_at is not None


async def test_citizen_proposes_a_problem_from_home_in_spanish(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    es = translations("es")
    resident = await factories.make_user(name="Lucía Vecina")
    visit = Visit(screenshots, "role-home-citizen-es")
    async with home_of(browser, base_url, resident, locale="es-ES") as page:
        await expect(page.locator("html")).to_have_attribute("lang", "es")
        nav = page.get_by_role("navigation", name=es.gettext("Main"))
        await expect(nav.get_by_role("link", name=es.gettext("Applications"))).to_have_count(0)
        await check_home(page, visit, "home")
        await page.get_by_role("link", name=es.gettext("Propose a problem")).click()
        await expect(page).to_have_url(re.compile(r"/proposals/new$"))
        await visit.check(page, "form")
        await page.locator("[name=region]").fill("Madrid")
        await page.locator("[name=title]").fill("Sombra en las paradas de autobús")
        await page.locator("[name=description]").fill(
            "En verano las paradas del barrio norte no tienen ninguna sombra."
        )
        await page.get_by_role("button", name=es.gettext("Publish the proposal")).click()
        await expect(page).to_have_url(re.compile(r"/proposals/\d+$"))
        await (
            page.get_by_role("navigation", name=es.gettext("Main"))
            .get_by_role("link", name=es.gettext("Home"))
            .click()
        )
        mine = page.locator("#citizen")
        await expect(mine).to_contain_text("Sombra en las paradas de autobús")
        await visit.check(page, "home-after")


async def test_finance_releases_an_approved_milestone_from_home(
    browser: Browser, base_url: str, client: httpx.AsyncClient, screenshots: Path
) -> None:
    a = await awarded(client, amounts=(1_000_000,))
    await bank_account(client, a.winner, a.winner_org)
    await approved(client, a, a.milestone_ids[0])
    visit = Visit(screenshots, "role-home-finance")
    async with home_of(browser, base_url, a.treasurer.user) as page:
        await check_home(page, visit, "home")
        releases = page.locator("#city")
        await expect(releases).to_contain_text("Approved milestones to release (1)")
        await expect(releases).not_to_contain_text("Milestones to approve")
        await releases.get_by_role("link", name="Milestone 1").first.click()
        await expect(page).to_have_url(re.compile(rf"/awards/{a.award_id}#milestone-\d+$"))
        await visit.check(page, "award")
        await page.get_by_role("button", name=re.compile(r"^Release ")).click()
        await expect(page.get_by_role("status")).to_be_visible()
    milestone = await Milestone.get(id=a.milestone_ids[0])
    assert milestone.status is MilestoneStatus.released
