"""Every page a browser test visits is checked with axe-core and kept as a screenshot."""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

AXE = Axe()


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
