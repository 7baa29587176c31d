"""The accounts flow in a real browser, as a person does it.

Register (a bad form first), confirm the e-mail address from the link that really arrives
over SMTP, sign out and in again, create an organization (a bad country code first), invite
a member, and let the invitee register and accept. Every page is checked with axe-core and
photographed into `screenshots/`. A second pass runs register and sign-in without JavaScript,
and each accounts page is checked for sideways scrolling on a phone-sized screen.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect
from starlette.applications import Starlette

from service import db
from service.accounts.models import Invitation, Membership, Role, User
from tests.e2e.visit import PHONE, Visit
from tests.factories import PASSWORD, make_org, make_user, totp_code
from tests.smtp import Mailbox

# `app` is the served app: using it cleans the tables and rate limits after each test.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]

RunJobs = Callable[[], Awaitable[None]]

FIX_FIELDS = "Please correct the fields marked below."
INVALID = "aria-invalid"


def unique_email(who: str) -> str:
    return f"{who}-{uuid.uuid4().hex[:8]}@example.org"


def local(link: str) -> str:
    """The path (and query) of a link in an e-mail, to open on the server under test."""
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def main_nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


async def expect_notice(page: Page, text: str | re.Pattern[str]) -> None:
    await expect(page.get_by_role("status")).to_have_text(text)


async def expect_heading(page: Page, text: str) -> None:
    await expect(page.get_by_role("heading", level=1)).to_have_text(text)


async def expect_field_error(page: Page, label: str, message: str | re.Pattern[str]) -> None:
    """The field is marked invalid and its error is part of its accessible description."""
    field = page.get_by_label(label, exact=True)
    await expect(field).to_have_attribute(INVALID, "true")
    pattern = message if isinstance(message, re.Pattern) else re.compile(re.escape(message))
    await expect(field).to_have_accessible_description(pattern)


async def expect_field_ok(page: Page, label: str) -> None:
    await expect(page.get_by_label(label, exact=True)).not_to_have_attribute(INVALID, "true")


async def fill_register(page: Page, *, name: str, email: str, password: str) -> None:
    await page.get_by_label("Your name").fill(name)
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Create account").click()


async def fill_signin(page: Page, *, email: str, password: str) -> None:
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("main").get_by_role("button", name="Sign in").click()


async def sign_in_after_registering(page: Page, *, email: str, password: str) -> None:
    """Registering signs nobody in (it must not reveal whether the address had an account)."""
    await expect(page).to_have_url(re.compile(r"/signin$"))
    await expect_notice(page, re.compile("We sent a message to"))
    await fill_signin(page, email=email, password=password)
    await open_account(page)


async def open_account(page: Page) -> None:
    """Signing in lands on the person's home; the account is one menu item away."""
    await expect(page).to_have_url(re.compile(r"/$"))
    await main_nav(page).get_by_role("link", name="Account").click()
    await expect(page).to_have_url(re.compile(r"/account$"))


async def sign_out(page: Page) -> None:
    await main_nav(page).get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect_notice(page, "You are signed out.")
    await expect(main_nav(page).get_by_role("link", name="Sign in")).to_be_visible()


# --- the steps -------------------------------------------------------------------------


async def register_with_mistakes(page: Page, visit: Visit, *, name: str, email: str) -> None:
    response = await page.goto("/register")
    assert response is not None and response.status == 200
    await expect_heading(page, "Create an account")
    await visit.check(page, "register")

    # An address that is not one, and a password that is too short.
    await fill_register(page, name=name, email="ana.example.org", password="short")
    await expect(page.get_by_role("alert")).to_have_text(FIX_FIELDS)
    await expect_field_error(page, "E-mail address", re.compile(r"valid e-?mail address", re.I))
    await expect(page.get_by_label("Your name")).to_have_value(name)
    await expect(page.get_by_label("E-mail address")).to_have_value("ana.example.org")
    await expect(page.get_by_label("Password", exact=True)).to_have_value("")
    await expect_field_ok(page, "Your name")
    await visit.check(page, "register-bad-email")

    # The address is fixed; the short password is refused next to its field.
    await fill_register(page, name=name, email=email, password="short")
    await expect(page.get_by_role("alert")).to_have_text(FIX_FIELDS)
    await expect_field_error(page, "Password", "Use at least 10 characters.")
    await expect_field_ok(page, "E-mail address")
    await expect(page.get_by_label("Your name")).to_have_value(name)
    await expect(page.get_by_label("E-mail address")).to_have_value(email)
    await visit.check(page, "register-short-password")

    await fill_register(page, name=name, email=email, password=PASSWORD)
    await sign_in_after_registering(page, email=email, password=PASSWORD)
    await expect(page.get_by_text("not confirmed yet")).to_be_visible()
    await visit.check(page, "account-unconfirmed")


