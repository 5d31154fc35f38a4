"""The login page after too many wrong passwords, in Debian's Chromium (headless).

The 429 answer is the login page itself: it says, in Kazakh or Russian, how
many minutes to wait, and the button stays off until then.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bailanys.authguard import AuthGuard, Limits
from bailanys.console.server import ConsoleServer
from tests.console.helpers import FakeApi, FakeClock, users

pytestmark = pytest.mark.peer

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    if not CHROMIUM.is_file():  # noqa: ASYNC240 (one stat, before anything runs)
        pytest.skip(f"no Chromium at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield await browser.new_page()
        finally:
            await browser.close()


@pytest.fixture
async def guarded(api: FakeApi, clock: FakeClock) -> AsyncIterator[ConsoleServer]:
    guard = AuthGuard("console", Limits(source_failures=2, ban_s=120, max_ban_s=600),
                      known=users().__contains__)
    console = ConsoleServer("127.0.0.1", 0, users(), api, clock=clock, guard=guard)
    await console.start()
    try:
        yield console
    finally:
        await console.stop()


async def test_the_page_says_how_long_to_wait_in_kazakh_and_russian(
        guarded: ConsoleServer, page: Any) -> None:
    from playwright.async_api import expect

    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    base = f"http://127.0.0.1:{guarded.port}"
    await page.goto(f"{base}/login")
    for _ in range(2):
        await page.fill("input[name=user]", "aigerim")
        await page.fill("input[name=password]", "wrong")
        await page.click("button[type=submit]")
        await page.wait_for_load_state()
    blocked = page.locator("#login-blocked")
    await expect(blocked).to_be_visible()
    await expect(blocked).to_have_text(
        "Сәтсіз кіру әрекеттері тым көп. 2 минуттан кейін қайталап көріңіз.")
    await expect(page.locator("#login-error")).to_be_hidden()
    await expect(page.locator("button[type=submit]")).to_be_disabled()
    await page.click("[data-lang=ru]")
    await expect(blocked).to_have_text(
        "Слишком много неудачных попыток входа. Повторите попытку через 2 мин.")
    assert problems == []
