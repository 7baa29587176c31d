"""Money in a real browser, each person in a browser of their own.

The city's finance member records the bank transfer that funds the escrow (a bad amount
first); the challenge is awarded with two milestones; the winner enters its bank details (a
bad IBAN first) and submits evidence; the manager approves; a second finance member, signed in
with two-factor, releases the money and records the bank transfer; the public ledger shows the
payment to anyone. Every page is checked with axe-core and photographed into `screenshots/`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from starlette.applications import Starlette

from service import db
from service.accounts.actor import Actor
from service.accounts.models import OrganizationKind, Role, User
from service.applications import service as applications
from service.applications.models import Application, ApplicationStatus
from service.challenges.models import Challenge, ChallengeStatus
from service.core.context import Context
from service.rewards import ledger
from service.rewards.models import Milestone, MilestoneStatus, Payout, PayoutStatus
from tests.challenges.factories import make_draft_challenge
from tests.e2e.test_accounts import (
    FIX_FIELDS,
    Visit,
    expect_field_error,
    expect_heading,
    expect_notice,
    fill_signin,
    unique_email,
)
from tests.e2e.test_applications import signed_in
from tests.factories import PASSWORD, make_org, make_user, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]


@asynccontextmanager
async def signed_in_with_code(browser: Browser, base_url: str, user: User) -> AsyncIterator[Page]:
    """A browser of the user's own, signed in with password and a code from the authenticator."""
    assert user.totp_secret
    context = await browser.new_context(base_url=base_url, locale="en-US")
    try:
        page = await context.new_page()
        await page.goto("/signin")
        await fill_signin(page, email=user.email, password=PASSWORD)
        # The password leads to a page of its own that asks only the code.
        await expect(page).to_have_url(re.compile(r"/signin/code"))
        # A code works once: the same person signs in twice in this test, maybe in one step.
        await page.get_by_label("Code from your authenticator app").fill(await totp_code(user))
        await page.get_by_role("main").get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(re.compile(r"/$"))
        yield page
    finally:
        await context.close()


async def fits_phone(page: Page, screenshots: Path, name: str) -> None:
    """The page on a phone-sized screen: photographed, and no sideways scrolling."""
    size = page.viewport_size
    await page.set_viewport_size({"width": 360, "height": 740})
    try:
        await page.screenshot(path=screenshots / f"rewards-phone-{name}.png", full_page=True)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px on a phone"
    finally:
        if size is not None:
            await page.set_viewport_size(size)


