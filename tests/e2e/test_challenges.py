"""The challenges flow in a real browser, as the people of a city and its residents do it.

A city editor drafts a challenge (a bad form first) and reads the plain-language notes; a
manager of the same city publishes it; a visitor finds it on the list by search words and
filters, signs in and asks a question; the editor answers it in public and the resident is
told in the app. Every page is checked with axe-core and photographed into `screenshots/`.
A second pass filters the list and asks a question without JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from service.accounts.models import OrganizationKind, Role, User
from service.challenges.models import ChallengeStatus
from tests.challenges.factories import make_draft_challenge
from tests.e2e.visit import Visit
from tests.factories import PASSWORD, make_org, make_user

# `app` is the served app: using it cleans the tables and rate limits after each test.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]


FIX_FIELDS = "Please correct the fields marked below."
INVALID = "aria-invalid"
CITY = "Ciudad Norte"
TITLE = "Fewer flooded streets after summer storms"
SUMMARY = "Find cheap ways to keep streets dry after heavy rain."
PROBLEM = (
    "After a summer storm, water stays on the streets of the north district for hours.\n\n"
    "Buses stop, shops close and older people cannot cross the road. We want simple ideas "
    "that drain the water fast and cost little to run."
)
SUMMARY_LABEL = "Summary in one plain sentence (at most 200 characters)"
CRITERIA_GROUP = "Evaluation criteria (weights add up to 100)"
QUESTION = "Can two students from the same university apply as one team?"
ANSWER = "Yes. Any team from a university may apply, whatever its size."
MINUTE = "%Y-%m-%dT%H:%M"  # the value of a datetime-local field
CITIES_GOAL = "11. Sustainable cities and communities"
WATER_GOAL = "6. Clean water and sanitation"


@asynccontextmanager
async def browsing(
    browser: Browser, base_url: str, *, javascript: bool = True
) -> AsyncIterator[Page]:
    """A page in a browser profile of its own (no cookies), in English."""
    context: BrowserContext = await browser.new_context(
        base_url=base_url, locale="en-US", java_script_enabled=javascript
    )
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


def minutes(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(MINUTE)


def main_nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


def manage(page: Page) -> Locator:
    return page.get_by_role("region", name="Manage")


def questions(page: Page) -> Locator:
    return page.get_by_role("region", name="Questions and answers")


def results(page: Page) -> Locator:
    return page.get_by_role("region", name="Results")


async def expect_notice(page: Page, text: str) -> None:
    await expect(page.get_by_role("status").first).to_have_text(text)


async def expect_heading(page: Page, text: str) -> None:
    await expect(page.get_by_role("heading", level=1)).to_have_text(text)


async def expect_status_badge(page: Page, text: str) -> None:
    # The challenge's status badge (the money panel has a badge of its own).
    await expect(page.get_by_role("article").locator(".badge[class*='status-']")).to_have_text(text)


async def expect_field_error(page: Page, label: str, message: str) -> None:
    """The field is marked invalid and its error is part of its accessible description."""
    field = page.get_by_label(label, exact=True)
    await expect(field).to_have_attribute(INVALID, "true")
    await expect(field).to_have_accessible_description(re.compile(re.escape(message)))


async def expect_field_ok(page: Page, label: str) -> None:
    await expect(page.get_by_label(label, exact=True)).not_to_have_attribute(INVALID, "true")


async def sign_in(page: Page, user: User) -> None:
    await page.get_by_label("E-mail address").fill(user.email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("main").get_by_role("button", name="Sign in").click()


async def sign_in_at(page: Page, user: User, path: str) -> None:
    await page.goto(f"/signin?next={path}")
    await sign_in(page, user)
    await expect(page).to_have_url(re.compile(re.escape(path) + "$"))


# --- drafting ----------------------------------------------------------------------------


async def fill_challenge(
    page: Page,
    *,
    summary: str,
    weights: tuple[str, str],
    opens: datetime,
    closes: datetime,
) -> None:
    await page.get_by_label("Title", exact=True).fill(TITLE)
    await page.get_by_label(SUMMARY_LABEL).fill(summary)
    await page.get_by_label("Problem statement").fill(PROBLEM)
    await page.get_by_label("Area", exact=True).select_option(label="Water")
    await page.get_by_role("checkbox", name=CITIES_GOAL).check()
    await page.get_by_label("Region", exact=True).fill("Norte")
    who = page.get_by_role("group", name="Who may apply")
    await who.get_by_role("checkbox", name="Startup").check()
    await who.get_by_role("checkbox", name="University").check()
    await page.get_by_label("Reward", exact=True).fill("25000")
    await page.get_by_label("Criterion 1", exact=True).fill("Impact on flooding")
    await page.get_by_label("Weight 1", exact=True).fill(weights[0])
    await page.get_by_label("Criterion 2", exact=True).fill("Cost to run")
    await page.get_by_label("Weight 2", exact=True).fill(weights[1])
    await page.get_by_label("Opens", exact=True).fill(minutes(opens))
    await page.get_by_label("Closes", exact=True).fill(minutes(closes))
    await page.get_by_role("button", name="Save").click()


async def draft_challenge(page: Page, visit: Visit) -> str:
    """Returns the path of the new draft."""
    now = datetime.now(UTC)
    opens = now - timedelta(minutes=30)  # already open once published
    closes = now + timedelta(days=30)

    response = await page.goto("/challenges/new")
    assert response is not None and response.status == 200
    await expect_heading(page, "Draft a challenge")
    await expect(page.get_by_label("Organization")).to_have_text(CITY)

    # No summary, weights adding up to 90, and a closing date before the opening date.
    await fill_challenge(
        page, summary="", weights=("60", "30"), opens=opens, closes=opens - timedelta(days=1)
    )
    await expect(page.get_by_role("alert")).to_have_text(FIX_FIELDS)
    await expect_field_error(page, SUMMARY_LABEL, "This is too short.")
    criteria = page.get_by_role("group", name=CRITERIA_GROUP)
    await expect(criteria).to_contain_text("The weights of the criteria must add up to 100.")
    await expect_field_error(page, "Closes", "The closing date must come after the opening date.")
    for label in ("Title", "Problem statement", "Region", "Reward", "Opens"):
        await expect_field_ok(page, label)
    # Everything typed is still there.
    await expect(page.get_by_label("Title", exact=True)).to_have_value(TITLE)
    await expect(page.get_by_label(SUMMARY_LABEL)).to_have_value("")
    await expect(page.get_by_label("Problem statement")).to_have_value(PROBLEM)
    await expect(page.get_by_label("Area", exact=True)).to_have_value("water")
    goals = page.get_by_role("group", name="Sustainable Development Goals")
    await expect(goals.get_by_role("checkbox", checked=True)).to_have_count(1)
    await expect(goals.get_by_role("checkbox", name=CITIES_GOAL)).to_be_checked()
    await expect(page.get_by_label("Region", exact=True)).to_have_value("Norte")
    who = page.get_by_role("group", name="Who may apply")
    await expect(who.get_by_role("checkbox", checked=True)).to_have_count(2)
    await expect(who.get_by_role("checkbox", name="University")).to_be_checked()
    await expect(page.get_by_label("Reward", exact=True)).to_have_value("25000")
    await expect(page.get_by_label("Currency (ISO 4217)")).to_have_value("EUR")
    await expect(page.get_by_label("Criterion 2", exact=True)).to_have_value("Cost to run")
    await expect(page.get_by_label("Weight 2", exact=True)).to_have_value("30")
    await expect(page.get_by_label("Opens", exact=True)).to_have_value(minutes(opens))
    await expect(page.get_by_label("Closes", exact=True)).to_have_value(
        minutes(opens - timedelta(days=1))
    )
    await visit.check(page, "new-with-errors")

    await fill_challenge(page, summary=SUMMARY, weights=("60", "40"), opens=opens, closes=closes)
    await expect(page).to_have_url(re.compile(r"/challenges/\d+/edit$"))
    await expect_notice(page, "Draft saved. Check the readability notes before publishing.")
    await expect_heading(page, "Edit the challenge")
    notes = page.get_by_role("status").filter(has_text="Plain language")
    await expect(notes).to_contain_text("reading ease, 0\N{EN DASH}100, higher is easier")
    await expect(notes.get_by_role("listitem")).to_have_count(2)
    await expect(notes.get_by_role("listitem").first).to_have_text(re.compile(r"^Summary: \d"))
    await expect(notes.get_by_role("listitem").last).to_have_text(
        re.compile(r"^Problem statement: \d")
    )
    await expect(page.get_by_label(SUMMARY_LABEL)).to_have_value(SUMMARY)
    await expect(page.get_by_label("Weight 2", exact=True)).to_have_value("40")
    await visit.check(page, "edit-readability")
    return urlsplit(page.url).path.removesuffix("/edit")


async def see_draft_as_editor(page: Page, visit: Visit, path: str) -> None:
    await page.goto(path)
    await expect_heading(page, TITLE)
    await expect_status_badge(page, "Draft")
    await expect(manage(page).get_by_role("link", name="Edit")).to_be_visible()
    # Publishing is for managers.
    await expect(manage(page).get_by_role("button", name="Publish")).to_have_count(0)
    # The plain-language notes name the fields as the form does.
    await expect(manage(page).get_by_role("listitem")).to_have_text(
        [re.compile(r"^Summary: \d"), re.compile(r"^Problem statement: \d")]
    )
    await expect(questions(page).get_by_text("No questions yet.")).to_be_visible()
    await visit.check(page, "detail-draft-editor")


async def expect_draft_hidden(page: Page, path: str) -> None:
    """Until it is published, a draft is neither listed nor shown to people outside the city."""
    await page.goto("/challenges?q=flooded")
    await expect_not_found(page)
    response = await page.goto(path)
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", name=TITLE)).to_have_count(0)


async def publish(page: Page, visit: Visit, path: str) -> None:
    await expect_heading(page, TITLE)
    await expect_status_badge(page, "Draft")
    await visit.check(page, "detail-draft-manager")
    await manage(page).get_by_role("button", name="Publish").click()
    await expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    await expect_notice(page, "Published.")
    await expect_status_badge(page, "Open")
    await expect(manage(page).get_by_role("button", name="Publish")).to_have_count(0)
    await expect(page.get_by_role("region", name="Judging and awards")).to_be_visible()
    await visit.check(page, "detail-published-manager")


# --- finding it ---------------------------------------------------------------------------


async def show_challenges(
    page: Page,
    *,
    q: str = "",
    area: str = "Any",
    sdg: str = "Any",
    statuses: tuple[str, ...] = (),
) -> None:
    search = page.get_by_role("search", name="Search challenges")
    await search.get_by_label("Search", exact=True).fill(q)
    await search.get_by_label("Area").select_option(label=area)
    await search.get_by_label("Sustainable Development Goal").select_option(label=sdg)
    for box in await search.get_by_role("group", name="Status").get_by_role("checkbox").all():
        await box.set_checked(await box.get_attribute("value") in statuses)
    await search.get_by_role("button", name="Show challenges").click()
    await page.wait_for_load_state()


async def expect_found(page: Page) -> None:
    await expect(results(page).get_by_role("article")).to_have_count(1)
    card = results(page).get_by_role("article", name=TITLE)
    await expect(card).to_contain_text(SUMMARY)
    await expect(card).to_contain_text(CITY)
    await expect(card).to_contain_text("Water")
    await expect(card).to_contain_text("Open")


async def expect_not_found(page: Page) -> None:
    await expect(results(page).get_by_role("article")).to_have_count(0)
    await expect(results(page).get_by_role("paragraph")).to_have_text(
        "No challenge matches these filters."
    )


async def find_challenge(page: Page, visit: Visit, path: str) -> None:
    await page.goto("/")
    await main_nav(page).get_by_role("link", name="Challenges").click()
    await expect_heading(page, "Challenges")

    await show_challenges(page, q="flooded streets")
    await expect(page).to_have_url(re.compile(r"[?&]q=flooded\+streets"))
    await expect_found(page)
    await expect(page.get_by_label("Search", exact=True)).to_have_value("flooded streets")

    await show_challenges(
        page,
        q="storms",
        area="Water",
        sdg=CITIES_GOAL,
        statuses=("open",),
    )
    await expect_found(page)
    search = page.get_by_role("search", name="Search challenges")
    await expect(search.get_by_label("Area")).to_have_value("water")
    await expect(search.get_by_label("Sustainable Development Goal")).to_have_value("11")
    await expect(search.get_by_role("checkbox", name="Open", exact=True)).to_be_checked()
    await visit.check(page, "list-filtered")

    # Each filter that does not fit hides it.
    await show_challenges(page, q="storms", area="Energy")
    await expect_not_found(page)
    await show_challenges(page, sdg=WATER_GOAL)
    await expect_not_found(page)
    await show_challenges(page, area="Water", statuses=("upcoming", "closed"))
    await expect_not_found(page)
    await show_challenges(page, q="snow")
    await expect_not_found(page)
    await visit.check(page, "list-nothing-found")

    await show_challenges(page, area="Water", statuses=("open",))
    await results(page).get_by_role("link", name=TITLE).click()
    await expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    await expect_heading(page, TITLE)
    await expect_status_badge(page, "Open")
    await expect(manage(page)).to_have_count(0)
    # The paragraphs typed in the text area stay paragraphs.
    problem = page.get_by_role("region", name="The problem").get_by_role("paragraph")
    await expect(problem).to_have_count(2)
    await expect(problem.last).to_have_text(re.compile(r"^Buses stop, shops close"))
    await expect(page.get_by_role("table", name="Criteria and weights")).to_contain_text(
        "Impact on flooding"
    )
    await visit.check(page, "detail-visitor")


# --- questions ----------------------------------------------------------------------------


async def ask_question(page: Page, visit: Visit, citizen: User, path: str) -> None:
    invitation = "Sign in to ask a question or follow this challenge."
    await questions(page).get_by_role("link", name=invitation).click()
    await expect_heading(page, "Sign in")
    await sign_in(page, citizen)
    await expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    await expect(main_nav(page).get_by_role("link", name="Notifications")).to_be_visible()
    await expect(manage(page)).to_have_count(0)

    await questions(page).get_by_label("Ask a public question").fill(QUESTION)
    await questions(page).get_by_role("button", name="Ask", exact=True).click()
    await expect(page).to_have_url(re.compile(re.escape(path) + "#questions$"))
    await expect_notice(page, "Your question is published. You will be told when it is answered.")
    # Unsigned: a participant asked, never who.
    await expect(questions(page)).to_contain_text(f"A participant asked: {QUESTION}")
    await expect(questions(page)).not_to_contain_text(citizen.name)
    await expect(questions(page).get_by_label("Ask a public question")).to_have_value("")
    # Asking follows the challenge.
    await expect(questions(page).get_by_role("button", name="Stop following")).to_be_visible()
    await visit.check(page, "detail-citizen-asked")


async def answer_question(page: Page, visit: Visit, path: str) -> None:
    await page.goto(path)
    asked = questions(page).locator(".card").filter(has_text=QUESTION)
    await expect(asked).to_have_count(1)
    await asked.get_by_label("Answer in public").fill(ANSWER)
    await asked.get_by_role("button", name="Publish the answer").click()
    await expect(page).to_have_url(re.compile(re.escape(path) + r"#question-\d+$"))
    await expect_notice(page, "Answer published.")
    answered = questions(page).locator(".card").filter(has_text=QUESTION)
    await expect(answered).to_contain_text(f"Answer: {ANSWER}")
    await expect(answered.get_by_label("Correct the answer")).to_have_value(ANSWER)
    await visit.check(page, "detail-editor-answered")


async def read_answer(page: Page, visit: Visit, path: str) -> None:
    await page.goto(path)
    answered = questions(page).locator(".card").filter(has_text=QUESTION)
    await expect(answered).to_contain_text(f"Answer: {ANSWER}")
    await expect(answered.get_by_role("textbox")).to_have_count(0)
    await visit.check(page, "detail-public-answer")


async def read_notification(page: Page, visit: Visit, path: str) -> None:
    await main_nav(page).get_by_role("link", name="Notifications").click()
    await expect_heading(page, "Notifications")
    items = page.get_by_role("main").get_by_role("listitem")
    await expect(items).to_have_count(1)
    await expect(items).to_contain_text("new")
    await expect(items).to_contain_text(TITLE)
    await visit.check(page, "notifications")
    await items.get_by_role("link", name="A question was answered").click()
    await expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    await expect(questions(page)).to_contain_text(f"Answer: {ANSWER}")
    await visit.check(page, "detail-citizen-answered")


# --- the tests ---------------------------------------------------------------------------


async def test_challenge_flow(browser: Browser, base_url: str, screenshots: Path) -> None:
    editor = await make_user(name="Elena Ruiz")
    manager = await make_user(name="Marco Diaz")
    citizen = await make_user(name="Carla Nunes")
    await make_org(
        kind=OrganizationKind.government,
        name=CITY,
        members={editor: Role.editor, manager: Role.manager},
    )
    visit = Visit(screenshots, "challenges")
    async with AsyncExitStack() as stack:
        editor_page = await stack.enter_async_context(browsing(browser, base_url))
        manager_page = await stack.enter_async_context(browsing(browser, base_url))
        visitor_page = await stack.enter_async_context(browsing(browser, base_url))
        passer_by = await stack.enter_async_context(browsing(browser, base_url))

        await sign_in_at(editor_page, editor, "/challenges/new")
        path = await draft_challenge(editor_page, visit)
        await see_draft_as_editor(editor_page, visit, path)
        await expect_draft_hidden(passer_by, path)

        await sign_in_at(manager_page, manager, path)
        await publish(manager_page, visit, path)

        await find_challenge(visitor_page, visit, path)
        await ask_question(visitor_page, visit, citizen, path)
        await answer_question(editor_page, visit, path)
        await read_answer(passer_by, visit, path)
        await read_notification(visitor_page, visit, path)


async def test_filters_and_questions_without_javascript(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    citizen = await make_user(name="Dora Reis")
    city = await make_org(kind=OrganizationKind.government, name=CITY)
    now = datetime.now(UTC)
    challenge = await make_draft_challenge(
        city,
        title=TITLE,
        summary=SUMMARY,
        area="water",
        sdgs=[6, 11],
        status=ChallengeStatus.open,
        opens_at=now - timedelta(days=1),
        published_at=now - timedelta(days=1),
        search_text=f"{TITLE} {SUMMARY}".lower(),
    )
    path = f"/challenges/{challenge.id}"
    visit = Visit(screenshots, "challenges-nojs")
    async with browsing(browser, base_url, javascript=False) as page:
        await page.goto("/challenges")
        await show_challenges(page, q="flooded", area="Water", sdg=WATER_GOAL)
        await expect(page).to_have_url(re.compile(r"/challenges\?q=flooded&area=water&sdg=6"))
        await expect_found(page)
        await visit.check(page, "list-filtered", axe=False)
        await show_challenges(page, q="flooded", area="Water", statuses=("closed",))
        await expect_not_found(page)

        await page.goto(path)
        await questions(page).get_by_role("link", name=re.compile("^Sign in to ask")).click()
        await sign_in(page, citizen)
        await expect(page).to_have_url(re.compile(re.escape(path) + "$"))

        ask = questions(page).get_by_label("Ask a public question")
        await ask.fill("Why?")
        await questions(page).get_by_role("button", name="Ask", exact=True).click()
        await expect_field_error(page, "Ask a public question", "This is too short.")
        await expect(ask).to_have_value("Why?")
        await visit.check(page, "question-too-short", axe=False)

        await ask.fill(QUESTION)
        await questions(page).get_by_role("button", name="Ask", exact=True).click()
        await expect(page).to_have_url(re.compile(re.escape(path) + "#questions$"))
        await expect_notice(
            page, "Your question is published. You will be told when it is answered."
        )
        # Unsigned: a participant asked, never who.
        await expect(questions(page)).to_contain_text(f"A participant asked: {QUESTION}")
        await expect(questions(page)).not_to_contain_text(citizen.name)
        await visit.check(page, "question-asked", axe=False)