async def confirm_email(
    page: Page, visit: Visit, mailbox: Mailbox, run_jobs: RunJobs, email: str
) -> None:
    await run_jobs()
    link = mailbox.last_link(email, "/verify-email/")
    await page.goto(local(link))
    await expect_heading(page, "Confirm your e-mail address")
    await visit.check(page, "verify-email")

    await page.get_by_role("button", name="Confirm my address").click()
    await expect(page).to_have_url(re.compile(r"/account$"))
    await expect_notice(page, "Your e-mail address is confirmed.")
    await expect(page.get_by_text("confirmed", exact=True)).to_be_visible()
    await expect(page.get_by_text("not confirmed yet")).to_have_count(0)
    await visit.check(page, "account-confirmed")

    # The link works once.
    await page.goto(local(link))
    await page.get_by_role("button", name="Confirm my address").click()
    await expect(page.get_by_role("alert")).to_contain_text("This link is not valid")
    await visit.check(page, "verify-email-used")


async def sign_in_again(page: Page, visit: Visit, *, name: str, email: str) -> None:
    await sign_out(page)
    await main_nav(page).get_by_role("link", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/signin$"))
    await expect_heading(page, "Sign in")
    await visit.check(page, "signin")

    await fill_signin(page, email=email, password="not-the-password-1")
    await expect(page.get_by_role("alert")).to_have_text(
        "The e-mail address or the password is not right."
    )
    await expect(page.get_by_label("E-mail address")).to_have_value(email)
    await visit.check(page, "signin-wrong-password")

    await fill_signin(page, email=email, password=PASSWORD)
    await open_account(page)
    await expect_heading(page, "Your account")
    await expect(page.get_by_text(name, exact=True)).to_be_visible()


async def create_organization(page: Page, visit: Visit, *, org_name: str) -> str:
    await page.get_by_role("link", name="Create an organization").click()
    await expect(page).to_have_url(re.compile(r"/organizations/new$"))
    await expect_heading(page, "Create an organization")
    await visit.check(page, "org-new")

    await page.get_by_label("Name").fill(org_name)
    await page.get_by_label("Kind").select_option(label="Startup")
    await page.get_by_label("Country code").fill("XX")
    await page.get_by_label("Region").fill("Madrid")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.get_by_role("alert")).to_have_text(FIX_FIELDS)
    await expect_field_error(
        page, "Country code", "Use an ISO 3166-1 alpha-2 country code, such as ES or BR."
    )
    # The hint stays in the description next to the error.
    await expect(page.get_by_label("Country code")).to_have_accessible_description(
        re.compile(r"Two letters, such as ES, BR or CL\.")
    )
    await expect(page.get_by_label("Name")).to_have_value(org_name)
    await expect(page.get_by_label("Kind")).to_have_value("startup")
    await expect(page.get_by_label("Country code")).to_have_value("XX")
    await expect(page.get_by_label("Region")).to_have_value("Madrid")
    await expect_field_ok(page, "Name")
    await visit.check(page, "org-new-bad-country")

    await page.get_by_label("Country code").fill("es")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/organizations/\d+$"))
    await expect_notice(page, "Organization created. An operator will verify it.")
    await expect_heading(page, org_name)
    await expect(page.get_by_text("Madrid, ES")).to_be_visible()
    await expect(page.get_by_text("not verified yet")).to_be_visible()
    return urlsplit(page.url).path


