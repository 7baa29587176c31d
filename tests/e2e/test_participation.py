"""Citizen participation in a real browser: a resident proposes (a bad form first), two
neighbours support and comment, a manager of the region's city adopts it into a challenge
and publishes it, and the resident reads the news in their notifications. Every page is
checked with axe-core and photographed into `screenshots/`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from starlette.applications import Starlette

from service.accounts.models import OrganizationKind, Role, User
from service.participation.models import Proposal
from service.participation.tasks import sync_timelines
from tests.e2e.visit import Visit
from tests.factories import PASSWORD, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]

TITLE = "Broken street lights on Calle Mayor"
DESCRIPTION = (
    "Half of the street lights on Calle Mayor have been off since March.\n\n"
    "People avoid the street after dark and older neighbours stay at home."
)


@asynccontextmanager
async def browsing(browser: Browser, base_url: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=base_url, locale="en-US")
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def sign_in_at(page: Page, user: User, path: str) -> None:
    await page.goto(f"/signin?next={path}")
    await page.get_by_label("E-mail address").fill(user.email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("main").get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(re.escape(path) + "$"))


async def propose(page: Page, visit: Visit) -> str:
    form = page.get_by_role("main")
    await form.get_by_label("Region (your city or district)").fill("Madrid")
    await form.get_by_label("Title: the problem in a few words").fill("Dark")
    await form.get_by_label("Describe the problem").fill("Too dark")
    await form.get_by_role("button", name="Publish the proposal").click()
    await expect(page.get_by_role("alert")).to_contain_text("Please correct the fields")
    await expect(form.get_by_label("Title: the problem in a few words")).to_have_attribute(
        "aria-invalid", "true"
    )
    await visit.check(page, "form-errors")
    await form.get_by_label("Title: the problem in a few words").fill(TITLE)
    await form.get_by_label("Describe the problem").fill(DESCRIPTION)
    await form.get_by_label("Who is affected").fill("Everyone walking home after dark.")
    await form.get_by_label("Government area").select_option("public_safety")
    await form.get_by_label("11. Sustainable cities and communities").check()
    await form.get_by_role("button", name="Publish the proposal").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    await visit.check(page, "proposal-new")
    return re.sub(r"^https?://[^/]+", "", page.url)


async def support_and_comment(page: Page, visit: Visit, text: str, stance: str) -> None:
    await page.get_by_role("button", name="Support this proposal").click()
    await expect(page.get_by_role("region", name="Support")).to_contain_text("You support")
    comments = page.get_by_role("region", name="Deliberation")
    await comments.get_by_label(stance, exact=True).check()
    await comments.get_by_label("Your comment").fill(text)
    await comments.get_by_role("button", name="Publish the comment").click()
    await expect(page.get_by_role("region", name="Deliberation")).to_contain_text(text)
    await visit.check(page, f"proposal-supported-{stance.lower()}")


async def test_propose_support_adopt_publish_and_hear_of_it(
    browser: Browser, base_url: str, app: Starlette, screenshots: Path
) -> None:
    visit = Visit(screenshots, "participation")
    author = await make_user(name="Rosa Resident")
    neighbours = [await make_user(name="Nico Neighbour"), await make_user(name="Vera Vecina")]
    manager = await make_user(name="Mara Manager")
    await make_org(
        kind=OrganizationKind.government,
        name="Ayuntamiento Centro",
        members={manager: Role.manager},
    )

    async with browsing(browser, base_url) as page:
        await sign_in_at(page, author, "/proposals/new")
        await visit.check(page, "form")
        path = await propose(page, visit)
    proposal = await Proposal.get(title=TITLE)

    for neighbour, (text, stance) in zip(
        neighbours,
        [("Yes, it is pitch dark at night.", "For"), ("The square end is fine.", "Against")],
        strict=True,
    ):
        async with browsing(browser, base_url) as page:
            await sign_in_at(page, neighbour, path)
            await support_and_comment(page, visit, text, stance)
    assert (await Proposal.get(id=proposal.id)).support_count == 2

    async with browsing(browser, base_url) as page:
        await page.goto("/proposals")
        await expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
        await expect(page.get_by_role("main")).to_contain_text("2 supporters")
        await visit.check(page, "list")
        await page.goto("/")
        await expect(page.get_by_role("region", name="Citizen proposals")).to_contain_text(TITLE)
        await visit.check(page, "home")

    async with browsing(browser, base_url) as page:
        await sign_in_at(page, manager, path)
        await visit.check(page, "proposal-manager")
        await page.get_by_role("button", name="Adopt into a challenge").click()
        await expect(page).to_have_url(re.compile(r"/challenges/\d+/edit$"))
        challenge_path = re.sub(r"^https?://[^/]+", "", page.url).removesuffix("/edit")
        await page.goto(challenge_path)
        origin = page.get_by_role("region", name="Born from a citizen proposal")
        await expect(origin).to_contain_text("2 supporters")
        await page.get_by_role("button", name="Publish", exact=True).click()
        await expect(page.get_by_role("main")).to_contain_text("Published")
        await visit.check(page, "challenge-published")

    # The worker's timeline job notices the publication.
    await sync_timelines(app.state.deps)

    async with browsing(browser, base_url) as page:
        await sign_in_at(page, author, "/notifications")
        items = page.get_by_role("main").get_by_role("listitem")
        await expect(items.filter(has_text="The challenge was published")).to_have_count(1)
        await expect(items.filter(has_text="adopted the proposal")).to_have_count(1)
        await visit.check(page, "notifications")
        await items.get_by_role("link", name=re.compile("The challenge was published")).click()
        await expect(page).to_have_url(re.compile(re.escape(challenge_path) + "$"))
        await expect(page.get_by_role("region", name="Updates")).to_contain_text(
            "The challenge was published"
        )
        await visit.check(page, "challenge-public")
        await page.goto(path)
        await expect(page.get_by_role("region", name="The city's answer")).to_contain_text(
            "Adopted into the challenge"
        )
        await visit.check(page, "proposal-adopted")
