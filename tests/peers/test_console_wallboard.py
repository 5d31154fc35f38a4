"""The supervisors' wallboard (issue 21) on the real engine, in Debian's Chromium.

A real SIPp caller (From ``+77015550123``) enters a queue with no operator
logged in. The wallboard shows the queue under its Kazakh display name; the
TV mode (/tv) shows it in large type without controls and rotates the
queues; the waiting caller appears with the masked number and the
language, not the call id, and no panel overflows at 1366x768 or
1920x1080. When the caller's wait crosses the file's 1 s alarm threshold,
the queue's row and headline turn alarm-coloured, the "wait after menu"
tile turns red beside its (still empty) KPI, a beep is counted, the title
blinks and the TV shows the alarm too. The caller times out of the queue
(``max_wait_s``): the alarm ends.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bailanys.console.auth import hash_password
from tests.peers.conftest import EngineFactory, events_of, needs_sipp
from tests.peers.sipp import make_ulaw_wav, run_sipp_async

pytestmark = [pytest.mark.peer, needs_sipp]

CHROMIUM = Path("/usr/bin/chromium")
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
PASSWORD = "pw-supervisor"
NUMBER = "+77015550123"
FLOW = """
flow: wallboard-test
numbers: ["1418"]
languages: [kk, ru]
start: lang
nodes:
  lang:
    type: set_language
    language: kk
    next: queue
  queue:
    type: queue
    queue: support
    fallback: bye
  bye:
    type: hangup
"""
# Nobody logged in (1001's phone never registers): the caller waits.
QUEUES = """
[thresholds]
longest_wait_s = [0.5, 1]

[queues.support]
names = { kk = "Қолдау қызметі", ru = "Служба поддержки" }
skills = ["support"]
max_wait_s = 6
thresholds = { waiting = [1, 5] }

[queues.other]
names = { kk = "Басқа кезек", ru = "Другая очередь" }

