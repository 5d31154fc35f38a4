"""The cluster console's engines strip in Chromium (issue 22, clusterview.js).

A fake console API sends ``engines`` and ``partial`` as ``bailanys cluster
console`` does: the strip shows each engine, the one that does not answer
in Kazakh and then Russian, and the note that the totals lack its part;
an engine's own console (no ``engines``) keeps the strip hidden.
"""

from __future__ import annotations

from typing import Any

import pytest

from bailanys.console.server import ConsoleServer
from tests.console.helpers import PASSWORDS, FakeApi
from tests.console.test_browser import page  # noqa: F401 (the Chromium page fixture)

pytestmark = pytest.mark.peer

ENGINES = [
    {"name": "10.0.0.11:8080", "url": "http://10.0.0.11:8080", "up": True, "waiting": 3,
     "error": "", "seen": 1.0},
    {"name": "10.0.0.12:8080", "url": "http://10.0.0.12:8080", "up": False, "waiting": 0,
     "error": "ConnectError", "seen": None},
]


async def test_engines_strip_shows_a_down_engine(server: ConsoleServer, api: FakeApi,
                                                  page: Any) -> None:  # noqa: F811
    from playwright.async_api import expect

    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    base = f"http://127.0.0.1:{server.port}"
    await page.goto(f"{base}/login")
    await page.fill("input[name=user]", "aigerim")
    await page.fill("input[name=password]", PASSWORDS["aigerim"])
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "online")
    strip = page.locator("#engines")
    await expect(strip).to_be_hidden()  # an engine's own console

    api.emit({"engines": ENGINES, "partial": True})
    await expect(strip).to_be_visible()
    down = strip.locator('[data-engine="10.0.0.12:8080"]')
    await expect(down).to_have_attribute("data-up", "0")
    await expect(down).to_have_text("10.0.0.12:8080: жауап бермейді")
    await expect(strip.locator('[data-engine="10.0.0.11:8080"]')).to_have_text(
        "10.0.0.11:8080: жұмыс істеп тұр · күтуде 3")
    await expect(strip.locator(".engines-partial")).to_contain_text("жалпы сандарға")
    await page.click('button[data-lang="ru"]')
    await expect(down).to_have_text("10.0.0.12:8080: не отвечает")
    await expect(strip.locator(".engines-partial")).to_contain_text("общие цифры")

    api.emit({"engines": [{**ENGINES[1], "up": True}], "partial": False})
    await expect(strip.locator('[data-engine="10.0.0.12:8080"]')).to_have_attribute("data-up", "1")
    await expect(strip.locator(".engines-partial")).to_have_count(0)
    assert problems == []