async def invite_member(
    page: Page,
    visit: Visit,
    mailbox: Mailbox,
    run_jobs: RunJobs,
    *,
    owner_email: str,
    org_name: str,
    invitee: str,
) -> None:
    members = page.get_by_role("table", name="Members")
    await expect(members.get_by_role("row")).to_have_count(2)  # header and the owner
    await expect(
        members.get_by_role("row", name=re.compile(re.escape(owner_email)))
    ).to_contain_text("Owner")
    await expect(page.get_by_role("heading", name="Invite a member")).to_be_visible()
    await expect(page.get_by_label("Role").locator("option")).to_have_text(
        ["Choose a role", "Owner", "Member"]
    )
    await visit.check(page, "organization")

    await page.get_by_label("E-mail address").fill(invitee)
    await page.get_by_label("Role").select_option(label="Member")
    await page.get_by_role("button", name="Send invitation").click()
    await expect_notice(page, f"Invitation sent to {invitee}.")
    await visit.check(page, "organization-invited")

    # The same person again: refused next to the field, the values kept.
    await page.get_by_label("E-mail address").fill(invitee)
    await page.get_by_label("Role").select_option(label="Member")
    await page.get_by_role("button", name="Send invitation").click()
    await expect_field_error(
        page, "E-mail address", "This person already has a pending invitation."
    )
    await expect(page.get_by_label("E-mail address")).to_have_value(invitee)
    await expect(page.get_by_label("Role")).to_have_value("member")
    await visit.check(page, "organization-invite-twice")

    await run_jobs()
    sent = mailbox.to(invitee)
    assert len(sent) == 1, [m["Subject"] for m in sent]
    message = sent[0]
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "You are invited to join an organization"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert f"You are invited to join {org_name} on Civic Challenges with the role Member." in (
        " ".join(text.split())
    ), text


async def accept_invitation(
    context: BrowserContext,
    visit: Visit,
    mailbox: Mailbox,
    run_jobs: RunJobs,
    *,
    invitee: str,
    org_name: str,
    org_path: str,
) -> None:
    page = await context.new_page()
    await page.goto(local(mailbox.last_link(invitee, "/register")))
    await fill_register(page, name="Bruno Lima", email=invitee, password=PASSWORD)
    await sign_in_after_registering(page, email=invitee, password=PASSWORD)
    # The invitation goes to an address: it is answered once the address is confirmed.
    await run_jobs()
    await page.goto(local(mailbox.last_link(invitee, "/verify-email/")))
    await page.get_by_role("button", name="Confirm my address").click()
    await expect_notice(page, "Your e-mail address is confirmed.")
    await page.get_by_role("link", name="You have 1 pending invitation").click()
    await expect(page).to_have_url(re.compile(r"/invitations$"))
    await expect_heading(page, "Invitations")
    await expect(page.get_by_text(org_name)).to_be_visible()
    await visit.check(page, "invitations")

    await page.get_by_role("button", name="Accept").click()
    await expect(page).to_have_url(re.compile(re.escape(org_path) + "$"))
    await expect_notice(page, "You joined the organization.")
    members = page.get_by_role("table", name="Members")
    await expect(members.get_by_role("row", name=re.compile(re.escape(invitee)))).to_contain_text(
        "Member"
    )
    # A plain member sees the team but cannot invite.
    await expect(page.get_by_role("heading", name="Invite a member")).to_have_count(0)
    await visit.check(page, "organization-as-member")

    await page.goto("/invitations")
    await expect(page.get_by_text("You have no pending invitations.")).to_be_visible()
    await visit.check(page, "invitations-none")


# --- the tests ---------------------------------------------------------------------------


