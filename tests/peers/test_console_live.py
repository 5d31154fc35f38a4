"""The supervisor page on the real engine, in Debian's Chromium (Playwright, headless).

A supervisor logs in and sees the agent whose pyVoIP phone registered;
puts it on a break; a SIPp call enters the queue and appears as a waiting
caller; the supervisor ends the break from the page, the engine rings the
agent, the agent answers, and the KPIs change (the average speed of answer
gets its first sample). Then the KPIs survive an engine restart.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bailanys.console.auth import hash_password
from tests.peers.conftest import (
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

CHROMIUM = Path("/usr/bin/chromium")


async def _promtool_check(url: str) -> None:
    """``promtool check metrics`` on the page at ``url`` (Debian package
    prometheus, scripts/ensure-deps.sh): exit 0, no problem reported."""
    promtool = shutil.which("promtool")
    if promtool is None:
        return  # tests/metrics/test_prometheus.py reports the missing tool
    page = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read())
    assert b"bailanys_kpi_counted_total" in page
    proc = await asyncio.create_subprocess_exec(
        promtool, "check", "metrics", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(page), 30)
    assert (proc.returncode, out) == (0, b"")
PASSWORD = "pw-supervisor"
FLOW = """
flow: console-test
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
announce_interval_s = 10
ring_timeout_s = 10
wrap_up_s = 1

[agents.1001]
name = "Айгерим"
skills = { kk = 10, ru = 10, support = 5 }
"""


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    if not CHROMIUM.is_file():  # noqa: ASYNC240 (one stat)
        pytest.skip(f"no Chromium at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield await browser.new_page()
        finally:
            await browser.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_supervisor_sees_the_queue_live_and_ends_a_break(
    engine_factory: EngineFactory, tmp_path: Path, page: Any
) -> None:
    from playwright.async_api import expect

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "console.yaml").write_text(FLOW, encoding="utf-8")
    (tmp_path / "queues.toml").write_text(QUEUES, encoding="utf-8")
    port = _free_tcp_port()
    settings: dict[str, Any] = {
        "ivr": {"flow_dir": str(flows)},
        "queue": {"file": str(tmp_path / "queues.toml")},
        "engine": {"numbers": ()},
        "console": {"listen": f"127.0.0.1:{port}",
                    "users": {"sup": "supervisor:" + hash_password(PASSWORD)}},
    }
    eng = await engine_factory(**settings)
    agent = PyVoipAgent("127.0.0.1", eng.transport.port, "1001", "pw1001", free_sip_port(),
                        57000, 57299, talk_s=3.0, answer_after_s=0.0)
    await asyncio.to_thread(agent.start)
    sipp_dir = tmp_path / "sipp"
    make_ulaw_wav(sipp_dir / "bailanys_silence.wav", 1.0, 0.0)
    caller: asyncio.Task[Any] | None = None
    try:
        assert agent.registered
        base = f"http://127.0.0.1:{port}"
        await page.goto(f"{base}/")
        await page.fill("input[name=user]", "sup")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        row = page.locator('tr[data-agent="1001"]')
        await expect(row).to_have_attribute("data-state", "available")
        asa = page.locator("[data-kpi=asa_s]")
        await expect(asa).to_have_attribute("data-status", "no_data")

        # A break, from the page.
        await row.locator('[data-action="agent_pause"]').click()
        await page.select_option("#pause-reason", "lunch")
        await page.click("#pause-confirm")
        await expect(row).to_have_attribute("data-state", "break")

        # A SIPp call enters the queue: a waiting caller appears.
        caller = asyncio.create_task(
            sipp(eng, "ivr_silent.xml", sipp_dir, timeout_s=60, service="1418"))
        await expect(page.locator('[data-queue="support"] [data-call]')).to_have_count(
            1, timeout=15000)

        # The break ends from the page: the agent is rung, answers; the KPIs change.
        await row.locator('[data-action="agent_unpause"]').click()
        await expect(row).to_have_attribute("data-state", "on_call", timeout=15000)
        await expect(asa).not_to_have_attribute("data-status", "no_data", timeout=5000)
        await expect(page.locator('[data-queue="support"] [data-call]')).to_have_count(0)
        res = await caller
        caller = None
        assert res.ok, res.describe()
        assert await wait_until_idle(eng)
        # /metrics of the engine after a real call: promtool finds nothing to say
        await _promtool_check(f"{base}/metrics")
    finally:
        if caller is not None:
            caller.cancel()
        await asyncio.to_thread(agent.stop, deregister=False)

    events = await events_of(eng)
    actions = [(e.data["user"], e.data["action"]) for e in events if e.type == "console.action"]
    assert actions == [("sup", "agent_pause"), ("sup", "agent_unpause")]
    assert [e.data["agent"] for e in events if e.type == "call.connected"] == ["1001"]
    # Restart: a new engine on the same store replays today's events.
    for _ in range(50):  # the agent's wrap-up (1 s) ends before the stop
        if eng.queues.core is not None and eng.queues.core.agent("1001").state == "available":
            break
        await asyncio.sleep(0.1)
    await eng.stop()
    before = eng.console.snapshot()["kpis"]
    assert before["asa_s"]["samples"] == 1
    again = await engine_factory(**{**settings, "console": {"listen": ""}},
                                 store_path=eng.config.store.path)
    assert again.console.snapshot()["kpis"] == before
