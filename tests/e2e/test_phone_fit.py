"""Every page fits a phone: the whole crawl of the demo, at 390 x 844, with no sideways scroll.

The demo data is seeded, then each demo role (anonymous, city manager, finance, startup,
investor, judge, operator, citizen) signs in and visits every GET page of the app it may
see: the routes are read from the router, so a new page is crawled without being listed
here, and their ids are those of the demo's objects (every challenge, proposal, award...).
A page wider than the screen fails the test, which names the page and its widest element.
One browser context per role, pages visited one after another.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, ViewportSize
from starlette.applications import Starlette
from starlette.routing import Route
from tortoise.models import Model

from service import db
from service.accounts.actor import SESSION_COOKIE, hash_token, host_cookie
from service.accounts.models import Organization, OrganizationKind, User, WebSession
from service.applications.models import Application, Award
from service.challenges.models import Challenge
from service.config import Settings
from service.deliberation.models import Conversation
from service.funding.models import FundingRound
from service.incubation.models import Cohort, Place, Programme
from service.panels.models import Panel
from service.participation.models import Proposal
from service.rewards.models import Milestone
from tests.e2e.visit import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("app")]
SCREEN: ViewportSize = {"width": PHONE["width"], "height": PHONE["height"]}

# The demo's accounts, one per role (None: not signed in); operators act with two factors.
ROLES: dict[str, str | None] = {
    "anonymous": None,
    "city manager": "manager@valparaiso.demo.civic",
    "finance": "finance@valparaiso.demo.civic",
    "startup": "rutaviva@demo.civic",
    "investor": "andes@demo.civic",
    "judge": "judge@demo.civic",
    "operator": "operator@demo.civic",
    "citizen": "citizen@demo.civic",
}
# Routes that answer with something other than a page (files, feeds, data, redirects to
# another site). Those answering anything but HTML are also dropped when crawled.
NOT_PAGES = re.compile(
    r"^/(healthz|readyz|metrics|api/v1/|api/openapi\.json|static)"
    r"|\.(csv|atom|ics|pb)$|/attachments/|/files/|/photo$|^/auth/oidc/|/payout-account/"
)
PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")

# The ids each route parameter takes: one demo object of each kind and state (the pages of
# two open challenges differ in their words, not in their layout), with the objects of the
# demo's first organizations, whose accounts the roles use, first.
Ids = Callable[[], Awaitable[list[Any]]]


def one_per(model: type[Model], *fields: str, order: str = "id", **where: Any) -> Ids:
    async def ids() -> list[Any]:
        rows = await model.filter(**where).order_by(order, "id").values("id", *fields)
        first: dict[tuple[Any, ...], Any] = {}
        for row in rows:
            first.setdefault(tuple(row[f] for f in fields), row["id"])
        return list(first.values())

    return ids


def every(model: type[Model], **where: Any) -> Ids:
    async def ids() -> list[Any]:
        return list(await model.filter(**where).order_by("id").values_list("id", flat=True))

    return ids


async def no_token() -> list[Any]:
    return ["not-a-real-token"]


IDS: dict[str, Ids] = {
    "organization_id": one_per(Organization, "kind"),
    "challenge_id": one_per(Challenge, "status", order="organization_id"),
    "application_id": one_per(Application, "status", order="organization_id"),
    "award_id": every(Award),
    "milestone_id": one_per(Milestone, "status"),
    "investor_id": every(Organization, kind=OrganizationKind.investor),
    "startup_id": every(Organization, kind=OrganizationKind.startup),
    "city_id": every(Organization, kind=OrganizationKind.government),
    "proposal_id": one_per(Proposal, "status"),
    "conversation_id": every(Conversation),
    "programme_id": every(Programme),
    "cohort_id": every(Cohort),
    "place_id": every(Place),
    "round_id": every(FundingRound),
    "panel_id": every(Panel),
    "token": no_token,
}

# What overflows: the outermost elements reaching past the screen's right edge (not those
# inside a box that scrolls or clips them), widest first.
WIDEST = """
() => {
  const doc = document.documentElement;
  const limit = doc.clientWidth;
  if (doc.scrollWidth <= limit) return null;
  const clipped = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map((c) => "." + c).join("");
  const over = new Set();
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= limit + 0.5 || clipped(el)) continue;
    over.add(el);
    if (over.has(el.parentElement)) continue;
    const path = [];
    for (let a = el; a && a !== document.body && path.length < 4; a = a.parentElement) {
      path.unshift(name(a));
    }
    const text = (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 60);
    found.push({path: path.join(" > "), right: Math.round(box.right),
                width: Math.round(box.width), text});
  }
  found.sort((a, b) => b.right - a.right);
  return {width: doc.scrollWidth, screen: limit, widest: found.slice(0, 3)};
}
"""


def page_routes(app: Starlette) -> list[str]:
    """Every GET route of the app that answers with a page."""
    return [
        route.path
        for route in app.routes
        if isinstance(route, Route)
        and "GET" in (route.methods or ())
        and not NOT_PAGES.search(route.path)
    ]


async def demo_urls(app: Starlette) -> list[str]:
    """The routes, with every combination of the demo's ids for their parameters."""
    ids = {name: await get() for name, get in IDS.items()}
    urls = []
    for path in page_routes(app):
        names = PARAMETER.findall(path)
        missing = [n for n in names if n not in ids]
        assert not missing, f"{path}: say in IDS which demo objects fill {missing}"
        for values in itertools.product(*(ids[n] for n in names)):
            url = path
            for value in values:
                url = PARAMETER.sub(str(value), url, count=1)
            urls.append(url)
    return urls


