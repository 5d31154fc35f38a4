"""The supervisors' intraday section and agent drill-down on the real engine,
in Debian's Chromium (Playwright, headless).

Last week's same weekday is seeded through the engine's own event writer
(``EventLog.emit_at`` on the store the engine then opens): an answered and a
lost call at this time of day. Today, a pyVoIP phone registers as agent
1001 and answers a real SIPp caller (From 87011234567) from the queue. The
supervisor's page draws today's intervals beside last week's (per queue and
for all), the click on the agent's row opens the drill-down (the call with
its masked number, AHT, occupancy, login), and both CSVs download as
UTF-8 with a BOM in the page's language: the intervals with the call in its
quarter-hour and last week's two, the agents' statistics without a number.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from bailanys.events import CallCompleted, CallConnected, QueueAbandoned, QueueJoined
from bailanys.store import Store
from bailanys.timezone import ALMATY
from bailanys.web.auth import hash_password
from tests.peers.conftest import (
    SCENARIOS,
    EngineFactory,
    events_of,
    free_sip_port,
    needs_sipp,
    sipp,
    wait_until_idle,
)
from tests.peers.sipp import make_ulaw_wav

pytest.importorskip("pyVoIP")
from tests.peers.softphone import PyVoipAgent  # noqa: E402

pytestmark = [pytest.mark.peer, needs_sipp]

PASSWORD = "pw-supervisor"
CALLER = "87011234567"
FLOW = """
flow: intraday-test
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
QUEUES = """
[queues.support]
skills = ["support"]
names = { kk = "Қолдау қызметі", ru = "Служба поддержки" }
announce_interval_s = 10
ring_timeout_s = 10
wrap_up_s = 1

[queues.pension]
skills = ["pension"]

[agents.1001]
name = "Айгерим"
skills = { kk = 10, ru = 10, support = 5 }
"""


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _seed_last_week(path: Path, now: float) -> None:
    """An answered and a lost call a week ago, through the engine's event writer."""
    then = now - 7 * 86400
    store = await Store.open(str(path))
    try:
        log = store.events
        log.emit_at(then - 60, QueueJoined(call_id="w1", queue="support", position=1,
                                          skills=(), language="ru", priority=0))
        log.emit_at(then - 50, CallConnected(call_id="w1", queue="support", agent="1009",
                                             waited=10.0, orig_position=1))
        log.emit_at(then - 20, CallCompleted(call_id="w1", queue="support", agent="1009",
                                             waited=10.0, talk=30.0, by="caller",
                                             orig_position=1))
        log.emit_at(then - 40, QueueJoined(call_id="w2", queue="support", position=1,
                                          skills=(), language="kk", priority=0))
        log.emit_at(then - 10, QueueAbandoned(call_id="w2", queue="support", position=1,
                                              orig_position=1, waited=30.0, short=False,
                                              cause="caller"))
        await log.flush()
    finally:
        await store.close()