async def test_accounts_flow(
    page: Page,
    browser: Browser,
    base_url: str,
    mailbox: Mailbox,
    worker_burst: RunJobs,
    screenshots: Path,
) -> None:
    visit = Visit(screenshots, "accounts")
    name = "Ana Costa"
    email = unique_email("ana")
    invitee = unique_email("bruno")
    org_name = f"Agua Limpia {uuid.uuid4().hex[:4]}"

    await register_with_mistakes(page, visit, name=name, email=email)
    await confirm_email(page, visit, mailbox, worker_burst, email)
    await sign_in_again(page, visit, name=name, email=email)
    org_path = await create_organization(page, visit, org_name=org_name)
    await invite_member(
        page,
        visit,
        mailbox,
        worker_burst,
        owner_email=email,
        org_name=org_name,
        invitee=invitee,
    )
    await page.goto("/account")
    await expect(page.get_by_role("link", name=org_name)).to_be_visible()

    # The invitee, in a browser of their own.
    invitee_context = await browser.new_context(base_url=base_url, locale="en-US")
    try:
        await accept_invitation(
            invitee_context,
            visit,
            mailbox,
            worker_burst,
            invitee=invitee,
            org_name=org_name,
            org_path=org_path,
        )
    finally:
        await invitee_context.close()