async def session_cookie(app: Starlette, email: str | None) -> dict[str, str]:
    """The cookie of a fresh session of the demo account, as its own sign-in would open
    (with two factors for the operator and for those who turned them on); none for the
    anonymous."""
    if email is None:
        return {}
    user = await User.get(email=email)
    raw = secrets.token_urlsafe(16)
    async with db.transaction(None):
        await WebSession.create(
            user=user,
            token_hash=hash_token(raw),
            csrf_token=secrets.token_urlsafe(16),
            mfa=user.is_operator or user.totp_enabled_at is not None,
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
    return {host_cookie(app.state.settings, SESSION_COOKIE): raw}


async def pages_of(app: Starlette, cookies: dict[str, str], urls: list[str]) -> list[str]:
    """The urls that answer the role with a page of their own (not a refusal, a redirect or
    a file), asked in-process: cheaper than a browser for the many it may not see."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies=cookies
    ) as client:
        found = []
        for url in urls:
            answer = await client.get(url)
            if answer.status_code == 200 and answer.headers.get("content-type", "").startswith(
                "text/html"
            ):
                found.append(url)
        return found


async def overflows(
    context: BrowserContext, urls: list[str], screenshots: Path, role: str
) -> list[str]:
    """What reaches past the screen's edge on each page of `urls` that scrolls sideways."""
    page = await context.new_page()
    failures = []
    for url in urls:
        await page.goto(url, wait_until="load")
        found = await page.evaluate(WIDEST)
        if found is None:
            continue
        slug = re.sub(r"[^a-z0-9]+", "-", f"{role} {url}".lower()).strip("-")
        await page.screenshot(path=screenshots / f"phone-fit-{slug}.png", full_page=True)
        widest = "; ".join(
            f"{w['path']} (right edge at {w['right']}px, {w['width']}px wide: {w['text']!r})"
            for w in found["widest"]
        )
        failures.append(
            f"{role} {url}: {found['width']}px wide on a {found['screen']}px screen; "
            f"widest: {widest or '?'}"
        )
    await page.close()
    return failures


async def test_every_page_of_the_demo_fits_a_phone_for_every_role(
    browser: Browser, base_url: str, app: Starlette, settings: Settings, screenshots: Path
) -> None:
    from service.demo import seed

    await seed(settings)
    urls = await demo_urls(app)
    started = time.monotonic()
    failures: list[str] = []
    visited: dict[str, int] = {}
    for role, email in ROLES.items():
        cookies = await session_cookie(app, email)
        pages = await pages_of(app, cookies, urls)
        context = await browser.new_context(base_url=base_url, locale="en-US", viewport=SCREEN)
        context.set_default_timeout(15_000)
        try:
            await context.add_cookies(
                [{"name": n, "value": v, "url": base_url} for n, v in cookies.items()]
            )
            failures += await overflows(context, pages, screenshots, role)
        finally:
            await context.close()
        visited[role] = len(pages)
    elapsed = time.monotonic() - started
    print(f"phone crawl: {sum(visited.values())} pages in {elapsed:.0f} s; by role {visited}")
    # Every role reached pages of its own, not only the public ones.
    assert all(visited[role] > visited["anonymous"] for role in ROLES if role != "anonymous")
    assert failures == [], f"{len(failures)} pages scroll sideways at 390 px:\n" + "\n".join(
        failures
    )
