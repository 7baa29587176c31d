"""A funding round in a real browser, in Spanish, on a phone-width screen.

A resident (Lucía) of the city's region opens the round, approves two candidates, confirms she
lives there and votes; she gets a receipt code. Nine neighbours have voted too. The vote
closes and the worker counts the round; Lucía reads the outcome (equal shares beside greedy,
why each candidate was funded) and, with her code, how her share was spent. Every page is
checked with axe-core, photographed, and must not scroll sideways at 390 px.

Texts are found by ids and data, not by English words: the Spanish catalog translates them.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from starlette.applications import Starlette

from service import db
from service.accounts.actor import SESSION_COOKIE, Actor, hash_token, host_cookie
from service.accounts.models import OrganizationKind, Role, User, WebSession
from service.core.context import Context
from service.funding import service as funding
from service.funding.models import FundingRound
from service.funding.schemas import RoundIn
from tests.challenges.factories import make_draft_challenge
from tests.e2e.test_accounts import unique_email
from tests.e2e.visit import PHONE, Visit
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]


async def session_cookie(app: Starlette, base_url: str, user: User) -> dict[str, Any]:
    raw = secrets.token_urlsafe(16)
    async with db.transaction(None):
        await WebSession.create(
            user=user,
            token_hash=hash_token(raw),
            csrf_token=secrets.token_urlsafe(16),
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
    name = host_cookie(app.state.settings, SESSION_COOKIE)
    return {"name": name, "value": raw, "url": base_url}


async def test_a_resident_votes_and_sees_the_outcome_and_her_share_in_spanish(
    browser: Browser, base_url: str, app: Starlette, screenshots: Path, worker_burst: Any
) -> None:
    visit = Visit(screenshots, "funding")
    settings = app.state.settings
    tag = uuid.uuid4().hex[:4]
    marta = await make_user(name="Marta Ruiz", email=unique_email("marta"))
    city = await make_org(
        kind=OrganizationKind.government,
        name=f"Ayuntamiento de Norte {tag}",
        members={marta: Role.manager},
    )
    titles = ["Sombra en las paradas", "Sensores en los colegios", "Alertas de inundación"]
    async with db.transaction(None):
        drafts = [
            await make_draft_challenge(city, title=t, reward_amount_minor=50_00) for t in titles
        ]
    ctx = Context(actor=Actor(user=marta, roles={city.id: Role.manager}), settings=settings)
    now = datetime.now(UTC)
    async with db.transaction(None):
        rnd = await funding.create_round(
            ctx,
            city,
            RoundIn(
                organization_id=city.id,
                title="Presupuesto de innovación",
                region=city.region,
                budget_minor=100_00,
                currency="EUR",
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=3),
                challenge_ids=[d.id for d in drafts],
            ),
        )
        await funding.publish(ctx, rnd)
    candidates = await funding.candidates_of(rnd)
    # Five neighbours approve the first two, four the third (Lucía makes six and six).
    for k in range(9):
        neighbour = await make_user(email=unique_email(f"vecino{k}"))
        picks = [0, 1] if k < 5 else [2]
        voter = Context(actor=Actor(user=neighbour), settings=settings)
        async with db.transaction(None):
            await funding.cast(
                voter, rnd, candidate_ids=[candidates[p].id for p in picks], resident=True
            )

    lucia = await make_user(name="Lucía Vecina", email=unique_email("lucia"))
    context = await browser.new_context(base_url=base_url, locale="es-ES", viewport=PHONE)
    try:
        await context.add_cookies([await session_cookie(app, base_url, lucia)])
        page = await context.new_page()
        await page.goto(f"/funding/rounds/{rnd.id}")
        await expect(page.locator("html")).to_have_attribute("lang", "es")
        await expect(page.locator("#vote")).to_be_visible()
        await visit.check(page, "ballot")
        await visit.fits_phone(page, "ballot")
        # Voting without confirming residence is refused, and nothing is recorded.
        await page.locator(f'input[name="candidate_ids"][value="{candidates[0].id}"]').check()
        await page.locator("#vote button[type=submit]").click()
        await expect(page.locator("#f-resident")).to_have_attribute("aria-invalid", "true")
        await visit.check(page, "ballot-refused")
        await page.locator(f'input[name="candidate_ids"][value="{candidates[1].id}"]').check()
        await page.locator("#f-resident").check()
        await page.locator("#vote button[type=submit]").click()
        code_box = page.locator(".receipt-code")
        await expect(code_box).to_have_text(re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$"))
        code = (await code_box.text_content() or "").strip()
        await visit.check(page, "receipt")
        await visit.fits_phone(page, "receipt")

        async with db.transaction(None):
            await FundingRound.filter(id=rnd.id).update(
                closes_at=datetime.now(UTC) - timedelta(seconds=1)
            )
        await worker_burst()
        await page.goto(f"/funding/rounds/{rnd.id}")
        outcome = page.locator("#outcome")
        await expect(outcome).to_be_visible()
        # Equal shares: the six buy the first candidate at 8,33 € each; then the four buy the
        # third once the shares are raised. Amounts are written the Spanish way.
        await expect(outcome).to_contain_text(re.compile(r"8,33\s€"))
        await expect(outcome).to_contain_text(re.compile(r"12,50\s€"))
        await expect(outcome.get_by_role("row")).to_have_count(4)
        await visit.check(page, "outcome")
        await visit.fits_phone(page, "outcome")

        await page.locator("#f-receipt").fill(code)
        await page.locator("#share button[type=submit]").click()
        spent = page.locator("#spent")
        await expect(spent).to_contain_text(titles[0])
        await expect(spent).to_contain_text(re.compile(r"8,33\s€"))
        await expect(spent).not_to_contain_text(titles[1])
        await visit.check(page, "share")
        await visit.fits_phone(page, "share")
    finally:
        await context.close()
