"""No page offers a button its command refuses: every form of the demo, pressed by each role.

For each demo role (anonymous, city manager, finance, startup, investor, judge, operator,
citizen, resident), one after another in the demo seeded once, the role signs in and visits
every GET page it may see, with the ids of the demo's objects (the routes and ids are those of
the phone crawl, `tests/e2e/test_phone_fit.py`: a new page is crawled without being listed
here), and the links of its menu. Every `<form method="post">` on those pages is submitted as
a browser would, once per enabled submit button: hidden inputs (the CSRF token among them),
checked radios and checkboxes, selected options and textarea contents as the page gives them;
required fields the page leaves empty get a plausible value (a date in the future, the number
1, "Demo text for the check", a small file of an accepted type), as a person filling the form
would.

A page that shows a button must be ready to have it pressed: no press answers 403 or 409
(nor lands, after its redirect, on a 403 or 409; a server error fails too), and no answer
says "Nothing was changed" or "Request refused" (the words the pages use when they refuse).
A 422 is the filler values failing validation, which is fine (its page may also say that
nothing was changed): those are counted and printed with the rest. Run with `-s` for the
counts per role, and with VISIBLE_ACTIONS_TRACE=1 for every press and its answer.

Pressing changes the demo world, so the page is read again before each press (a button that
went away with the previous press is not pressed), and pages and forms are taken in a fixed
order (roles in the order of `ROLES`, sorted URLs, forms in page order). To keep the run short,
a form (its action's route and its button) is pressed at most `PRESSES_PER_FORM` times per
role, on the first pages that show it: the same form on two challenges in the same state tests
the same rule.

Not pressed: the forms that end the session or destroy the account (`SKIPPED`: signing
out, deleting the account, ending sessions). Known offenders waiting for a fix are listed in
`KNOWN` with the defect they show; any other offender fails the test.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from lxml import html as lxml_html
from starlette.applications import Starlette

from service import bootstrap
from service.config import Settings
from tests.e2e.test_phone_fit import NOT_PAGES, demo_urls, pages_of, session_cookie
from tests.e2e.test_phone_fit import ROLES as PHONE_ROLES

pytestmark = pytest.mark.usefixtures("app")

# The phone crawl's roles, and a resident of the participation demo (proposals, panels). The
# city's manager and the operator come last: their presses (cancelling a challenge, hiding a
# proposal, withdrawing panel members) take away what the other roles would press.
LAST = ("operator", "city manager")
ROLES: dict[str, str | None] = {
    role: email
    for role, email in sorted(
        {**PHONE_ROLES, "resident": "ana@residents.demo.civic"}.items(),
        key=lambda item: LAST.index(item[0]) + 1 if item[0] in LAST else 0,
    )
}
# Forms whose press ends the session or destroys the account: the rest of the crawl needs
# both. Matched against the form's action path.
SKIPPED = re.compile(r"^/signout$|^/account/delete$|^/account/sessions/(end-others|\{id\}/end)$")
# The words of a refusal on an answer page: the form pages' "nothing was changed" notices and
# the title of the error page for a refused request.
REFUSALS = ("Nothing was changed", "nothing was changed", "Request refused")
REFUSED_STATUSES = {403, 409}
PRESSES_PER_FORM = 2
# VISIBLE_ACTIONS_TRACE=1 prints every press and its answer (run with -s).
TRACE = bool(os.environ.get("VISIBLE_ACTIONS_TRACE"))
# Known offenders, each naming its defect: (role, action pattern, button) -> why. Empty when
# every page shows only what its command accepts.
KNOWN: dict[tuple[str, str, str], str] = {}

FILLER_TEXT = "Demo text for the check"
NUMBERS = itertools.count(1)
FILLER_EMAIL = "check@example.org"
# The smallest valid PNG (1 x 1, transparent) and PDF, for required file fields.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000005000101"
    "0d0a2db40000000049454e44ae426082"
)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
ID = re.compile(r"/\d+(?=/|$)")
NAMED = re.compile(r"\([^)]*\)|[“\"][^”\"]*[”\"]")


def pattern(url: str) -> str:
    """A URL's route, its ids replaced (`/challenges/12/apply` -> `/challenges/{id}/apply`)."""
    return ID.sub("/{id}", urlsplit(url).path)


