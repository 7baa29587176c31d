"""The home page in a real browser: languages, the no-JavaScript language switch, accessibility."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from service.core.i18n import COOKIE, DEFAULT_LANGUAGE, LANGUAGES, translations

pytestmark = pytest.mark.browser

AXE = Axe()
HEADING = "Local problems, open solutions"
BRAND_BLUE = "rgb(11, 83, 148)"  # --brand in site.css


def tr(language: str, message: str) -> str:
    """`message` as the catalog of `language` renders it (and it must be translated)."""
    text = translations(language).gettext(message)
    if language != DEFAULT_LANGUAGE:
        assert text != message, f"{message!r} has no {language} translation"
    return text


async def expect_home(page: Page, language: str) -> None:
    await expect(page.locator("html")).to_have_attribute("lang", language)
    await expect(page.get_by_role("heading", level=1)).to_have_text(tr(language, HEADING))
    await expect(page).to_have_title(f"{tr(language, 'Home')} · {tr(language, 'Civic Challenges')}")
    switch = page.get_by_role("navigation", name=tr(language, "Language"))
    await expect(switch.get_by_role("link", name=LANGUAGES[language])).to_have_attribute(
        "aria-current", "true"
    )
    await expect(switch.locator("[aria-current]")).to_have_count(1)


async def expect_no_axe_violations(page: Page) -> None:
    results = await AXE.run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_home_renders_in_each_language(page: Page, language: str, screenshots: Path) -> None:
    response = await page.goto(f"/?lang={language}")
    assert response is not None and response.status == 200
    await expect_home(page, language)
    # The stylesheet is served and applied.
    await expect(page.locator(".site-header")).to_have_css("background-color", BRAND_BLUE)

    shot = screenshots / f"home-{language}.png"
    await page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 0


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_home_fits_a_phone_screen(page: Page, language: str, screenshots: Path) -> None:
    await page.set_viewport_size({"width": 360, "height": 740})
    await page.goto(f"/?lang={language}")
    await expect_home(page, language)
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"

    shot = screenshots / f"home-{language}-phone.png"
    await page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 0


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("en-US", "en"),
        ("es-ES", "es"),
        ("es-MX", "es"),
        ("pt-BR", "pt"),
        ("pt-PT", "pt"),
        ("fr-FR", "en"),
    ],
)
async def test_home_follows_the_browser_locale(
    browser: Browser, base_url: str, locale: str, language: str
) -> None:
    context = await browser.new_context(base_url=base_url, locale=locale)
    try:
        page = await context.new_page()
        response = await page.goto("/")
        assert response is not None
        sent = await response.request.header_value("accept-language")
        assert sent is not None and sent.startswith(locale), sent
        await expect_home(page, language)
    finally:
        await context.close()


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [
        ("fr-CA,fr;q=0.9,es;q=0.8,en;q=0.5", "es"),
        ("de-DE,de;q=0.9,pt-BR;q=0.7", "pt"),
        ("de-DE,de;q=0.9", "en"),
    ],
)
async def test_home_follows_the_accept_language_header(
    browser: Browser, base_url: str, accept_language: str, language: str
) -> None:
    context = await browser.new_context(
        base_url=base_url, extra_http_headers={"Accept-Language": accept_language}
    )
    try:
        page = await context.new_page()
        await page.goto("/")
        await expect_home(page, language)
    finally:
        await context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
async def test_language_switch_links(browser: Browser, base_url: str, javascript: bool) -> None:
    context = await browser.new_context(
        base_url=base_url, locale="en-US", java_script_enabled=javascript
    )
    try:
        page = await context.new_page()
        await page.goto("/")
        await expect_home(page, "en")

        current = "en"
        for language in ("es", "pt", "en"):
            switch = page.get_by_role("navigation", name=tr(current, "Language"))
            await switch.get_by_role("link", name=LANGUAGES[language]).click()
            await expect(page).to_have_url(re.compile(rf"/\?lang={language}$"))
            await expect_home(page, language)
            # The choice is remembered: a plain visit keeps the language.
            cookies = {c["name"]: c["value"] for c in await context.cookies()}
            assert cookies.get(COOKIE) == language, cookies
            await page.goto("/")
            await expect_home(page, language)
            current = language
    finally:
        await context.close()


async def test_query_parameter_wins_over_the_browser_locale(
    browser: Browser, base_url: str
) -> None:
    context = await browser.new_context(base_url=base_url, locale="pt-BR")
    try:
        page = await context.new_page()
        await page.goto("/?lang=es")
        await expect_home(page, "es")
    finally:
        await context.close()


async def test_skip_link_moves_focus_to_the_main_content(page: Page) -> None:
    await page.goto("/")
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    await expect(skip).to_be_focused()
    await expect(skip).to_be_in_viewport()
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_home_has_no_accessibility_violations(page: Page, language: str) -> None:
    await page.goto(f"/?lang={language}")
    await expect_home(page, language)
    await expect_no_axe_violations(page)


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_not_found_page_is_translated_and_accessible(page: Page, language: str) -> None:
    response = await page.goto(f"/no-such-page?lang={language}")
    assert response is not None and response.status == 404
    await expect(page.locator("html")).to_have_attribute("lang", language)
    await expect(page.get_by_role("heading", level=1)).to_have_text(tr(language, "Page not found"))
    await expect(
        page.get_by_text(tr(language, "There is no page at this address."))
    ).to_be_visible()
    await expect_no_axe_violations(page)