async def test_fund_award_deliver_release_and_see_it_in_the_ledger(
    browser: Browser, base_url: str, app: Starlette, screenshots: Path
) -> None:
    visit = Visit(screenshots, "rewards")
    queue = app.state.deps.queue
    tag = uuid.uuid4().hex[:4]
    marta = await make_user(name="Marta Ruiz", email=unique_email("marta"))
    fabio = await make_user(name="Fabio Costa", email=unique_email("fabio"))
    tomas = await make_user(name="Tomás Prieto", email=unique_email("tomas"), totp=True)
    city_name = f"City of Norte {tag}"
    city = await make_org(
        kind=OrganizationKind.government,
        name=city_name,
        members={marta: Role.manager, fabio: Role.finance, tomas: Role.finance},
    )
    ana = await make_user(name="Ana Costa", email=unique_email("ana"))
    startup_name = f"Rutas Verdes {tag}"
    startup = await make_org(name=startup_name, members={ana: Role.owner})
    now = datetime.now(UTC)
    async with db.transaction(queue):
        challenge = await make_draft_challenge(
            city,
            title="Cut school-bus delays in the north district",
            reward_amount_minor=3_000_000,
            opens_at=now - timedelta(days=40),
            closes_at=now - timedelta(days=10),
            judging_ends_at=now + timedelta(days=20),
            status=ChallengeStatus.judging,
            published_at=now - timedelta(days=45),
        )
        application = await Application.create(
            challenge=challenge,
            organization=startup,
            title="Live routes for school buses",
            summary="Buses get live routes around traffic from a phone in the cab.",
            status=ApplicationStatus.submitted,
            submitted_at=now - timedelta(days=11),
            lead_share_pct=100,
        )

    # --- finance without two-factor is told why it cannot record the transfer -----------
    async with signed_in(browser, base_url, fabio) as page:
        await page.goto(f"/challenges/{challenge.id}")
        money = page.get_by_role("region", name="Money")
        await expect(money).to_contain_text(
            "Turn on two-factor sign-in to record bank transfers into the escrow"
        )
        await expect(page.get_by_role("form", name="Fund the escrow")).to_have_count(0)

    # --- finance records the bank transfer into escrow (a bad amount first) --------------
    async with signed_in_with_code(browser, base_url, tomas) as page:
        await page.goto(f"/challenges/{challenge.id}")
        money = page.get_by_role("region", name="Money")
        await expect(money).to_contain_text("Funded: no")
        form = page.get_by_role("form", name="Fund the escrow")
        await expect(form.get_by_label("Amount (EUR)")).to_have_value("30,000.00")
        await visit.check(page, "challenge-unfunded")
        await form.get_by_label("Amount (EUR)").fill("30.000,5x")
        await form.get_by_label("Reference of the bank transfer").fill("TR-2026-0042")
        await form.get_by_role("button", name="Record the bank transfer").click()
        await expect(page.get_by_role("alert")).to_have_text(FIX_FIELDS)
        await expect_field_error(page, "Amount (EUR)", "Enter an amount, such as 40,000.50.")
        await expect(page.get_by_label("Reference of the bank transfer")).to_have_value(
            "TR-2026-0042"
        )
        await visit.check(page, "funding-error")
        await page.get_by_label("Amount (EUR)").fill("30,000")
        await page.get_by_role("button", name="Record the bank transfer").click()
        await expect_notice(page, "Bank transfer of €30,000.00 recorded: it is in escrow now.")
        money = page.get_by_role("region", name="Money")
        await expect(money).to_contain_text("Funded: yes")
        await expect(money).to_contain_text("The whole reward is funded")
        await visit.check(page, "challenge-funded")

    # The manager awards (the award pages have their own browser test): two milestones.
    due = now + timedelta(days=60)
    async with db.transaction(queue):
        ctx = Context(
            actor=Actor(user=marta, roles={city.id: Role.manager}), settings=app.state.settings
        )
        award = await applications.award(
            ctx,
            await Challenge.get(id=challenge.id),
            application,
            amount_minor=3_000_000,
            rationale="The only plan with a working pilot.",
            milestones=[
                {"title": "Pilot on two routes", "amount_minor": 1_000_000, "due_at": due},
                {"title": "All northern routes", "amount_minor": 2_000_000, "due_at": due},
            ],
        )
    first = await Milestone.get(award_id=award.id, position=0)

    # --- the winner connects a payout account and submits evidence ---------------------
    async with signed_in(browser, base_url, ana) as page:
        await page.goto(f"/organizations/{startup.id}")
        await page.get_by_role("link", name=re.compile("Payout account")).click()
        await expect_heading(page, "Payout account")
        await expect(page.get_by_text("No payout account yet.")).to_be_visible()
        await visit.check(page, "payout-account-empty")
        await page.get_by_label("Account holder").fill(startup_name)
        await page.get_by_label("IBAN").fill("ES00 1234 5678")
        await page.get_by_role("button", name="Save the bank details").click()
        await expect_field_error(page, "IBAN", "This is not a valid IBAN.")
        await expect(page.get_by_label("Account holder")).to_have_value(startup_name)
        await visit.check(page, "payout-account-error")
        await page.get_by_label("IBAN").fill("ES91 2100 0418 4502 0005 1332")
        await page.get_by_role("button", name="Save the bank details").click()
        await expect_notice(
            page,
            f"Bank details saved. Payouts to {startup_name} go to the account ending in 1332.",
        )
        current = page.get_by_role("region", name="Current account")
        await expect(current).to_contain_text("ending in 1332")
        await expect(page.get_by_text("ES91 2100")).to_have_count(0)
        await visit.check(page, "payout-account-saved")

        await page.goto(f"/applications/{application.id}")
        await page.get_by_role("link", name="Milestones: evidence, approvals and payouts").click()
        await expect_heading(page, f"Award to {startup_name}")
        milestone = page.get_by_role("region", name="1. Pilot on two routes")
        await visit.check(page, "award-winner")
        await milestone.get_by_role("button", name="Submit the evidence").click()
        await expect_field_error(
            page, "Evidence of delivery for “Pilot on two routes”", "Describe what was delivered."
        )
        await visit.check(page, "evidence-missing")
        evidence = "Pilot report with delays per route: https://example.org/pilot-report"
        milestone = page.get_by_role("region", name="1. Pilot on two routes")
        await milestone.get_by_label("Evidence of delivery for “Pilot on two routes”").fill(
            evidence
        )
        await milestone.get_by_role("button", name="Submit the evidence").click()
        await expect_notice(
            page, "Evidence submitted. The city's managers are told and will review it."
        )
        await expect(page.get_by_role("region", name="1. Pilot on two routes")).to_contain_text(
            "Waiting for a city manager to review the evidence."
        )
        await visit.check(page, "evidence-submitted")

    # --- the manager approves ------------------------------------------------------------
    async with signed_in(browser, base_url, marta) as page:
        await page.goto(f"/challenges/{challenge.id}")
        await (
            page.get_by_role("region", name="Winners")
            .get_by_role("link", name=re.compile("Milestones and payouts"))
            .click()
        )
        milestone = page.get_by_role("region", name="1. Pilot on two routes")
        await expect(milestone).to_contain_text(evidence)
        await visit.check(page, "award-manager")
        await milestone.get_by_role("button", name="Approve “Pilot on two routes”").click()
        await expect_notice(
            page, "Milestone approved. The city's finance members are told and can release it."
        )
        await visit.check(page, "approved")

    # --- finance without two-factor is refused; the treasurer with it releases and pays --
    async with signed_in(browser, base_url, fabio) as page:
        await page.goto(f"/awards/{award.id}")
        milestone = page.get_by_role("region", name="1. Pilot on two routes")
        # No button that could only be refused: the reason, and where to turn it on.
        await expect(milestone.get_by_role("button", name="Release €10,000.00")).to_have_count(0)
        await expect(milestone).to_contain_text("Turn on two-factor sign-in to release payments")
        await expect(milestone.get_by_role("link", name="Your account")).to_be_visible()
        await visit.check(page, "release-needs-two-factor")
    assert await Payout.all().count() == 0

    async with signed_in_with_code(browser, base_url, tomas) as page:
        await page.goto(f"/awards/{award.id}")
        milestone = page.get_by_role("region", name="1. Pilot on two routes")
        await visit.check(page, "award-treasurer")
        await milestone.get_by_role("button", name="Release €10,000.00").click()
        await expect_notice(
            page,
            "Released. Send the bank transfers listed under the milestone and record their "
            "references.",
        )
        transfer = page.get_by_role("form", name=f"Bank transfer of €10,000.00 to {startup_name}")
        await expect(transfer).to_contain_text("ES91 2100 0418 4502 0005 1332")
        payouts = page.get_by_role("table", name="Payouts of “Pilot on two routes”")
        await expect(payouts).to_contain_text("Waiting for the bank transfer")
        await visit.check(page, "released")
        await fits_phone(page, screenshots, "award-released")
        await transfer.get_by_label(f"Reference of the bank transfer to {startup_name}").fill(
            "SEPA-2026-0107"
        )
        await transfer.get_by_role("button", name="Record the bank transfer").click()
        await expect_notice(page, f"Bank transfer to {startup_name} recorded: the payout is paid.")
        payouts = page.get_by_role("table", name="Payouts of “Pilot on two routes”")
        await expect(payouts.get_by_role("row", name=re.compile(startup_name))).to_contain_text(
            "Paid"
        )
        await visit.check(page, "paid")
    assert (await Payout.get()).status is PayoutStatus.paid
    assert (await Milestone.get(id=first.id)).status is MilestoneStatus.paid

    # --- anyone reads the payment in the public ledger ---------------------------------
    context = await browser.new_context(base_url=base_url, locale="en-US")
    try:
        page = await context.new_page()
        await page.goto(f"/challenges/{challenge.id}")
        money = page.get_by_role("region", name="Money")
        await expect(money).to_contain_text("Paid")
        await expect(money).to_contain_text("€10,000.00")
        await money.get_by_role("link", name=re.compile("Public ledger")).click()
        await expect_heading(page, "Public ledger")
        transactions = page.get_by_role("table", name="Transactions, oldest first")
        paid = transactions.get_by_role("row", name=re.compile("Paid to the winner"))
        await expect(paid).to_contain_text("€10,000.00")
        await expect(paid.get_by_role("link", name=startup_name)).to_be_visible()
        await expect(transactions.get_by_role("row")).to_have_count(5)
        await expect(page.get_by_text("SEPA-2026-0107")).to_have_count(0)
        await visit.check(page, "ledger")
        await fits_phone(page, screenshots, "ledger")
        await page.get_by_label("Show times in the time zone").fill("America/Santiago")
        await page.get_by_role("button", name="Show", exact=True).click()
        await expect(paid).to_contain_text("(America/Santiago)")
        await page.get_by_role("link", name=f"Public ledger of {city_name}").click()
        await expect_heading(page, f"Public ledger of {city_name}")
        await expect(page.get_by_role("table", name="Transactions, oldest first")).to_contain_text(
            "Paid to the winner"
        )
        await visit.check(page, "city-ledger")
    finally:
        await context.close()
    assert await ledger.check_invariants() == []
