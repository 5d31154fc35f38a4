"""The supervisor page in Debian's Chromium (headless, no downloaded browser).

Logs in through the form, watches an agent and a caller appear from a delta,
switches Kazakh to Russian, puts the agent on a break and checks that the
action reached the (fake) engine.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bailanys.console.server import ConsoleServer
from tests.console.helpers import PASSWORDS, FakeApi

pytestmark = pytest.mark.peer

CHROMIUM = Path("/usr/bin/chromium")


def seconds(text: str) -> int:
    minutes, _, secs = text.partition(":")
    return int(minutes) * 60 + int(secs)


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


async def test_a_supervisor_watches_switches_language_and_pauses_an_agent(
        server: ConsoleServer, api: FakeApi, page: Any) -> None:
    from playwright.async_api import expect

    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # this server has no intraday APIs (bailanys/intraday/web.py): the section's
    # probe gets 404 and the section stays hidden
    page.on("console", lambda m: problems.append(m.text) if m.type == "error"
            and "/api/console/intervals" not in m.location.get("url", "") else None)
    base = f"http://127.0.0.1:{server.port}"

    await page.goto(f"{base}/")
    assert page.url == f"{base}/login"
    await page.fill("input[name=user]", "aigerim")
    await page.fill("input[name=password]", PASSWORDS["aigerim"])
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "online")
    # the recorded prompts' page is the administrators' (tests/peers/test_prompts_page.py)
    await expect(page.locator('a[href="/prompts"]')).to_be_hidden()

    # Kazakh by default; the KPIs coloured by status; the last hour charted.
    await expect(page.locator("html")).to_have_attribute("lang", "kk")
    await expect(page.locator("h2[data-i18n=queues]")).to_have_text("Кезектер")
    kpi = page.locator("[data-kpi=fcr_pct]")
    await expect(kpi).to_have_attribute("data-status", "within")
    await expect(kpi.locator(".kpi-label")).to_have_text(
        "Бастапқы жүгінуде шешілген өтініштер (FCR)")
    for name, status in [("lost_pct", "warning"), ("wait_s", "breach"),
                         ("satisfaction_score", "no_data"), ("service_level_pct", "no_target")]:
        await expect(page.locator(f"[data-kpi={name}]")).to_have_attribute("data-status", status)
    await expect(page.locator("[data-kpi=satisfaction_score] .kpi-value")).to_have_text(
        "Дерек жоқ")
    colours = await page.eval_on_selector_all(
        ".kpi", "nodes => nodes.map(n => getComputedStyle(n).borderLeftColor)")
    assert len(set(colours)) == 5  # green, amber, red, grey, neutral
    await expect(kpi.locator(".kpi-value")).to_have_text("91,0 %")  # a decimal comma
    await expect(page.locator("[data-kpi=wait_s] .kpi-target")).to_have_text(
        "Мақсат: 40 с · шегі ≤ 60 с")
    await expect(page.locator("#chart")).to_have_attribute("data-points", "60")

    # The engine reports an agent and a waiting caller.
    api.emit({
        "agents": [{"user": "1001", "name": "Дана Серікова", "state": "available",
                    "since": time.time() - 65, "reason": "", "current_call": None}],
        "queues": [{"name": "general", "agents_available": 1, "waiting": [
            {"call_id": "c-77", "position": 1, "waited": 42.0, "language": "kk",
             "callback": False}]}],
    })
    agent = page.locator('[data-agent="1001"]')
    caller = page.locator('[data-call="c-77"]')
    await expect(agent.locator(".state")).to_have_text("Бос")
    await expect(caller).to_contain_text("қазақша")
    await expect(page.locator('[data-queue="general"] .count')).to_have_attribute(
        "data-count", "1")
    waited = await caller.locator(".live").text_content() or ""
    assert 42 <= seconds(waited) <= 50, waited
    await expect(caller.locator(".live")).not_to_have_text(waited)  # it counts up
    assert 65 <= seconds(await agent.locator(".live").text_content() or "") <= 75

    # Russian.
    await page.click('[data-lang="ru"]')
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    await expect(page.locator("h2[data-i18n=queues]")).to_have_text("Очереди")
    await expect(agent.locator(".state")).to_have_text("Свободен")
    await expect(caller).to_contain_text("казахский")
    await expect(kpi.locator(".kpi-label")).to_have_text("Решение с первого обращения")
    await expect(kpi.locator(".kpi-value")).to_have_text("91,0 %")

    # Issue 17: the disposition's topic is chosen from the classifier, named in the language.
    api.emit({"topics": [{"id": "egov", "kk": "eGov порталы", "ru": "Портал eGov"},
                         {"id": "complaint", "kk": "Шағым", "ru": "Жалоба"}]})
    options = page.locator("#topic-list option")
    await expect(options).to_have_count(2)
    await expect(options.first).to_have_attribute("value", "egov")
    await expect(options.first).to_have_attribute("label", "Портал eGov")
    await expect(page.locator("input[name=topic]")).to_have_attribute("list", "topic-list")

    # A break, with a reason, reaches the engine; its delta shows it.
    await agent.locator('[data-action="agent_pause"]').click()
    await page.select_option("#pause-reason", "lunch")
    await page.click("#pause-confirm")
    await expect(agent.locator(".state")).to_have_text("Перерыв")
    await expect(agent.locator(".reason")).to_have_text("Обед")
    await expect(page.locator("#toast")).to_have_text("Выполнено")
    [(user, action)] = api.actions
    assert user.login == "aigerim"
    assert action == {"name": "agent_pause", "agent": "1001", "reason": "lunch"}

    # The language is remembered across pages.
    await page.click("a.logout")  # the server also closes the websocket: 1008 -> /login
    await page.wait_for_url(f"{base}/login")
    await expect(page.locator("h1 [data-i18n=login_title]")).to_have_text("Вход в систему")
    assert problems == []