def _table(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_intraday_charts_drill_down_and_csv_after_a_real_call(
    engine_factory: EngineFactory, tmp_path: Path, browser: Any
) -> None:
    from playwright.async_api import expect

    now = time.time()
    today = dt.datetime.fromtimestamp(now, ALMATY).date()
    week_ago = today - dt.timedelta(days=7)
    store_path = tmp_path / "intraday.db"
    await _seed_last_week(store_path, now)
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "intraday.yaml").write_text(FLOW, encoding="utf-8")
    (tmp_path / "queues.toml").write_text(QUEUES, encoding="utf-8")
    port = _free_tcp_port()
    eng = await engine_factory(
        ivr={"flow_dir": str(flows)}, queue={"file": str(tmp_path / "queues.toml")},
        engine={"numbers": ()}, store_path=str(store_path),
        console={"listen": f"127.0.0.1:{port}",
                 "users": {"sup": "supervisor:" + hash_password(PASSWORD)}})
    agent = PyVoipAgent("127.0.0.1", eng.transport.port, "1001", "pw1001", free_sip_port(),
                        64600, 64899, talk_s=1.0)
    await asyncio.to_thread(agent.start)
    sipp_dir = tmp_path / "sipp"
    make_ulaw_wav(sipp_dir / "bailanys_silence.wav", 1.0, 0.0)
    scenario = sipp_dir / "caller.xml"
    scenario.write_text((SCENARIOS / "ivr_silent.xml").read_text().replace(
        "<sip:sipp@", f"<sip:{CALLER}@"), encoding="utf-8")
    page = await browser.new_page(viewport={"width": 1366, "height": 768},
                                  accept_downloads=True)
    try:
        assert agent.registered
        await asyncio.sleep(1.1)  # pyVoIP's SIP loop starts a second after start()
        res = await sipp(eng, str(scenario), sipp_dir, timeout_s=40, service="1418")
        assert res.ok, res.describe()
        assert await wait_until_idle(eng)
    finally:
        await asyncio.to_thread(agent.stop, deregister=False)
    await eng.events.flush()
    connected = [e for e in await events_of(eng, "call.connected")
                 if e.ts > now - 3600]
    assert [e.data["agent"] for e in connected] == ["1001"]

    base = f"http://127.0.0.1:{port}"
    await page.goto(f"{base}/")
    await page.fill("input[name=user]", "sup")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")
    section = page.locator("#intraday")
    await expect(section).to_be_visible()
    calls = section.locator("[data-chart=calls]")
    # today: the real call offered and answered; last week: one answered, one lost
    await expect(calls.locator('[data-series=answered][data-before="0"]')).to_have_attribute(
        "data-total", "1")
    await expect(calls.locator('[data-series=offered][data-before="1"]')).to_have_attribute(
        "data-total", "2")
    totals = section.locator(".ix-totals")
    await expect(totals).to_have_attribute("data-offered", "1")
    await expect(totals).to_have_attribute("data-lost", "0")
    await expect(section.locator("[data-chart=agents] [data-series=agents_logged_in]")
                 .first).not_to_have_attribute("data-total", "0")
    # one queue, then another: the chart follows the choice; a queue by its display name
    await expect(section.locator('.ix-controls select.ix-queue option[value="support"]')
                 ).to_have_text("Қолдау қызметі")
    await section.locator(".ix-controls select.ix-queue").select_option("pension")
    await expect(calls.locator('[data-series=answered][data-before="0"]')).to_have_attribute(
        "data-total", "0")
    logged = section.locator('[data-chart=agents] [data-series=agents_logged_in][data-before="0"]')
    await expect(logged).to_have_attribute("data-total", "0")  # 1001 lacks its skill
    await section.locator(".ix-controls select.ix-queue").select_option("support")
    await expect(logged).not_to_have_attribute("data-total", "0")
    await expect(calls.locator('[data-series=answered][data-before="0"]')).to_have_attribute(
        "data-total", "1")

    # the drill-down: a click on the agent's row
    await page.locator('#agents tr[data-agent="1001"] td').first.click()
    dialog = page.locator("#ix-agent")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator(".ix-agent-name")).to_have_text("Айгерим (1001)")
    rows = dialog.locator(".ix-calls tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("*******4567")
    await expect(rows.first).to_contain_text("Қолдау қызметі")  # the queue by its display name
    await expect(dialog.locator("[data-fig=handled] strong")).to_have_text("1")
    await expect(dialog.locator("[data-fig=aht] strong")).to_have_text(re.compile(r"^0:0\d$"))
    await expect(dialog.locator("[data-fig=occupancy] strong")).to_have_text(re.compile(r"%$"))
    await expect(dialog.locator("[data-fig=login] strong")).to_have_text(
        re.compile(r"^\d\d:\d\d$"))
    assert CALLER[1:] not in await dialog.inner_text()
    await dialog.locator(".ix-agent-close").click()

    # the exports of last week to today, in the page's language (Kazakh)
    form = section.locator(".ix-export")
    await form.locator(".ix-from").fill(week_ago.isoformat())
    async with page.expect_download() as info:
        await form.locator(".ix-csv-intervals").click()
    download = await info.value
    assert download.suggested_filename == f"intervals_{week_ago}_{today}.csv"
    table = _table(await asyncio.to_thread(Path(await download.path()).read_bytes))
    assert table[0][:4] == ["Күні", "Аралық", "Кезек", "Түскен"]
    counted = {(r[0], int(r[3]), int(r[4]), int(r[5])) for r in table[1:] if r[3:6] != ["0"] * 3}
    assert (today.isoformat(), 1, 1, 0) in counted
    assert sum(o for d, o, _, _ in counted if d == week_ago.isoformat()) == 2
    # a period that ends before it starts: said, and no link to follow
    await form.locator(".ix-to").fill((week_ago - dt.timedelta(days=1)).isoformat())
    await expect(form.locator(".ix-export-status")).to_have_text(
        "Кезеңнің соңы басынан ерте")
    await expect(form.locator(".ix-csv-agents")).not_to_have_attribute("href", re.compile("."))
    await form.locator(".ix-to").fill(today.isoformat())
    # in Russian: the section's texts and the file's headers
    await page.click("[data-lang=ru]")
    await expect(section.locator("[data-chart=calls]").locator("..").locator("figcaption")
                 ).to_have_text("Звонки")
    async with page.expect_download() as info:
        await form.locator(".ix-csv-agents").click()
    data = await asyncio.to_thread(Path(await (await info.value).path()).read_bytes)
    assert _table(data)[0][:2] == ["Оператор", "Имя"]
    agents = {r[0]: r for r in _table(data)[1:]}
    assert agents["1001"][1] == "Айгерим" and agents["1001"][5:7] == ["1", "1"]
    assert agents["1009"][5:7] == ["1", "1"]
    assert b"4567" not in data
