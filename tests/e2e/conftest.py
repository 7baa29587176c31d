"""Browser fixtures: the real app served over HTTP by uvicorn, driven by the system Chromium.

The server runs as a task in the session's event loop, against the same fresh PostgreSQL
database and Redis prefix as the rest of the suite (the `settings` fixture). The served app
is also the `app` fixture here, so `worker_burst` runs the jobs its pages queued (mail
reaches the suite's SMTP server) and tests that use it get their tables cleaned. Chromium is the
one installed by the system package manager (`make chromium`); when it is missing the tests
fail rather than skip, so a green run always means the pages were really checked.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    WebError,
    async_playwright,
)
from starlette.applications import Starlette

from service.app import create_app
from service.config import ROOT, Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SCREENSHOTS = ROOT / "screenshots"
STARTUP_TIMEOUT = 30.0
# Chromium logs every Content-Security-Policy violation to the console; the listener below
# also logs the DOM's own `securitypolicyviolation` events, which name the source line. Init
# scripts run outside the page's policy.
CSP_MARK = "Content Security Policy"
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
  "Content Security Policy violation: " + e.violatedDirective + " blocked "
  + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber), true);
"""
# What the browser reported during the current test (the autouse fixture below empties it).
csp_violations: list[str] = []


def _free_socket() -> socket.socket:
    """A listening-ready socket on a free local port, handed to uvicorn (no port race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def _wait_until_healthy(base_url: str, task: asyncio.Task[None]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT
    async with httpx.AsyncClient(base_url=base_url, timeout=2.0) as http:
        while True:
            if task.done():
                task.result()  # raises the start-up error, if any
                raise RuntimeError("the web server stopped during start-up")
            try:
                response = await http.get("/healthz")
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if loop.time() > deadline:
                raise RuntimeError(f"the web server did not answer /healthz at {base_url}")
            await asyncio.sleep(0.05)


@pytest.fixture(scope="session")
async def served_app(settings: Settings) -> AsyncIterator[tuple[Starlette, str]]:
    """The app, served by uvicorn with its real lifespan, and its address."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_healthy(url, task)
        yield app, url
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture(scope="session")
def base_url(served_app: tuple[Starlette, str]) -> str:
    """Address of the served app."""
    return served_app[1]


@pytest.fixture(scope="session")
def app(served_app: tuple[Starlette, str]) -> Starlette:
    """The served app itself (its `state.deps` are live): replaces the suite's in-process app."""
    return served_app[0]


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """The system Chromium; its absence fails the run instead of skipping the tests."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install the system Chromium (`make chromium`, or "
            "`apt-get install chromium`) to run the browser tests",
            pytrace=False,
        )
    return CHROMIUM


async def watch_csp(context: BrowserContext) -> None:
    """Record every CSP violation any page of the context reports."""

    def on_console(message: ConsoleMessage) -> None:
        if CSP_MARK in message.text:
            where = message.page.url if message.page else "?"
            csp_violations.append(f"{where}: {message.text}")

    def on_error(error: WebError) -> None:
        if CSP_MARK in str(error.error):
            csp_violations.append(str(error.error))

    context.on("console", on_console)
    context.on("weberror", on_error)
    await context.add_init_script(CSP_LISTENER)


@pytest.fixture(scope="session")
async def browser(playwright: Playwright, chromium_path: Path) -> AsyncIterator[Browser]:
    chromium = await playwright.chromium.launch(
        executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
    )
    # Tests open contexts of their own (two users at once, a phone's screen): every context
    # this browser opens is watched, not only the `context` fixture's.
    open_context = chromium.new_context

    async def new_context(*args: Any, **kwargs: Any) -> BrowserContext:
        context = await open_context(*args, **kwargs)
        await watch_csp(context)
        return context

    chromium.new_context = new_context  # type: ignore[method-assign]
    try:
        yield chromium
    finally:
        await chromium.close()


@pytest.fixture(autouse=True)
def _fail_on_csp_violations() -> Iterator[None]:
    """ASVS V3.4.3: the pages work under the Content-Security-Policy; a test whose pages broke
    it fails (at teardown, once its contexts are closed and every report has arrived)."""
    csp_violations.clear()
    yield
    found, csp_violations[:] = list(csp_violations), []
    if found:
        pytest.fail(
            "the Content-Security-Policy refused parts of a page:\n" + "\n".join(found),
            pytrace=False,
        )


@pytest.fixture
async def context(browser: Browser, base_url: str) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile (no cookies) in English, per test."""
    ctx = await browser.new_context(base_url=base_url, locale="en-US")
    try:
        yield ctx
    finally:
        await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
