"""Applying, judging and awarding in a real browser, each person in a browser of their own.

A startup drafts an application with a university as partner (a bad form first), cannot
submit before the partner answers, the partner accepts, the startup attaches a file and
submits. The challenge closes; the manager invites an address without an account (and
withdraws the invitation), is refused a malformed address, and assigns two judges; one
declares a conflict of interest and then cannot open the application at all, the other sees
the file under a neutral name (blind judging) and scores (a missing score first). The
manager reads the ranking, awards with three milestones (amounts that do not add up first)
and closes awarding; the startup reads the judges' feedback and the challenge shows
its winner. Every page is checked with axe-core and photographed into `screenshots/`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, expect
from starlette.applications import Starlette

from service import db
from service.accounts.actor import Actor
from service.accounts.models import Membership, Organization, OrganizationKind, Role, User
from service.applications.models import Application, ApplicationStatus, Review
from service.challenges import service as challenges_service
from service.challenges.models import Challenge, ChallengeStatus
from service.config import Settings
from service.core.context import Context
from service.core.jobs import JobSender
from service.rewards import service as rewards
from service.rewards.gateway import ManualGateway
from service.rewards.models import Milestone, Rail
from tests.challenges.factories import make_draft_challenge
from tests.challenges.test_questions_files import PDF
from tests.e2e.test_accounts import (
    FIX_FIELDS,
    Visit,
    expect_field_error,
    expect_heading,
    expect_notice,
    fill_signin,
    unique_email,
)
from tests.factories import PASSWORD, make_org, make_user

# `app` is the served app: using it cleans the tables after the test.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]


@asynccontextmanager
async def signed_in(browser: Browser, base_url: str, user: User) -> AsyncIterator[Page]:
    """A browser of the user's own, signed in through the form."""
    context = await browser.new_context(base_url=base_url, locale="en-US")
    try:
        page = await context.new_page()
        await page.goto("/signin")
        await fill_signin(page, email=user.email, password=PASSWORD)
        await expect(page).to_have_url(re.compile(r"/$"))
        yield page
    finally:
        await context.close()


async def open_blind_challenge(city: Organization, queue: JobSender) -> Challenge:
    now = datetime.now(UTC)
    async with db.transaction(queue):
        return await make_draft_challenge(
            city,
            title="Cut school-bus delays in the north district",
            eligible_kinds=["startup", "university"],
            reward_amount_minor=5_000_000,
            opens_at=now - timedelta(hours=1),
            closes_at=now + timedelta(days=14),
            judging_ends_at=now + timedelta(days=40),
            status=ChallengeStatus.open,
            published_at=now - timedelta(hours=1),
            blind_judging=True,
        )


async def fund_fully(challenge: Challenge, queue: JobSender, settings: Settings) -> None:
    """The city's finance records the bank transfer of the whole reward into escrow."""
    member = await Membership.filter(organization_id=challenge.organization_id).first()
    assert member is not None
    user = await member.user
    roles = {challenge.organization_id: member.role}
    # Signed in with two-factor, as recording a bank transfer requires.
    ctx = Context(actor=Actor(user=user, roles=roles, mfa=True), settings=settings)
    async with db.transaction(queue):
        await rewards.fund(
            ctx,
            challenge,
            ManualGateway(),
            amount_minor=challenge.reward_amount_minor,
            method=Rail.bank_transfer,
            reference="ESCROW-1",
        )


async def scheduler_pass(
    challenge: Challenge, queue: JobSender, expected: ChallengeStatus, *, deadline: bool = False
) -> None:
    """The worker's cron pass (after the deadline passed, when `deadline`)."""
    async with db.transaction(queue):
        if deadline:
            await Challenge.filter(id=challenge.id).update(
                closes_at=datetime.now(UTC) - timedelta(seconds=1)
            )
        await challenges_service.advance_all(now=datetime.now(UTC))
    assert (await Challenge.get(id=challenge.id)).status is expected


