"""Opinion maps in a real browser: a resident votes on statements one at a time (agree,
disagree, pass), adds one of their own, and reads the map of where residents agree and split.
Every page is checked with axe-core, photographed, and read at a phone's width (390 px)
without sideways scrolling."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from starlette.applications import Starlette

from service import db
from service.accounts.models import User
from service.deliberation.models import Conversation, Statement, Vote
from service.participation.models import Proposal
from tests.deliberation.helpers import SEEDS, draw_map, planted_votes
from tests.e2e.visit import Visit, browsing
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]


async def test_a_resident_votes_adds_a_statement_and_reads_the_map(
    browser: Browser, base_url: str, app: Starlette, screenshots: Path
) -> None:
    visit = Visit(screenshots, "deliberation")
    author = await make_user(name="Rosa Resident")
    resident = await make_user(name="Nico Neighbour")
    async with db.transaction(None):
        # An account older than a day: its statement is published at once.
        await User.filter(id=resident.id).update(created_at=datetime.now(UTC) - timedelta(days=9))
        proposal = await Proposal.create(
            author=author,
            title="Dark stairways",
            description="The stairways to the hill have no light at night.",
            region="Madrid",
        )
        conversation = await Conversation.create(
            proposal_id=proposal.id, topic="How should we light the stairways?", opened_by=author
        )
        for text in SEEDS:
            await Statement.create(
                conversation=conversation, author_id=author.id, text=text, seed=True
            )
    ids = [s.id for s in await Statement.filter(conversation_id=conversation.id).order_by("id")]
    await planted_votes(
        conversation.id,
        [
            (12, {ids[0]: 1, ids[1]: 1, ids[2]: -1, ids[3]: 1}),
            (9, {ids[0]: 1, ids[1]: -1, ids[2]: 1, ids[3]: -1}),
        ],
    )
    await draw_map(app, conversation.id)
    path = f"/conversations/{conversation.id}"

    async with browsing(browser, base_url) as page:
        await page.goto(f"/signin?next={path}")
        await page.get_by_label("E-mail address").fill(resident.email)
        await page.get_by_label("Password", exact=True).fill(PASSWORD)
        await page.get_by_role("main").get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "How should we light the stairways?"
        )
        await visit.check(page, "conversation")
        await visit.fits_phone(page, "conversation")
        vote = page.get_by_role("region", name="What do you think?")
        for choice in ("Agree", "Disagree", "Pass / unsure", "Agree"):
            shown = await vote.locator("blockquote").inner_text()
            assert shown in SEEDS
            await vote.get_by_role("button", name=choice, exact=True).click()
            await expect(page.get_by_role("status").first).to_contain_text("Your vote is counted")
        await expect(vote).to_contain_text("You have voted on every statement")
        assert await Vote.filter(participant__user_id=resident.id).count() == 4
        await visit.check(page, "all-voted")

        add = page.get_by_role("region", name="Add a statement")
        await add.get_by_label("Your statement").fill("x" * 2)
        await add.get_by_role("button", name="Add the statement").click()
        await expect(page.get_by_role("alert")).to_be_visible()
        await visit.check(page, "statement-error")
        add = page.get_by_role("region", name="Add a statement")
        await add.get_by_label("Your statement").fill("Lamps should switch off after midnight.")
        await add.get_by_role("button", name="Add the statement").click()
        await expect(page.get_by_role("status").first).to_contain_text(
            "Your statement is published"
        )
        # Its own statement comes next, one at a time.
        await expect(page.get_by_role("region", name="What do you think?")).to_contain_text(
            "Lamps should switch off after midnight."
        )

        await page.get_by_role("link", name="See the opinion map").click()
        await expect(page.get_by_role("img", name="Opinion map")).to_be_visible()
        await expect(page.get_by_role("table", name="Groups of the map")).to_contain_text("Group A")
        consensus = page.get_by_role("region", name="What residents agree on")
        await expect(consensus).to_contain_text(SEEDS[0])
        await visit.check(page, "map")
        await visit.fits_phone(page, "map")

    # Without signing in: the statement is shown, with the way to sign in to vote.
    async with browsing(browser, base_url) as page:
        await page.goto(path)
        await expect(
            page.get_by_role("link", name="Sign in to vote on the statements.")
        ).to_be_visible()
        await visit.check(page, "anonymous")
