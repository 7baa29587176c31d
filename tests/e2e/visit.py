"""Every page a browser test visits is checked with axe-core and kept as a screenshot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page

AXE = Axe()
PHONE = {"width": 390, "height": 844}


@asynccontextmanager
async def browsing(browser: Browser, base_url: str) -> AsyncIterator[Page]:
    """A page of a fresh browser context of its own (English, 10 s timeouts)."""
    context = await browser.new_context(base_url=base_url, locale="en-US")
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


class Visit:
    """Checks the pages it is shown with axe-core and keeps a numbered screenshot of each."""

    def __init__(self, folder: Path, prefix: str) -> None:
        self.folder = folder
        self.prefix = prefix
        self.count = 0

    async def check(self, page: Page, name: str, *, axe: bool = True) -> None:
        self.count += 1
        shot = self.folder / f"{self.prefix}-{self.count:02d}-{name}.png"
        await page.screenshot(path=shot, full_page=True)
        assert shot.stat().st_size > 0
        if axe:
            results = await AXE.run(page)
            assert results.violations_count == 0, (
                f"axe on {name} ({page.url}):\n{results.generate_report()}"
            )

    async def fits_phone(self, page: Page, name: str) -> None:
        """The page read on a 390 px phone: photographed, and no sideways scrolling."""
        size = page.viewport_size
        await page.set_viewport_size(PHONE)
        try:
            shot = self.folder / f"{self.prefix}-phone-{name}.png"
            await page.screenshot(path=shot, full_page=True)
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px on a phone"
        finally:
            if size is not None:
                await page.set_viewport_size(size)