async def test_register_and_sign_in_without_javascript(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    context = await browser.new_context(
        base_url=base_url, locale="en-US", java_script_enabled=False
    )
    try:
        page = await context.new_page()
        visit = Visit(screenshots, "nojs")
        name = "Carla Nunes"
        email = unique_email("carla")

        await page.goto("/register")
        await fill_register(page, name=name, email=email, password="short")
        await expect_field_error(page, "Password", "Use at least 10 characters.")
        await expect(page.get_by_label("E-mail address")).to_have_value(email)
        await visit.check(page, "register-short-password", axe=False)

        await fill_register(page, name=name, email=email, password=PASSWORD)
        await sign_in_after_registering(page, email=email, password=PASSWORD)
        await visit.check(page, "account", axe=False)

        await sign_out(page)
        await main_nav(page).get_by_role("link", name="Sign in").click()
        await fill_signin(page, email=email, password=PASSWORD)
        await open_account(page)
        await expect(page.get_by_text(name, exact=True)).to_be_visible()
        await expect(page.get_by_text(email, exact=False)).to_be_visible()
        await visit.check(page, "account-signed-in", axe=False)
    finally:
        await context.close()


async def test_two_factor_sign_in_asks_the_code_on_a_page_of_its_own(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    """The password first; then only the code, a wrong one refused next to its field."""
    user = await make_user(name="Elena Prieto", email=unique_email("elena"), totp=True)
    assert user.totp_secret
    visit = Visit(screenshots, "signin-two-step")
    context = await browser.new_context(base_url=base_url, locale="en-US")
    try:
        page = await context.new_page()
        await page.goto("/signin?next=/invitations")
        await fill_signin(page, email=user.email, password=PASSWORD)
        await expect(page).to_have_url(re.compile(r"/signin/code\?next=/invitations$"))
        await expect_heading(page, "Enter your code")
        await expect(page.get_by_label("Password", exact=True)).to_have_count(0)
        await expect(page.get_by_role("alert")).to_have_count(0)
        await visit.check(page, "code")
        await visit.fits_phone(page, "code")

        # Six digits that are none of the codes the app would accept now.
        totp = pyotp.TOTP(user.totp_secret)
        valid = {totp.at(time.time() + drift) for drift in (-30, 0, 30)}
        code = page.get_by_label("Code from your authenticator app")
        await code.fill(next(c for c in ("000000", "111111", "222222", "333333") if c not in valid))
        await page.get_by_role("main").get_by_role("button", name="Sign in").click()
        await expect_field_error(
            page, "Code from your authenticator app", re.compile("This code is not right")
        )
        await expect(page.get_by_label("Password", exact=True)).to_have_count(0)
        await visit.check(page, "wrong-code")

        await code.fill(await totp_code(user))
        await page.get_by_role("main").get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(re.compile(r"/invitations$"))
        await expect_heading(page, "Invitations")
    finally:
        await context.close()


async def test_an_unconfirmed_address_cannot_join_an_organization(
    browser: Browser, base_url: str
) -> None:
    """Anyone can register any address: until it is confirmed, it proves nothing."""
    owner = await make_user()
    org = await make_org(members={owner: Role.owner})
    invitee = unique_email("dora")
    async with db.transaction(None):
        await Invitation.create(organization=org, email=invitee, role=Role.member, invited_by=owner)
    context = await browser.new_context(base_url=base_url, locale="en-US")
    try:
        page = await context.new_page()
        await page.goto("/register")
        await fill_register(page, name="Dora Reis", email=invitee, password=PASSWORD)
        await sign_in_after_registering(page, email=invitee, password=PASSWORD)
        await expect(page.get_by_text("not confirmed yet")).to_be_visible()
        await page.goto("/invitations")
        accept = page.get_by_role("button", name="Accept")
        if await accept.count():
            await accept.click()
            await page.wait_for_load_state()
    finally:
        await context.close()
    joined = await Membership.filter(organization=org, user__email=invitee).exists()
    assert not joined, "an unconfirmed address joined the organization"


@pytest.mark.parametrize(
    "path",
    [
        "/register",
        "/signin",
        "/account",
        "/organizations/new",
        "/organizations/{org}",
        "/invitations",
    ],
)
async def test_accounts_pages_fit_a_phone_screen(
    browser: Browser, base_url: str, screenshots: Path, path: str
) -> None:
    owner = await make_user(name="Ana Costa", email=unique_email("ana.maria.costa.ferreira"))
    member = await make_user(name="Bruno Lima", email=unique_email("bruno.lima.santos.oliveira"))
    org = await make_org(
        name="Agua Limpia Cooperativa", members={owner: Role.owner, member: Role.member}
    )
    context = await browser.new_context(
        base_url=base_url, locale="en-US", viewport={"width": 360, "height": 740}
    )
    try:
        page = await context.new_page()
        if path not in ("/register", "/signin"):
            await page.goto("/signin")
            await fill_signin(page, email=owner.email, password=PASSWORD)
            await expect(page).to_have_url(re.compile(r"/$"))
        await page.goto(path.format(org=org.id))
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        name = path.strip("/").replace("/", "-").replace("{org}", "org")
        await page.screenshot(path=screenshots / f"phone-{name}.png", full_page=True)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        wide = await page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > innerWidth)
                .filter(e => { for (let a = e.parentElement; a; a = a.parentElement)
                    if (getComputedStyle(a).overflowX !== 'visible') return false; return true; })
                .slice(-5)
                .map(e => `${e.tagName}.${e.className}: ${e.textContent.trim().slice(0, 30)}`)"""
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone: {wide}"
    finally:
        await context.close()


async def test_ones_own_account_on_a_phone(
    browser: Browser, base_url: str, app: Starlette, screenshots: Path
) -> None:
    """At 390 px: the name and language are changed (the page then answers in Spanish), and
    the pages to change the e-mail address and to delete the account read well and pass axe."""
    from tests.e2e.test_funding import session_cookie

    user = await make_user(name="Ana Costa", email=unique_email("ana.maria.costa.ferreira"))
    visit = Visit(screenshots, "own-account")
    context = await browser.new_context(base_url=base_url, locale="en-US", viewport=PHONE)
    context.set_default_timeout(10_000)
    try:
        await context.add_cookies([await session_cookie(app, base_url, user)])  # type: ignore[list-item]
        page = await context.new_page()
        await page.goto("/account")
        await page.get_by_label("Your name").fill(" ")
        await page.get_by_role("button", name="Save name and language").click()
        await expect_field_error(page, "Your name", "Enter your name.")
        await visit.check(page, "blank-name")
        await page.get_by_label("Your name").fill("Ana Costa Ferreira")
        await page.get_by_label("Language of the pages and e-mails").select_option("es")
        await page.get_by_role("button", name="Save name and language").click()
        await expect(page.locator("html")).to_have_attribute("lang", "es")
        await expect(page.locator("#f-name")).to_have_value("Ana Costa Ferreira")
        await visit.check(page, "account-es")
        await visit.fits_phone(page, "account-es")
        for path in ("/account/email", "/account/delete"):
            await page.goto(f"{path}?lang=en")
            await expect(page.get_by_role("heading", level=1)).to_be_visible()
            await visit.check(page, path.rsplit("/", 1)[-1])
            await visit.fits_phone(page, path.rsplit("/", 1)[-1])
    finally:
        await context.close()
    saved = await User.get(id=user.id)
    assert (saved.name, saved.language) == ("Ana Costa Ferreira", "es")