[agents.1001]
name = "Айгерим"
skills = { kk = 10, ru = 10, support = 5 }
"""
SIZES = [(1366, 768), (1920, 1080)]
OVERFLOW_JS = "nodes => nodes.map(n => [n.id || n.className, n.scrollWidth, n.clientWidth])"


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.is_file():  # noqa: ASYNC240 (one stat)
        pytest.skip(f"no Chromium at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


async def _no_overflow(page: Any) -> None:
    for selector in ("#board-panel", ".panel.queues", "table.callers", ".panel.queues .queue"):
        for name, scroll, client in await page.eval_on_selector_all(selector, OVERFLOW_JS):
            assert scroll <= client, (page.viewport_size, selector, name, scroll, client)


async def _title_when(page: Any, alarm: bool, within_s: float = 3.0) -> str:
    """The page's title once it does (or does not) start with the alarm sign
    (polled: the pages' CSP forbids wait_for_function's eval)."""
    for _ in range(int(within_s / 0.05)):
        title = str(await page.title())
        if title.startswith("⚠") == alarm:
            return title
        await asyncio.sleep(0.05)
    raise AssertionError(f"title {title!r} after {within_s} s")


async def test_a_waiting_sipp_caller_raises_the_wallboards_alarm(
    engine_factory: EngineFactory, tmp_path: Path, browser: Any
) -> None:
    from playwright.async_api import expect

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "wallboard.yaml").write_text(FLOW, encoding="utf-8")
    (tmp_path / "queues.toml").write_text(QUEUES, encoding="utf-8")
    port = _free_tcp_port()
    eng = await engine_factory(
        ivr={"flow_dir": str(flows)}, queue={"file": str(tmp_path / "queues.toml")},
        engine={"numbers": ()},
        console={"listen": f"127.0.0.1:{port}",
                 "users": {"sup": "supervisor:" + hash_password(PASSWORD)}})
    # The silent caller of ivr_silent.xml, calling from a real number.
    scenario = tmp_path / "wallboard_caller.xml"
    scenario.write_text((SCENARIOS / "ivr_silent.xml").read_text("iso-8859-1").replace(
        "From: sipp <sip:sipp@", f"From: sipp <sip:{NUMBER}@"), "iso-8859-1")
    sipp_dir = tmp_path / "sipp"
    make_ulaw_wav(sipp_dir / "bailanys_silence.wav", 1.0, 0.0)

    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    base = f"http://127.0.0.1:{port}"
    await page.goto(f"{base}/")
    await page.fill("input[name=user]", "sup")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")

    # Every configured queue has a row under its display name, before any caller.
    row = page.locator('tr[data-board="queue:support"]')
    await expect(row.locator("th")).to_have_text("Қолдау қызметі")
    await expect(row).to_have_attribute("data-level", "ok")
    await expect(page.locator('[data-hl="queue:other"] .hl-name')).to_have_text("Басқа кезек")
    await expect(page.locator('[data-queue="support"] .queue-name')).to_contain_text(
        "Қолдау қызметі")

    # The TV mode (before the caller, on a wall's screen): large type, no
    # controls, the queues in turn.
    tv = await context.new_page()
    await tv.set_viewport_size({"width": 1920, "height": 1080})
    await tv.goto(f"{base}/tv?rotate=1&lang=ru")
    await expect(tv.locator("body")).to_have_class("tv")
    await expect(tv.locator('[data-hl="queue:other"] .hl-name')).to_have_text("Другая очередь")
    for hidden in (".bar .langs", "#mute", ".logout", ".panel.disposition"):
        await expect(tv.locator(hidden)).to_be_hidden()
    size = await tv.locator('[data-hl="total"] .hl-value').first.evaluate(
        "n => parseFloat(getComputedStyle(n).fontSize)")
    assert size >= 80  # 5rem of 22 px: readable across a room
    seen = set()
    for _ in range(30):
        seen.add(await tv.locator("body").get_attribute("data-tv-queue"))
        if seen >= {"support", "other"}:
            break
        await asyncio.sleep(0.1)
    assert seen >= {"support", "other"}
    await _no_overflow(tv)

    caller = asyncio.create_task(run_sipp_async(
        scenario, eng.target, cwd=sipp_dir, timeout_s=30, service="1418"))
    try:
        # The waiting caller: masked number and language, no call id shown.
        waiting = page.locator('[data-queue="support"] tr[data-call]')
        await expect(waiting).to_have_count(1, timeout=20000)  # generous: a loaded CI host
        await expect(waiting.locator("td.call")).to_have_text("*******0123")
        await expect(waiting.locator("td").nth(3)).to_have_text("қазақша")
        call_id = await waiting.get_attribute("data-call")
        assert call_id and call_id not in await page.locator("main").inner_text()
        for width, height in SIZES:
            await page.set_viewport_size({"width": width, "height": height})
            await _no_overflow(page)

        # Over 1 s: the alarm. Row, headline, the KPI 1 tile, a beep, the title blinking.
        await expect(row).to_have_attribute("data-level", "alarm", timeout=5000)
        await expect(row.locator('[data-fig="longest_wait_s"]')).to_have_attribute(
            "data-level", "alarm")
        await expect(row.locator('[data-fig="waiting"]')).to_have_attribute("data-level", "warn")
        await expect(page.locator('[data-hl="queue:support"]')).to_have_attribute(
            "data-level", "alarm")
        colour = await row.evaluate("n => getComputedStyle(n).backgroundColor")
        assert colour == "rgb(253, 231, 230)"  # --alarm-bg
        tile = page.locator("[data-kpi=wait_s]")
        await expect(tile).to_have_attribute("data-status", "breach")
        await expect(tile.locator(".kpi-value")).to_have_text("Дерек жоқ")  # no ended wait yet
        await expect(tile.locator("[data-kpi-now=wait_s]")).to_have_attribute(
            "data-level", "alarm")
        await expect(page.locator("body")).to_have_attribute("data-alert", "alarm")
        await expect(page.locator("body")).to_have_attribute("data-beeps", "1")
        await expect(tv.locator('[data-hl="queue:support"]')).to_have_attribute(
            "data-level", "alarm")
        for _ in range(3):  # in alarm, on the TV whatever the turn
            await expect(tv.locator('[data-hl="queue:support"]')).to_be_visible(timeout=100)
            await asyncio.sleep(0.4)
        titles = {(await _title_when(page, True)).startswith("⚠"),
                  (await _title_when(page, False)).startswith("⚠")}
        assert titles == {True, False}  # blinking
        await page.click("#mute")
        await expect(page.locator("#mute")).to_have_attribute("aria-pressed", "true")
        await page.click("[data-lang=ru]")
        await expect(row.locator("th")).to_have_text("Служба поддержки")

        # max_wait_s: the caller leaves the queue; the alarm ends.
        await expect(waiting).to_have_count(0, timeout=10000)
        await expect(row).to_have_attribute("data-level", "ok", timeout=3000)
        await expect(page.locator("body")).to_have_attribute("data-alert", "")
    finally:
        caller.cancel()  # the busy announcement and the BYE are not this test's matter
    timeouts = await events_of(eng, "queue.timeout")
    assert [(e.call_id, e.data["queue"]) for e in timeouts] == [(call_id, "support")]
    assert not problems
