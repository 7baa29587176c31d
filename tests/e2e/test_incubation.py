"""Incubation in a real browser, each person in a browser of their own.

The city has awarded a startup and runs a programme with a running cohort; the winner's
offer comes from the production job. The winner accepts its place; an invited mentor accepts
the invitation; the manager pairs them on the board (the suggestion by shared sector); the
startup files a check-in (an empty form first); the mentor adds a note; the manager sees the
startup's status on the board; anyone reads the public cohort page. Every page is checked with
axe-core and photographed into `screenshots/`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from starlette.applications import Starlette

from service import db
from service.accounts.actor import Actor
from service.accounts.models import OrganizationKind, Role
from service.applications import service as applications
from service.applications.models import Application, ApplicationStatus
from service.challenges.models import Challenge, ChallengeStatus
from service.core.context import Context
from service.incubation import service as incubation
from service.incubation.models import Cadence, CheckIn, Place
from tests.challenges.factories import make_draft_challenge
from tests.e2e.test_accounts import Visit, expect_heading, expect_notice, unique_email
from tests.e2e.test_applications import fund_fully, signed_in
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]


async def test_winner_joins_is_mentored_files_a_check_in_and_staff_see_the_board(
    browser: Browser, base_url: str, app: Starlette, screenshots: Path
) -> None:
    visit = Visit(screenshots, "incubation")
    queue = app.state.deps.queue
    settings = app.state.settings
    tag = uuid.uuid4().hex[:4]
    marta = await make_user(name="Marta Ruiz", email=unique_email("marta"))
    city = await make_org(
        kind=OrganizationKind.government, name=f"City of Norte {tag}", members={marta: Role.manager}
    )
    ana = await make_user(name="Ana Costa", email=unique_email("ana"))
    startup_name = f"Rutas Verdes {tag}"
    startup = await make_org(name=startup_name, members={ana: Role.owner})
    mateo = await make_user(name="Mateo Mentor", email=unique_email("mateo"))
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
    await fund_fully(challenge, queue, settings)
    ctx = Context(actor=Actor(user=marta, roles={city.id: Role.manager}), settings=settings)
    async with db.transaction(queue):
        await applications.award(
            ctx,
            await Challenge.get(id=challenge.id),
            application,
            amount_minor=3_000_000,
            rationale="The only plan with a working pilot.",
            milestones=[
                {"title": "Pilot", "amount_minor": 3_000_000, "due_at": now + timedelta(days=60)}
            ],
        )
        programme = await incubation.create_programme(ctx, city, name="Norte Urban Lab")
        cohort = await incubation.create_cohort(
            ctx,
            programme,
            name=f"Spring cohort {tag}",
            starts_at=now - timedelta(days=2),
            ends_at=now + timedelta(days=120),
            capacity=4,
            cadence=Cadence.fortnightly,
            space_name="Casa de la Innovación",
            space_address="Calle Mayor 1",
        )
        await incubation.invite_mentor(
            ctx, cohort, email=mateo.email, name="", expertise=["mobility"], capacity=2
        )
        # The production job offers the winner a place.
        assert await incubation.offer_places_for_new_awards(ctx, now=now) == 1
    place = await Place.get(cohort_id=cohort.id, organization_id=startup.id)

    # --- the winner accepts its place ----------------------------------------------------
    async with signed_in(browser, base_url, ana) as page:
        await page.goto("/incubation")
        await expect_heading(page, "Incubation")
        offers = page.get_by_role("region", name="Your organizations' places")
        await expect(offers).to_contain_text("Place offered")
        await visit.check(page, "offer")
        await offers.get_by_role("button", name="Accept the place").click()
        await expect_notice(page, "Welcome to the cohort: your place is confirmed.")
        await expect_heading(page, startup_name)
        await visit.check(page, "place-accepted")

    # --- the mentor accepts the invitation -----------------------------------------------
    async with signed_in(browser, base_url, mateo) as page:
        await page.goto("/incubation")
        invitations = page.get_by_role("region", name="Invitations to mentor")
        await visit.check(page, "mentor-invitation")
        await invitations.get_by_role("button", name="Accept").click()
        await expect_notice(page, f"You are a mentor of Spring cohort {tag}.")

    # --- the manager pairs them on the board ---------------------------------------------
    async with signed_in(browser, base_url, marta) as page:
        await page.goto(f"/cohorts/{cohort.id}/board")
        await expect_heading(page, "Cohort board")
        await expect(page.get_by_role("region", name="Pairings")).to_contain_text("Mobility")
        await visit.check(page, "board-before")
        pairings = page.get_by_role("region", name="Pairings")
        await pairings.get_by_role("button", name=f"Pair (Mateo Mentor, {startup_name})").click()
        await expect_notice(page, "Mentor paired.")
        await expect(page.get_by_role("table")).to_contain_text("Mateo Mentor")

    # --- the startup files a check-in (an empty form first) ------------------------------
    async with signed_in(browser, base_url, ana) as page:
        await page.goto(f"/places/{place.id}")
        await expect(page.get_by_role("heading", name="Check-in for step 1")).to_be_visible()
        await page.get_by_label("Blockers").fill("The bus company has not shared its GPS data.")
        await page.get_by_role("button", name="File the check-in").click()
        await expect(page.get_by_role("alert")).to_contain_text("Nothing was changed")
        await expect(page.get_by_label("Blockers")).to_have_value(
            "The bus company has not shared its GPS data."
        )
        await visit.check(page, "check-in-error")
        assert await CheckIn.filter(place_id=place.id).count() == 0
        await page.get_by_label("Progress since the last check-in").fill(
            "Routes drawn for the three northern schools."
        )
        await page.get_by_label("Amber: some trouble").check()
        await page.get_by_role("button", name="File the check-in").click()
        await expect_notice(page, "Check-in filed. Thank you.")
        await expect(page.get_by_role("region", name="Check-ins")).to_contain_text(
            "Routes drawn for the three northern schools."
        )
        await visit.check(page, "check-in-filed")

    # --- the mentor adds a note ----------------------------------------------------------
    async with signed_in(browser, base_url, mateo) as page:
        await page.goto("/incubation")
        await page.get_by_role("link", name=startup_name).click()
        await expect_heading(page, startup_name)
        await page.get_by_label("Your notes on step 1").fill(
            "Ask the transport office to request the GPS data for you."
        )
        await page.get_by_role("button", name="Save the notes").click()
        await expect_notice(page, "Note added.")
        await expect(page.get_by_role("region", name="Check-ins")).to_contain_text(
            "Ask the transport office"
        )
        await visit.check(page, "mentor-note")

    # --- staff see the board; anyone sees the public cohort page -------------------------
    async with signed_in(browser, base_url, marta) as page:
        await page.goto(f"/cohorts/{cohort.id}/board")
        row = page.get_by_role("row").filter(has_text=startup_name)
        await expect(row).to_contain_text("Amber: some trouble")
        await expect(row).to_contain_text("Mateo Mentor")
        await visit.check(page, "board-after")
    context = await browser.new_context(base_url=base_url, locale="en-US")
    try:
        page = await context.new_page()
        await page.goto(f"/cohorts/{cohort.id}")
        await expect_heading(page, f"Spring cohort {tag}")
        members = page.get_by_role("region", name="Startups in the cohort")
        await expect(members).to_contain_text(startup_name)
        await expect(members).to_contain_text("Cut school-bus delays in the north district")
        assert "GPS data" not in await page.content()
        await visit.check(page, "public-cohort")
        await page.goto(f"/challenges/{challenge.id}")
        await expect(page.get_by_role("region", name="From prize to pilot")).to_contain_text(
            startup_name
        )
        await visit.check(page, "challenge-progress")
    finally:
        await context.close()
