"""Listen, whisper, barge on the supervisor page (issue 21), in Debian's Chromium.

A busy agent's row has listen / whisper / barge buttons (an idle agent's
none); a click sends ``monitor.start``, then ``monitor.mode`` and
``monitor.stop``; the ``monitors`` delta presses the current mode and
shows the ringing phone; a refusal is shown in the page's language.
The engine is a fake (its side is tests/peers/test_monitor.py).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from bailanys.console.api import ActionError
from bailanys.console.auth import ConsoleUser
from bailanys.console.server import ConsoleServer
from tests.console.helpers import PASSWORDS, FakeApi
from tests.console.test_browser import page  # noqa: F401 (the Chromium fixture)

pytestmark = pytest.mark.peer


class MonitorApi(FakeApi):
    """Agent 1001 and 1003 are on calls; 1003's supervisor phone "is not registered"."""

    async def act(self, user: ConsoleUser, action: dict[str, Any]) -> dict[str, Any]:
        self.actions.append((user, action))
        name = action["name"]
        if name == "monitor.start" and action["agent"] == "1003":
            raise ActionError("aigerim's phone 2001 is not registered", "phone_not_registered")
        mine = {"supervisor": user.login, "agent": "1001", "call_id": "c-1", "phone": "2001"}
        if name == "monitor.start":
            self.emit({"monitors": [{**mine, "mode": action["mode"], "state": "ringing"}]})
        elif name == "monitor.mode":
            self.emit({"monitors": [{**mine, "mode": action["mode"], "state": "joined"}]})
        else:
            self.emit({"monitors": []})
        return mine


@pytest.fixture
def api() -> FakeApi:
    return MonitorApi()


async def test_listen_whisper_stop_and_a_refusal(server: ConsoleServer, api: FakeApi,
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
    now = time.time()
    api.emit({"agents": [
        {"user": user, "name": "", "state": state, "since": now - 30, "reason": "",
         "current_call": call}
        for user, state, call in (("1001", "busy", "c-1"), ("1002", "available", None),
                                  ("1003", "busy", "c-3"))]})
    busy, idle = page.locator('[data-agent="1001"]'), page.locator('[data-agent="1002"]')
    await expect(busy.locator("[data-monitor]")).to_have_count(3)
    await expect(idle.locator("[data-monitor]")).to_have_count(0)
    listen = busy.locator('[data-monitor="listen"]')
    await expect(listen).to_have_text("Тыңдау")
    await expect(busy.locator('[data-monitor="whisper"]')).to_have_attribute(
        "title", "Сізді тек оператор естиді, абонент естімейді")

    await listen.click()
    await expect(listen).to_have_attribute("aria-pressed", "true")
    await expect(busy.locator(".monitor-ringing")).to_have_text(
        "Телефоныңыз шырылдап тұр, тұтқаны көтеріңіз")
    await busy.locator('[data-monitor="whisper"]').click()
    await expect(busy.locator('[data-monitor="whisper"]')).to_have_attribute("aria-pressed",
                                                                             "true")
    await expect(busy.locator(".monitor-ringing")).to_have_count(0)
    await busy.locator('[data-monitor="stop"]').click()
    await expect(busy.locator('[data-monitor="stop"]')).to_have_count(0)

    await page.click('[data-lang="ru"]')
    await page.locator('[data-agent="1003"] [data-monitor="barge"]').click()
    await expect(page.locator("#toast")).to_contain_text("Ваш телефон не зарегистрирован")
    sent = [a for _, a in api.actions]
    assert sent == [
        {"name": "monitor.start", "agent": "1001", "call_id": None, "mode": "listen"},
        {"name": "monitor.mode", "mode": "whisper"},
        {"name": "monitor.stop"},
        {"name": "monitor.start", "agent": "1003", "call_id": None, "mode": "barge"},
    ]
    assert problems == []
