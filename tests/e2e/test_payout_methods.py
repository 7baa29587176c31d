"""Bank details in each country's way, in a real browser.

A Chilean winner enters its RUT, bank and account (a wrong check digit first), delivers, and
the city's treasurer copies the whole transfer instruction, sends the transfer and records it:
the payout is paid. A Brazilian winner chooses PIX by e-mail, without script, and saves its key.
Every page is checked with axe-core and photographed into `screenshots/`.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from starlette.applications import Starlette

from service import db
from service.accounts.actor import Actor
from service.accounts.models import Organization, OrganizationKind, Role, User
from service.applications import service as applications
from service.applications.models import Application, ApplicationStatus
from service.challenges.models import Challenge, ChallengeStatus
from service.core.context import Context
from service.rewards import service as rewards
from service.rewards.models import Milestone, MilestoneStatus, Payout, PayoutStatus, Rail
from tests.challenges.factories import make_draft_challenge
from tests.e2e.test_accounts import (
    FIX_FIELDS,
    Visit,
    expect_field_error,
    expect_heading,
    expect_notice,
    unique_email,
)
from tests.e2e.test_applications import signed_in
from tests.e2e.test_rewards import signed_in_with_code
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]


async def in_country(org: Organization, country: str) -> Organization:
    async with db.transaction(None):
        await Organization.filter(id=org.id).update(country=country)
    org.country = country
    return org


def as_(app: Starlette, user: User, org: Organization, role: Role) -> Context:
    # Signed in with two-factor, as finance records bank transfers.
    return Context(
        actor=Actor(user=user, roles={org.id: role}, mfa=True), settings=app.state.settings
    )


async def test_a_chilean_winner_adds_a_chilean_account_and_is_paid(
    browser: Browser, base_url: str, app: Starlette, screenshots: Path
) -> None:
    visit = Visit(screenshots, "payout-methods-cl")
    queue = app.state.deps.queue
    tag = uuid.uuid4().hex[:4]
    marta = await make_user(name="Marta Rojas", email=unique_email("marta"))
    tomas = await make_user(name="Tomás Vera", email=unique_email("tomas"), totp=True)
    city = await in_country(
        await make_org(
            kind=OrganizationKind.government,
            name=f"Municipalidad de Valparaíso {tag}",
            members={marta: Role.manager, tomas: Role.finance},
        ),
        "CL",
    )
    ana = await make_user(name="Ana Soto", email=unique_email("ana"))
    startup_name = f"RutaViva {tag}"
    startup = await in_country(await make_org(name=startup_name, members={ana: Role.owner}), "CL")
    now = datetime.now(UTC)
    async with db.transaction(queue):
        challenge = await make_draft_challenge(
            city,
            title="Safer hillside stairways",
            currency="CLP",
            reward_amount_minor=10_500_000,
            opens_at=now - timedelta(days=40),
            closes_at=now - timedelta(days=10),
            judging_ends_at=now + timedelta(days=20),
            status=ChallengeStatus.judging,
            published_at=now - timedelta(days=45),
        )
        application = await Application.create(
            challenge=challenge,
            organization=startup,
            title="Lit stairways with sensors",
            summary="Solar lights and fall sensors on the steepest stairways.",
            status=ApplicationStatus.submitted,
            submitted_at=now - timedelta(days=11),
            lead_share_pct=100,
        )
    async with db.transaction(queue):
        await rewards.fund(
            as_(app, tomas, city, Role.finance),
            challenge,
            app.state.deps.gateway,
            amount_minor=10_500_000,
            method=Rail.bank_transfer,
            reference="TEF-2026-0042",
        )
    due = now + timedelta(days=60)
    async with db.transaction(queue):
        award = await applications.award(
            as_(app, marta, city, Role.manager),
            await Challenge.get(id=challenge.id),
            application,
            amount_minor=10_500_000,
            rationale="The only plan already piloted.",
            milestones=[
                {"title": "Pilot on three stairways", "amount_minor": 3_150_000, "due_at": due},
                {"title": "Every stairway", "amount_minor": 7_350_000, "due_at": due},
            ],
        )
    first = await Milestone.get(award_id=award.id, position=0)

    # --- the winner enters a Chilean account (a wrong check digit first) -------------------
    async with signed_in(browser, base_url, ana) as page:
        await page.goto(f"/organizations/{startup.id}/payout-account")
        await expect_heading(page, "Payout account")
        # The form asks what Chile needs, with examples.
        await expect(page.get_by_label("How the money reaches you")).to_have_value("cl_account")
        rut = page.get_by_label("RUT of the holder")
        await expect(rut).to_have_attribute("placeholder", "76.086.428-5")
        await expect(page.get_by_label("IBAN")).to_have_count(0)
        await visit.check(page, "form")
        await page.get_by_label("Account holder").fill(startup_name)
        await rut.fill("76.086.428-4")
        await page.get_by_label("Bank", exact=True).select_option(label="BancoEstado")
        await page.get_by_label("Account type").select_option("vista")
        await page.get_by_label("Account number").fill("2345 6789 01")
        await page.get_by_role("button", name="Save the bank details").click()
        await expect(page.get_by_role("alert")).to_have_text(FIX_FIELDS)
        await expect_field_error(
            page, "RUT of the holder", "This is not a valid RUT: the check digit does not match."
        )
        await expect(page.get_by_label("Bank", exact=True)).to_have_value("012")
        await expect(page.get_by_label("Account number")).to_have_value("2345 6789 01")
        await visit.check(page, "wrong-rut")
        await page.get_by_label("RUT of the holder").fill("76.086.428-5")
        await page.get_by_role("button", name="Save the bank details").click()
        await expect_notice(
            page,
            f"Bank details saved. Payouts to {startup_name} go to the account ending in 8901.",
        )
        current = page.get_by_role("region", name="Current account")
        await expect(current).to_contain_text("Bank account in Chile")
        await expect(current).to_contain_text("BancoEstado")
        await expect(current).to_contain_text("ending in 8901")
        await expect(current).not_to_contain_text("234567")
        await expect(current).not_to_contain_text("76.086.428")
        await visit.check(page, "saved")

    # It delivers and the manager approves (their pages have their own browser test).
    async with db.transaction(queue):
        await rewards.submit_evidence(
            as_(app, ana, startup, Role.owner), first, evidence="Three stairways lit."
        )
    async with db.transaction(queue):
        await rewards.approve(as_(app, marta, city, Role.manager), await Milestone.get(id=first.id))

    # --- the treasurer releases, copies the instruction and records the transfer ----------
    async with signed_in_with_code(browser, base_url, tomas) as page:
        await page.goto(f"/awards/{award.id}")
        milestone = page.get_by_role("region", name="1. Pilot on three stairways")
        await milestone.get_by_role("button", name=re.compile("^Release")).click()
        await expect_notice(
            page,
            "Released. Send the bank transfers listed under the milestone and record their "
            "references.",
        )
        instruction = page.get_by_label("Bank transfer instruction")
        await expect(instruction).to_have_attribute("readonly", "")
        text = await instruction.input_value()
        for line in (
            f"Account holder: {startup_name}",
            "Paid by: Bank account in Chile",
            "RUT of the holder: 76.086.428-5",
            "Bank: BancoEstado (012)",
            "Account type: Sight account (cuenta vista, CuentaRUT)",
            "Account number: 2345678901",
        ):
            assert line in text.splitlines(), text
        assert text.startswith("Amount: CLP") and "3,150,000" in text.splitlines()[0], text
        await visit.check(page, "instruction")
        transfer = page.get_by_role("form", name=re.compile(f"Bank transfer of .* {startup_name}"))
        await transfer.get_by_label(f"Reference of the bank transfer to {startup_name}").fill(
            "TEF-2026-0107"
        )
        await transfer.get_by_role("button", name="Record the bank transfer").click()
        await expect_notice(page, f"Bank transfer to {startup_name} recorded: the payout is paid.")
        payouts = page.get_by_role("table", name="Payouts of “Pilot on three stairways”")
        await expect(payouts.get_by_role("row", name=re.compile(startup_name))).to_contain_text(
            "Paid"
        )
        await expect(page.get_by_label("Bank transfer instruction")).to_have_count(0)
        await visit.check(page, "paid")
    assert (await Payout.get(milestone_id=first.id)).status is PayoutStatus.paid
    assert (await Milestone.get(id=first.id)).status is MilestoneStatus.paid


async def test_a_brazilian_winner_adds_a_pix_key(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    visit = Visit(screenshots, "payout-methods-br")
    tag = uuid.uuid4().hex[:4]
    joana = await make_user(name="Joana Lima", email=unique_email("joana"))
    name = f"Recicla+ {tag}"
    startup = await in_country(await make_org(name=name, members={joana: Role.owner}), "BR")
    async with signed_in(browser, base_url, joana) as page:
        await page.goto(f"/organizations/{startup.id}/payout-account")
        choice = page.get_by_label("How the money reaches you")
        # Brazil's methods first: PIX keys of each kind, then a bank account.
        await expect(choice).to_have_value("br_pix_cpf")
        await expect(page.get_by_label("CPF", exact=True)).to_be_visible()
        # Another kind of key, chosen without script: the page returns with its field.
        await choice.select_option(label="PIX key: e-mail")
        await page.get_by_role("button", name="Show its fields").click()
        key = page.get_by_label("E-mail address")
        await expect(key).to_be_visible()
        await expect(page.get_by_label("CPF", exact=True)).to_have_count(0)
        await visit.check(page, "email-form")
        await page.get_by_label("Account holder").fill(name)
        await key.fill("financeiro@")
        await page.get_by_role("button", name="Save the bank details").click()
        await expect_field_error(page, "E-mail address", "This is not a valid e-mail address.")
        await expect(page.get_by_label("How the money reaches you")).to_have_value("br_pix_email")
        await visit.check(page, "email-error")
        await page.get_by_label("E-mail address").fill("financeiro@recicla.com.br")
        await page.get_by_role("button", name="Save the bank details").click()
        await expect_notice(
            page, f"Bank details saved. Payouts to {name} go to the account ending in m.br."
        )
        current = page.get_by_role("region", name="Current account")
        await expect(current).to_contain_text("PIX key: e-mail")
        await expect(current).to_contain_text("ending in m.br")
        await expect(current).not_to_contain_text("financeiro")
        await visit.check(page, "saved")