@dataclass(frozen=True)
class Press:
    """One submit button of one form: what a person presses."""

    action: str
    method_enctype: str
    fields: tuple[tuple[str, str], ...]
    files: tuple[tuple[str, str, bytes, str], ...]
    button: str

    @property
    def key(self) -> tuple[str, str]:
        """The form's route and its button, without the names the label carries ("Withdraw
        (Camila)"): one rule, whoever the row is about."""
        return pattern(self.action), NAMED.sub("", self.button).strip()


@dataclass
class Tally:
    pages: int = 0
    forms: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    gone: int = 0
    skipped: set[str] = field(default_factory=set)


def _future(days: int = 30) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def filler(element: Any) -> str:
    """A plausible value for a required field the page leaves empty."""
    kind = (element.get("type") or "text").lower()
    if kind == "date":
        return _future().date().isoformat()
    if kind == "datetime-local":
        return _future().strftime("%Y-%m-%dT%H:%M")
    if kind == "time":
        return "10:00"
    if kind == "month":
        return _future().strftime("%Y-%m")
    if kind in ("number", "range"):
        low = element.get("min")
        return str(max(1, int(float(low)))) if low else "1"
    if kind == "email":
        return FILLER_EMAIL
    if kind == "url":
        return "https://example.org/"
    if kind == "tel":
        return "+56 9 1234 5678"
    # Numbered: the same words posted twice (a statement in a conversation) are refused as a
    # duplicate, which is about the words, not about the button.
    text = f"{FILLER_TEXT} {next(NUMBERS)}"
    shortest = int(element.get("minlength") or 0)
    while len(text) < shortest:
        text += " " + FILLER_TEXT
    return text


def file_for(element: Any) -> tuple[str, bytes, str]:
    accept = (element.get("accept") or "").lower()
    if "image" in accept or ".png" in accept:
        return "check.png", PNG, "image/png"
    if "csv" in accept:
        return "check.csv", b"currency,rate\nUSD,1\n", "text/csv"
    return "check.pdf", PDF, "application/pdf"


def form_fields(
    form: Any,
) -> tuple[list[tuple[str, str]], list[tuple[str, str, bytes, str]]]:
    """What a browser sends for the form, required empty fields filled."""
    fields: list[tuple[str, str]] = []
    files: list[tuple[str, str, bytes, str]] = []
    radios: dict[str, list[Any]] = {}
    for element in form.xpath(".//input | .//select | .//textarea"):
        name = element.get("name")
        if not name or element.get("disabled") is not None:
            continue
        required = element.get("required") is not None
        tag = element.tag
        if tag == "select":
            chosen = [
                o.get("value", o.text_content())
                for o in element.xpath(".//option")
                if o.get("selected") is not None
            ]
            options = [o.get("value", o.text_content()) for o in element.xpath(".//option")]
            if not chosen and element.get("multiple") is None and options:
                chosen = [options[0]]
            if required and not any(chosen):
                chosen = [next((o for o in options if o), "")]
            fields += [(name, value) for value in chosen]
            continue
        if tag == "textarea":
            text = element.text or ""
            fields.append((name, filler(element) if required and not text else text))
            continue
        kind = (element.get("type") or "text").lower()
        if kind in ("submit", "image", "reset", "button"):
            continue
        if kind == "file":
            # A browser sends an empty part for a file not chosen.
            upload = file_for(element) if required else ("", b"", "application/octet-stream")
            files.append((name, *upload))
            continue
        if kind == "radio":
            radios.setdefault(name, []).append(element)
            if element.get("checked") is not None:
                fields.append((name, element.get("value", "on")))
            continue
        if kind == "checkbox":
            if element.get("checked") is not None:
                fields.append((name, element.get("value", "on")))
            continue
        value = element.get("value", "")
        if required and not value and kind != "hidden":
            value = filler(element)
        fields.append((name, value))
    for name, group in radios.items():
        if any(r.get("checked") is not None for r in group):
            continue
        if any(r.get("required") is not None for r in group):
            fields.append((name, group[0].get("value", "on")))
    return fields, files


