"""The console over HTTPS in Debian's Chromium (issue 21, native TLS): a
self-signed certificate (``openssl``; the browser told to accept it), the
login form, the session cookie ``Secure``, the live page on ``wss://``."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bailanys.console.server import ConsoleServer
from bailanys.web.tls import TlsFiles
from tests.console.helpers import PASSWORDS, FakeApi, FakeClock, users
from tests.web.test_tls import make_cert

pytestmark = [pytest.mark.peer,
              pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")]

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
async def context() -> AsyncIterator[Any]:
    if not CHROMIUM.is_file():  # noqa: ASYNC240 (one stat, before anything runs)
        pytest.skip(f"no Chromium at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield await browser.new_context(ignore_https_errors=True)
        finally:
            await browser.close()


async def test_a_supervisor_logs_in_over_https_and_the_page_goes_live_on_wss(
        context: Any, tmp_path: Path) -> None:
    from playwright.async_api import expect

    cert, key = await _cert(tmp_path)
    console = ConsoleServer("127.0.0.1", 0, users(), FakeApi(), session_ttl=3600,
                            clock=FakeClock(), tls=TlsFiles(str(cert), str(key)))
    await console.start()
    try:
        page = await context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        # this server has no intraday APIs (bailanys/intraday/web.py): the section's
        # probe gets 404 and the section stays hidden
        page.on("console", lambda m: problems.append(m.text) if m.type == "error"
                and "/api/console/intervals" not in m.location.get("url", "") else None)
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        base = f"https://127.0.0.1:{console.port}"
        await page.goto(f"{base}/")
        await page.wait_for_url(f"{base}/login")
        await page.fill("input[name=user]", "aigerim")
        await page.fill("input[name=password]", PASSWORDS["aigerim"])
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        await expect(page.locator("#conn")).to_have_attribute("data-conn", "online")
        assert sockets == [f"wss://127.0.0.1:{console.port}/ws?flow=1"]  # issue 21: flow control
        cookies = await context.cookies(base)
        assert [(c["name"], c["secure"], c["httpOnly"]) for c in cookies] == [
            ("bailanys_session", True, True)]
        assert problems == []
    finally:
        await console.stop()


async def _cert(folder: Path) -> tuple[Path, Path]:
    return await asyncio.to_thread(make_cert, folder, "console")
