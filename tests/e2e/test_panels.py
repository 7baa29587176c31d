"""A citizens' panel member in a real browser: reads the panel page, opens the finalists of a
blind-judged challenge (names hidden), sends a score out of range (kept, error shown), then
scores both finalists; the staff add a session and publish the recommendation. Every page is
checked with axe-core, photographed, and read at a phone's width (390 px) without sideways
scrolling."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from starlette.applications import Starlette

from service import db
from service.accounts.models import OrganizationKind, Role, User
from service.applications.models import Application, ApplicationStatus
from service.challenges.models import ChallengeStatus
from service.panels.models import Panel, PanelScore, PanelStatus, Volunteer, VolunteerStatus
from tests.challenges.factories import make_draft_challenge
from tests.e2e.visit import Visit, browsing
from tests.factories import PASSWORD, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]

FEATURES = [
    {
        "name": "district",
        "values": [{"value": "north", "min": 1, "max": 2}, {"value": "south", "min": 1, "max": 2}],
    }
]


async def sign_in_at(page: Page, user: User, path: str) -> None:
    await page.goto(f"/signin?next={path}")
    await page.get_by_label("E-mail address").fill(user.email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("main").get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(re.escape(path) + "$"))


async def test_a_member_scores_the_finalists_blind(
    browser: Browser, base_url: str, app: Starlette, screenshots: Path
) -> None:
    visit = Visit(screenshots, "panels")
    member = await make_user(name="Rosa Resident")
    other = await make_user(name="Nico Neighbour")
    manager = await make_user(name="Mara Manager")
    city = await make_org(
        kind=OrganizationKind.government, name="Ciudad Norte", members={manager: Role.manager}
    )
    startups = [
        await make_org(kind=OrganizationKind.startup, name=name)
        for name in ("Secret Startup SL", "Hidden Mobility SA")
    ]
    now = datetime.now(UTC)
    async with db.transaction(None):
        challenge = await make_draft_challenge(
            city,
            title="Quieter night buses",
            status=ChallengeStatus.judging,
            published_at=now - timedelta(days=40),
            opens_at=now - timedelta(days=40),
            closes_at=now - timedelta(days=2),
            judging_ends_at=now + timedelta(days=20),
            blind_judging=True,
        )
        finalists = [
            await Application.create(
                challenge=challenge,
                organization=startup,
                title=title,
                summary="Electric buses on the night lines, with quieter stops.",
                status=ApplicationStatus.submitted,
                lead_share_pct=100,
            )
            for startup, title in zip(startups, ("Night line A", "Night line B"), strict=True)
        ]
        panel = await Panel.create(
            challenge=challenge,
            organization_id=city.id,
            size=2,
            features=FEATURES,
            recruitment_opens_at=now - timedelta(days=30),
            recruitment_closes_at=now - timedelta(days=10),
            currency="EUR",
            score_share_pct=30,
            status=PanelStatus.drawn,
            draw={
                "seed": "12345",
                "maximin": 0.5,
                "portfolio": [],
                "groups": [],
                "drawn": [1, 2],
                "probabilities": {"1": 0.5, "2": 0.5},
            },
        )
        seat = await Volunteer.create(
            panel=panel,
            user_id=member.id,
            features={"district": "north"},
            status=VolunteerStatus.member,
            seat=1,
            first_name="Rosa",
            show_name=True,
        )
        await Volunteer.create(
            panel=panel,
            user_id=other.id,
            features={"district": "south"},
            status=VolunteerStatus.member,
            seat=2,
        )

    async with browsing(browser, base_url) as page:
        await sign_in_at(page, member, f"/panels/{panel.id}")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Citizens' panel")
        await expect(page.get_by_role("main")).to_contain_text("Member 2")
        await visit.check(page, "panel")
        await visit.fits_phone(page, "panel")
        await page.get_by_role("link", name="Score the finalists").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Score the finalists")
        main = page.get_by_role("main")
        await expect(main).not_to_contain_text("Secret Startup SL")
        await expect(main).not_to_contain_text("Night line A")
        await expect(main).not_to_contain_text("Hidden Mobility SA")
        await visit.check(page, "score")
        await visit.fits_phone(page, "score")

        first = page.get_by_role("region", name="Finalist 1")
        await first.get_by_label("Impact (60 %)").fill("7")
        await first.get_by_label("Cost (40 %)").fill("12")
        await first.get_by_role("button", name="Save my scores").click()
        first = page.get_by_role("region", name="Finalist 1")
        await expect(first.get_by_role("alert")).to_contain_text("from 0 to 10")
        await expect(first.get_by_label("Impact (60 %)")).to_have_value("7")
        await visit.check(page, "score-error")
        await first.get_by_label("Cost (40 %)").fill("9")
        await first.get_by_role("button", name="Save my scores").click()
        await expect(page.get_by_role("status")).to_contain_text("Your scores are saved")

        second = page.get_by_role("region", name="Finalist 2")
        await second.get_by_label("I have a conflict of interest").check()
        await second.get_by_role("button", name="Save my scores").click()
        second = page.get_by_role("region", name="Finalist 2")
        await expect(second).to_contain_text("You declared a conflict of interest")
        await visit.check(page, "scored")
        await visit.fits_phone(page, "scored")

    # The staff add a session in the city's time and publish the recommendation.
    async with browsing(browser, base_url) as page:
        await sign_in_at(page, manager, f"/panels/{panel.id}")
        staff = page.get_by_role("region", name="For the panel's staff")
        await staff.get_by_role("button", name="Add the session").click()
        await expect(page.get_by_text("Enter a date and time.")).to_be_visible()
        await visit.check(page, "staff-error")
        staff = page.get_by_role("region", name="For the panel's staff")
        await staff.get_by_label("Starts (the city's time)").fill("2027-01-15T18:30")
        await staff.get_by_label("Place").fill("Town hall, room 2")
        await staff.get_by_role("button", name="Add the session").click()
        await expect(page.get_by_role("status")).to_contain_text("The session is added")
        await page.get_by_label("The panel's recommendation").fill(
            "Pilot the quieter buses on the night lines first."
        )
        await page.get_by_role("button", name="Publish the recommendation").click()
        main = page.get_by_role("main")
        await expect(main).to_contain_text("Town hall, room 2")
        await expect(main.get_by_role("region", name="The panel's recommendation")).to_contain_text(
            "Pilot the quieter buses"
        )
        await visit.check(page, "staff")
        await visit.fits_phone(page, "staff")

    scores = {s.application_id: s for s in await PanelScore.filter(volunteer_id=seat.id)}
    first_scores = scores[finalists[0].id]
    assert sorted(first_scores.scores.values()) == [7, 9]
    assert scores[finalists[1].id].conflict_of_interest