def presses_of(page_url: str, text: str) -> list[Press]:
    """Every enabled submit button of every POST form of the page, in page order."""
    document = lxml_html.document_fromstring(text)
    presses = []
    for form in document.xpath("//form"):
        if (form.get("method") or "get").lower() != "post":
            continue
        action = urljoin(page_url, form.get("action") or page_url)
        fields, files = form_fields(form)
        enctype = (form.get("enctype") or "").lower()
        buttons = form.xpath(
            ".//button[not(@type) or @type='submit'] | .//input[@type='submit' or @type='image']"
        )
        if not buttons:
            # Enter in a text field submits a form without a button.
            presses.append(Press(action, enctype, tuple(fields), tuple(files), ""))
            continue
        for button in buttons:
            if button.get("disabled") is not None:
                continue  # shown, but not offered: the page says why next to it
            label = " ".join((button.text_content() or button.get("value") or "").split())
            sent = list(fields)
            if button.get("name"):
                sent.append((button.get("name"), button.get("value", "")))
            presses.append(Press(action, enctype, tuple(sent), tuple(files), label))
    return presses


async def press(client: httpx.AsyncClient, form: Press) -> httpx.Response:
    if form.files or form.method_enctype.startswith("multipart/"):
        files = [(name, (filename, content, kind)) for name, filename, content, kind in form.files]
        data: dict[str, list[str]] = {}
        for name, value in form.fields:
            data.setdefault(name, []).append(value)
        return await client.post(form.action, data=data, files=files)
    return await client.post(
        form.action,
        content=httpx.QueryParams(list(form.fields)).__str__().encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


def message_of(answer: httpx.Response) -> str:
    """What the answer page tells the person: its alert, or the error page's detail."""
    if "text/html" not in answer.headers.get("content-type", ""):
        return ""
    document = lxml_html.document_fromstring(answer.text)
    found = document.xpath(
        "//section[@class='error']/p[1] | //*[@role='alert'] | //*[contains(@class, 'error')]"
    )
    return " ".join(" ".join(found[0].text_content().split()).split()[:40]) if found else ""


def refusal(answer: httpx.Response) -> str | None:
    """Why the answer (after its redirects) is a refusal, or None. A 422 is the filler values
    failing validation: its page says that nothing was changed, and that is fine."""
    for step in [*answer.history, answer]:
        # A server error is no refusal, but a button that breaks the page is no better.
        if step.status_code in REFUSED_STATUSES or step.status_code >= 500:
            return f"answered {step.status_code}: {message_of(answer)!r}"
    if answer.status_code != 422 and "text/html" in answer.headers.get("content-type", ""):
        for words in REFUSALS:
            if words in answer.text:
                return f"answered {answer.status_code} with {words!r}: {message_of(answer)!r}"
    return None


MAIN_MENU = "//nav[contains(@class, 'main-menu')]//a/@href"


async def menu_links(app: Starlette, cookies: dict[str, str]) -> set[str]:
    """The links of the home page's main menu, within the app (not the language switch: the
    refusals are looked for in English)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies=cookies
    ) as client:
        home = await client.get("/")
    links = set()
    for href in lxml_html.document_fromstring(home.text).xpath(MAIN_MENU):
        parts = urlsplit(urljoin("http://testserver/", str(href)))
        if (
            parts.netloc == "testserver"
            and not NOT_PAGES.search(parts.path)
            and "lang=" not in parts.query
        ):
            links.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return links


@pytest.fixture
async def seeded(app: Starlette, settings: Settings) -> AsyncIterator[list[str]]:
    """The demo, seeded (the tables are emptied after the test), and the URLs of its pages."""
    from service.demo import seed

    await seed(settings)
    yield sorted(await demo_urls(app))


async def crawl(
    app: Starlette, role: str, email: str | None, urls: list[str]
) -> tuple[Tally, list[str]]:
    cookies = await session_cookie(app, email)
    found = await pages_of(app, cookies, urls)
    # The role's menu, as its home page shows it: links with a query (a filtered list) too.
    menu = await menu_links(app, cookies)
    pages = sorted(set(found) | set(await pages_of(app, cookies, sorted(menu - set(found)))))
    tally = Tally(pages=len(pages))
    offenders: list[str] = []
    pressed: Counter[tuple[str, str]] = Counter()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        # In English, whatever a form pressed on the way chose: the refusals are English words.
        cookies={**cookies, "lang": "en"},
        follow_redirects=True,
    ) as client:
        for url in pages:
            page = await client.get(url)
            todo = [p.key for p in presses_of(str(page.url), page.text)] if page.is_success else []
            seen: Counter[tuple[str, str]] = Counter()
            for key in todo:
                seen[key] += 1
                if SKIPPED.search(key[0]):
                    tally.skipped.add(key[0])
                    continue
                if pressed[key] >= PRESSES_PER_FORM:
                    continue
                # The page as it is now: the previous press may have changed it.
                page = await client.get(url)
                now = [p for p in presses_of(str(page.url), page.text) if p.key == key]
                if not page.is_success or len(now) < seen[key]:
                    tally.gone += 1
                    continue
                form = now[seen[key] - 1]
                pressed[key] += 1
                tally.forms += 1
                answer = await press(client, form)
                first = answer.history[0] if answer.history else answer
                tally.statuses[first.status_code] += 1
                if TRACE:
                    print(f"{role}: {url} {form.button!r} -> {form.action}: {first.status_code}")
                why = refusal(answer)
                if why is None:
                    continue
                known = KNOWN.get((role, key[0], key[1]))
                line = (
                    f"{role}: {url} offers {form.button or 'submit'!r} to POST {form.action}: {why}"
                )
                if known is None:
                    offenders.append(line)
                else:
                    print(f"known offender ({known}): {line}")
    return tally, offenders


async def forget_rate_limits(app: Starlette) -> None:
    deps: bootstrap.Deps = app.state.deps
    keys = [key async for key in deps.redis.scan_iter(match=f"{deps.settings.redis_prefix}:rl:*")]
    if keys:
        await deps.redis.delete(*keys)


async def test_no_page_offers_a_button_its_command_refuses(
    app: Starlette, seeded: list[str]
) -> None:
    # One seeded world for every role, one role after another (seeding takes ~10 s): what a
    # role's presses changed is part of the world the next role sees, in the same order on
    # every run.
    started = time.monotonic()
    offenders: list[str] = []
    totals: Counter[str] = Counter()
    for role, email in ROLES.items():
        # Each role is other people, from another address: the previous roles' presses do not
        # count toward its rate limits (a 429 would hide the button's answer).
        await forget_rate_limits(app)
        begun = time.monotonic()
        tally, found = await crawl(app, role, email, seeded)
        offenders += found
        totals.update(pages=tally.pages, presses=tally.forms, answers_422=tally.statuses[422])
        print(
            f"\n{role}: {tally.pages} pages, {tally.forms} presses in "
            f"{time.monotonic() - begun:.0f} s, answers {dict(sorted(tally.statuses.items()))}, "
            f"{tally.gone} gone before pressed, not pressed: {sorted(tally.skipped)}"
        )
        assert tally.pages > 0, f"{role} reached no page: did a press end its session?"
    print(f"\nall roles: {dict(totals)} in {time.monotonic() - started:.0f} s")
    assert offenders == [], f"{len(offenders)} buttons refused when pressed:\n" + "\n".join(
        offenders
    )