async def expect_error_on(field: Locator, message: str) -> None:
    """The field is marked invalid and its error is part of its accessible description."""
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_have_accessible_description(re.compile(re.escape(message)))


async def fits_phone(page: Page, screenshots: Path, name: str) -> None:
    """The page read on a phone-sized screen: photographed, and no sideways scrolling."""
    size = page.viewport_size
    await page.set_viewport_size({"width": 360, "height": 740})
    try:
        await page.screenshot(path=screenshots / f"applications-phone-{name}.png", full_page=True)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px on a phone"
    finally:
        if size is not None:
            await page.set_viewport_size(size)


async def test_apply_judge_award_flow(
    browser: Browser, base_url: str, app: Starlette, screenshots: Path
) -> None:
    visit = Visit(screenshots, "applications")
    queue = app.state.deps.queue
    tag = uuid.uuid4().hex[:4]
    manager = await make_user(name="Marta Ruiz", email=unique_email("marta"))
    city = await make_org(
        kind=OrganizationKind.government,
        name=f"City of Norte {tag}",
        members={manager: Role.manager},
    )
    ana = await make_user(name="Ana Costa", email=unique_email("ana"))
    startup_name = f"Rutas Verdes {tag}"
    startup = await make_org(name=startup_name, members={ana: Role.owner})
    bruno = await make_user(name="Bruno Lima", email=unique_email("bruno"))
    university_name = f"Universidad del Norte {tag}"
    university = await make_org(
        kind=OrganizationKind.university, name=university_name, members={bruno: Role.owner}
    )
    carla = await make_user(name="Carla Nunes", email=unique_email("carla"))
    diego = await make_user(name="Diego Alves", email=unique_email("diego"))
    challenge = await open_blind_challenge(city, queue)
    await fund_fully(challenge, queue, app.state.settings)
    title = "Live routes for school buses"
    pitch = f"{startup_name} pitch.pdf"

    # --- the startup drafts, with a university as partner ------------------------------
    async with signed_in(browser, base_url, ana) as page:
        await page.goto(f"/challenges/{challenge.id}")
        apply_section = page.get_by_role("region", name="Apply", exact=True)
        await expect(apply_section).to_be_visible()
        await visit.check(page, "challenge-open")
        await apply_section.get_by_role("link", name="Apply to this challenge").click()
        await expect(page).to_have_url(re.compile(rf"/challenges/{challenge.id}/apply$"))
        await expect_heading(page, "Apply to this challenge")
        await expect(page.get_by_label("Applying organization (the lead)")).to_have_value(
            str(startup.id)
        )
        await visit.check(page, "apply")
        await fits_phone(page, screenshots, "apply")

        # The partner is found by name first (a search of its own, which reloads the page);
        # case does not count.
        await page.get_by_label("Name of the organization").fill(university_name.upper())
        await page.get_by_role("button", name="Find organizations").click()
        await expect(
            page.get_by_text("1 organization found: choose it in a partner row.")
        ).to_be_visible()
        await visit.check(page, "apply-partner-search")
        await page.get_by_label("Title of the application").fill(title)
        await page.get_by_label("Summary").fill("Too short")
        await page.get_by_label("Budget (EUR)").fill("40,000.50")
        first = page.get_by_role("group", name="Partner 1", exact=True)
        await first.get_by_label("Organization", exact=True).select_option(
            label=f"{university_name} (University)"
        )
        await first.get_by_label("Role in the consortium").fill("Data analysis")
        await first.get_by_label("Share of the payout (%)").fill("150")
        await page.get_by_role("button", name="Save the draft").click()
        await expect(page.get_by_role("alert")).to_have_text(FIX_FIELDS)
        await expect_field_error(page, "Summary", "This is too short.")
        await expect_error_on(
            first.get_by_label("Share of the payout (%)"), "This number is too large."
        )
        # Nothing typed is lost.
        await expect(page.get_by_label("Title of the application")).to_have_value(title)
        await expect(page.get_by_label("Budget (EUR)")).to_have_value("40,000.50")
        await expect(first.get_by_label("Organization", exact=True)).to_have_value(
            str(university.id)
        )
        await expect(first.get_by_label("Role in the consortium")).to_have_value("Data analysis")
        await visit.check(page, "apply-errors")

        await page.get_by_label("Summary").fill(
            "Buses get live routes around traffic from a phone in the cab."
        )
        await first.get_by_label("Share of the payout (%)").fill("30")
        await page.get_by_role("button", name="Save the draft").click()
        await expect(page).to_have_url(re.compile(r"/applications/\d+$"))
        await expect_notice(
            page, "Draft saved. Your partners are invited: submit once they have answered."
        )
        await expect_heading(page, title)
        application_path = page.url.removeprefix(base_url)
        application = await Application.get(organization_id=startup.id)
        assert application.budget_minor == 4_000_050
        consortium = page.get_by_role("table", name="Lead and partners")
        await expect(consortium.get_by_role("row", name=re.compile(startup_name))).to_contain_text(
            "70%"
        )
        await expect(
            consortium.get_by_role("row", name=re.compile(university_name))
        ).to_contain_text("Invited, no answer yet")
        await visit.check(page, "application-draft")
        await fits_phone(page, screenshots, "application-draft")

        # Not before the partner has answered: the reason is named.
        await page.get_by_role("button", name="Submit the application").click()
        problems = page.get_by_role("alert")
        await expect(problems).to_contain_text("The application cannot be submitted yet:")
        await expect(problems).to_contain_text(
            "Every invited partner must accept or decline before you submit."
        )
        await visit.check(page, "application-submit-refused")

    # --- the university accepts ----------------------------------------------------------
    async with signed_in(browser, base_url, bruno) as page:
        await page.goto("/applications")
        await expect_heading(page, "Your applications")
        await expect(page.get_by_text("(you are a partner)")).to_be_visible()
        await visit.check(page, "partner-list")
        await page.get_by_role("link", name=title).click()
        invitation = page.get_by_role(
            "region", name=f"{university_name} is invited to join this application"
        )
        await expect(invitation).to_contain_text("Role: Data analysis. Share of the payout: 30%.")
        await visit.check(page, "partner-invited")
        await invitation.get_by_role("button", name=f"Accept for {university_name}").click()
        await expect_notice(page, "You joined the consortium. The lead can now submit.")
        await expect(
            page.get_by_role("table", name="Lead and partners").get_by_role(
                "row", name=re.compile(university_name)
            )
        ).to_contain_text("Accepted")
        await expect(page.get_by_role("region", name=re.compile("is invited"))).to_have_count(0)
        await visit.check(page, "partner-accepted")

    # --- the startup submits ---------------------------------------------------------------
    async with signed_in(browser, base_url, ana) as page:
        await page.goto(application_path)
        # An edit that keeps the partner's terms does not ask the partner again.
        await page.get_by_text("Edit the application and its partners").click()
        edit = page.locator("#edit")
        partner = edit.get_by_role("group", name="Partner 1", exact=True)
        await expect(partner.get_by_label("Organization", exact=True)).to_have_value(
            str(university.id)
        )
        await expect(partner.get_by_label("Share of the payout (%)")).to_have_value("30")
        await edit.get_by_label("Team").fill("Five engineers and two data scientists.")
        await visit.check(page, "application-edit")
        await edit.get_by_role("button", name="Save the changes").click()
        await expect_notice(page, "Application saved.")
        await expect(page.get_by_role("region", name="Team")).to_contain_text(
            "Five engineers and two data scientists."
        )
        await expect(
            page.get_by_role("table", name="Lead and partners").get_by_role(
                "row", name=re.compile(university_name)
            )
        ).to_contain_text("Accepted")
        # A file, from the application page.
        files = page.get_by_role("region", name="Files")
        await expect(files).to_contain_text("No files are attached.")
        await files.get_by_label(
            "Attach a file (PDF, image, office document or text)"
        ).set_input_files(files=[{"name": pitch, "mimeType": "application/pdf", "buffer": PDF}])
        await files.get_by_role("button", name="Upload").click()
        await expect_notice(page, "File attached.")
        files = page.get_by_role("region", name="Files")
        await expect(files.get_by_role("link", name=pitch)).to_be_visible()
        await expect(files.get_by_role("button", name=f"Delete the file {pitch}")).to_be_visible()
        await visit.check(page, "application-file")
        await page.get_by_role("button", name="Submit the application").click()
        await expect_notice(
            page, "Application submitted. You can still edit it until the deadline."
        )
        await expect(page.get_by_text("Submitted", exact=True)).to_be_visible()
        await visit.check(page, "application-submitted")

    # The deadline passes; judging starts on the scheduler's next pass once judges exist.
    await scheduler_pass(challenge, queue, ChallengeStatus.closed, deadline=True)

    # --- the manager assigns two judges --------------------------------------------------
    async with signed_in(browser, base_url, manager) as page:
        await page.goto(f"/challenges/{challenge.id}")
        await (
            page.get_by_role("region", name="Judging and awards")
            .get_by_role("link", name="Judges")
            .click()
        )
        await expect(page).to_have_url(re.compile(rf"/challenges/{challenge.id}/judges$"))
        await expect_heading(page, "Judges")
        await visit.check(page, "judges-none")
        label = "E-mail address of the judge"
        await page.get_by_label(label).fill("nobody-here@example.org")
        await page.get_by_role("button", name="Assign as judge").click()
        await expect_notice(
            page,
            "No account uses nobody-here@example.org yet: an invitation was sent. They become "
            "a judge once they create an account and accept it.",
        )
        invited = page.get_by_role("region", name="Invited, no account yet")
        await expect(invited).to_contain_text("nobody-here@example.org")
        await visit.check(page, "judges-invited")
        await invited.get_by_role(
            "button", name="Withdraw the invitation to nobody-here@example.org"
        ).click()
        await expect_notice(page, "The invitation to nobody-here@example.org was withdrawn.")
        await expect(page.get_by_role("region", name="Invited, no account yet")).to_have_count(0)
        await page.get_by_label(label).fill("nobody-here@example")
        await page.get_by_role("button", name="Assign as judge").click()
        await expect_field_error(page, label, "Enter a valid e-mail address.")
        await expect(page.get_by_label(label)).to_have_value("nobody-here@example")
        await visit.check(page, "judges-bad-address")
        for judge in (carla, diego):
            await page.get_by_label(label).fill(judge.email)
            await page.get_by_role("button", name="Assign as judge").click()
            await expect_notice(
                page, f"{judge.name} is a judge of this challenge and was told by e-mail."
            )
        judges = page.get_by_role("table", name=re.compile(r"2 judges"))
        await expect(judges.get_by_role("row")).to_have_count(3)
        await visit.check(page, "judges-assigned")

    await scheduler_pass(challenge, queue, ChallengeStatus.judging)

    # --- one judge declares a conflict and then sees nothing -------------------------------
    async with signed_in(browser, base_url, carla) as page:
        await page.goto("/applications")
        await page.get_by_role("link", name=challenge.title).click()
        await expect(page).to_have_url(re.compile(rf"/judging/{challenge.id}$"))
        await expect(page.get_by_text("0 of 1 scored")).to_be_visible()
        # Blind judging: no applicant name anywhere on the judge's pages.
        await expect(page.get_by_text(startup_name)).to_have_count(0)
        await visit.check(page, "judging-carla")
        await page.get_by_role("link", name=title).click()
        await expect_heading(page, f"Review: {title}")
        await expect(page.get_by_text(startup_name)).to_have_count(0)
        await expect(page.get_by_text(university_name)).to_have_count(0)
        await visit.check(page, "review-declaration")
        await page.get_by_role("button", name="I have a conflict of interest").click()
        await expect(page).to_have_url(re.compile(rf"/judging/{challenge.id}$"))
        await expect_notice(
            page, "Conflict of interest declared: you are recused from this application."
        )
        await expect(page.get_by_role("link", name=title)).to_have_count(0)
        await expect(page.get_by_text(title)).to_have_count(0)
        await expect(page.get_by_text("Recused", exact=True)).to_be_visible()
        await visit.check(page, "judging-recused")
        for path in (application_path, f"{application_path}/review"):
            response = await page.goto(path)
            assert response is not None and response.status == 404, path
            await expect(page.get_by_text(title)).to_have_count(0)
        await visit.check(page, "recused-not-found")

    # --- the other judge scores (a missing score first) ----------------------------------
    async with signed_in(browser, base_url, diego) as page:
        await page.goto(f"/judging/{challenge.id}")
        await page.get_by_role("link", name=title).click()
        await page.get_by_role("button", name="I have no conflict of interest").click()
        await expect_notice(page, "Declaration saved. You can now score this application.")
        await expect(page.get_by_role("heading", name="Your scores")).to_be_visible()
        await expect(page.get_by_text(startup_name)).to_have_count(0)
        # The file is there, under a name that does not say who made it.
        neutral = page.get_by_role("region", name="Files").get_by_role("link")
        await expect(neutral).to_have_text("File 1 (PDF, 1 kB)")
        async with page.expect_download() as download:
            await neutral.click()
        saved = await download.value
        assert saved.suggested_filename.startswith("attachment-")
        assert startup_name not in saved.suggested_filename
        await visit.check(page, "review-scores")
        await fits_phone(page, screenshots, "review-scores")
        await page.get_by_label("Impact (weight 60%)").select_option("8")
        await page.get_by_label("Comment for the applicant").fill(
            "Clear pilot plan; the budget for data is thin."
        )
        await page.get_by_role("button", name="Save the scores").click()
        await expect_field_error(page, "Cost (weight 40%)", "Give a score from 0 to 10.")
        await expect(page.get_by_label("Impact (weight 60%)")).to_have_value("8")
        await expect(page.get_by_label("Comment for the applicant")).to_have_value(
            "Clear pilot plan; the budget for data is thin."
        )
        await visit.check(page, "review-missing-score")
        await page.get_by_label("Cost (weight 40%)").select_option("6")
        await page.get_by_role("button", name="Save the scores").click()
        await expect_notice(page, "Scores saved. You can revise them until judging ends.")
        await expect(page.get_by_text("1 of 1 scored")).to_be_visible()
        await expect(page.get_by_text("Scored", exact=True)).to_be_visible()
        await visit.check(page, "judging-scored")
    reviews = await Review.filter(application_id=application.id).order_by("id")
    assert [r.conflict_of_interest for r in reviews] == [True, False]

    # --- the manager ranks, awards with three milestones and closes awarding -------------
    async with signed_in(browser, base_url, manager) as page:
        await page.goto(f"/challenges/{challenge.id}/ranking")
        await expect_heading(page, "Ranking")
        ranking = page.get_by_role("table", name="Ranking of the applications")
        row = ranking.get_by_role("row", name=re.compile(title))
        # 8 x 60% + 6 x 40% = 7.2; the city sees who applied, even in blind judging.
        await expect(row).to_contain_text("7.20")
        await expect(row).to_contain_text(startup_name)
        await visit.check(page, "ranking")
        await page.get_by_role("link", name="Normalise the scores per judge").click()
        await expect(page).to_have_url(re.compile(r"\?normalise=1$"))
        await expect(page.get_by_text("Scores normalised per judge")).to_be_visible()
        await visit.check(page, "ranking-normalised")

        form = page.get_by_role("form", name="Award an application")
        await form.get_by_label("Application").select_option(str(application.id))
        await form.get_by_label("Amount (EUR)").fill("30000")
        await form.get_by_label("Rationale (public)").fill(
            "The only plan with a working pilot and partners who own the data."
        )
        plan = [
            ("Pilot on two routes", "10000", "2027-03-01"),
            ("All northern routes", "10000", "2027-06-01"),
            ("Handover to the city", "5000", "2027-09-01"),
        ]
        for n, (milestone, amount, due) in enumerate(plan, start=1):
            await form.get_by_label(f"Milestone {n}: title").fill(milestone)
            await form.get_by_label(f"Milestone {n}: amount").fill(amount)
            await form.get_by_label(f"Milestone {n}: due date").fill(due)
        await form.get_by_role("button", name="Award").click()
        await expect(
            page.get_by_text("The milestone amounts must add up to the award.")
        ).to_be_visible()
        form = page.get_by_role("form", name="Award an application")
        await expect(form.get_by_label("Amount (EUR)")).to_have_value("30000")
        await expect(form.get_by_label("Milestone 3: title")).to_have_value("Handover to the city")
        await expect(form.get_by_label("Milestone 3: due date")).to_have_value("2027-09-01")
        await visit.check(page, "award-does-not-add-up")

        await form.get_by_label("Milestone 3: amount").fill("10000")
        await form.get_by_role("button", name="Award").click()
        await expect_notice(page, f"Award made to {startup_name}. The winner is told.")
        milestones = page.get_by_role("table", name=f"Milestones of the award to {startup_name}")
        await expect(milestones.get_by_role("row")).to_have_count(4)
        await expect(page.get_by_text("€30,000.00")).to_be_visible()
        await visit.check(page, "awarded")
        await fits_phone(page, screenshots, "ranking")

        close_form = page.get_by_role("form", name="Close awarding")
        await close_form.get_by_role("button", name="Close awarding").click()
        await expect(page.get_by_role("alert")).to_have_text(
            "Tick the box to confirm that the awards are final."
        )
        close_form = page.get_by_role("form", name="Close awarding")
        await close_form.get_by_label("The awards are final").check()
        await close_form.get_by_role("button", name="Close awarding").click()
        await expect_notice(
            page,
            "Awarding is closed. 0 other applicants were told and can read the feedback.",
        )
        await visit.check(page, "awarding-closed")
    assert [m.amount_minor for m in await Milestone.all().order_by("position")] == [
        1_000_000,
        1_000_000,
        1_000_000,
    ]
    assert (await Challenge.get(id=challenge.id)).status is ChallengeStatus.in_delivery

    # --- the startup reads the feedback; the challenge shows its winner -----------------
    async with signed_in(browser, base_url, ana) as page:
        await page.goto(application_path)
        await expect(page.get_by_text("Awarded", exact=True)).to_be_visible()
        feedback = page.get_by_role("region", name="The judges' feedback")
        scores = feedback.get_by_role("table", name="Average score per criterion")
        await expect(scores.get_by_role("row", name=re.compile("Impact"))).to_contain_text("8.0")
        await expect(scores.get_by_role("row", name=re.compile("Cost"))).to_contain_text("6.0")
        await expect(feedback).to_contain_text("Clear pilot plan; the budget for data is thin.")
        # Unsigned: no judge's name.
        await expect(page.get_by_text(diego.name)).to_have_count(0)
        award = page.get_by_role("region", name="Award", exact=True)
        await expect(award.get_by_role("row")).to_have_count(4)
        await visit.check(page, "feedback")
        await fits_phone(page, screenshots, "feedback")

        await page.goto(f"/challenges/{challenge.id}")
        winners = page.get_by_role("region", name="Winners")
        await expect(winners).to_contain_text(startup_name)
        await expect(winners).to_contain_text("€30,000.00")
        await expect(winners).to_contain_text("The only plan with a working pilot")
        await visit.check(page, "challenge-winners")
    assert (await Application.get(id=application.id)).status is ApplicationStatus.awarded
