"""Issue 19 end to end, every peer real: a SIPp caller reaches a pyVoIP
operator; the operator's desktop (Chromium, Playwright) shows the screen
pop with the caller's IVR path and registers a request from the call; the
creation SMS goes through Kannel to its fakesmsc; a status update through
the token API sends the second SMS; then the citizen calls again from the
same number (a pyVoIP caller keying in-band tones), picks "my open
requests" in the 1414 menu, keys the IIN and the code the third SMS
brought, and the voice robot reads that request back.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bailanys.config import PROJECT_ROOT
from bailanys.store.events import Event
from bailanys.web.auth import hash_password
from tests.console.helpers import raw_http
from tests.peers.conftest import (
    EngineFactory,
    EngineUnderTest,
    events_of,
    free_sip_port,
    needs_sipp,
    sipp,
)
from tests.peers.test_case_sms import joined
from tests.peers.test_ivr_1414 import SHORTENED
from tests.peers.test_kannel import PASSWORD as KANNEL_PASSWORD
from tests.peers.test_kannel import KannelRig

pytestmark = [pytest.mark.peer, needs_sipp]

AGENT, AGENT_PW = "1001", "Jumys-1414"
CITIZEN = "87011234567"  # desk_1414.xml's From; the second call registers as it
IIN = "850315401013"
UDH = "\x05\x00\x03"  # a part of a concatenated SMS, as fakesmsc's line reads
TOKEN = "egov-appeals-0123456789abcdef"
MORNING = datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Asia/Almaty"))  # a Monday
QUEUES = """
[queues.general]
ring_timeout_s = 10
wrap_up_s = 120
[queues.consultation]
[queues.egov]
[queues.complaints]

[agents.1001]
name = "Айгерим"
skills = { kk = 10, ru = 10 }
"""


async def _until(check: Callable[[], bool], within_s: float,
                 what: str | Callable[[], str]) -> None:
    for _ in range(int(within_s / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {within_s} s: {what if isinstance(what, str) else what()}")


def _of(eng: EngineUnderTest, call_id: str, type_: str) -> list[Event]:
    return [e for e in eng.appended if e.call_id == call_id and e.type == type_]


async def _api_status(port: int, number: str, status: str) -> int:
    body = json.dumps({"status": status, "note": "передано в акимат"}).encode()
    reply = await raw_http(port, f"POST /api/ext/cases/{number}/status HTTP/1.1\r\n"
                           f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {TOKEN}\r\n"
                           "Content-Type: application/json\r\n"
                           f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                           .encode() + body)
    return reply.status


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_a_request_from_the_desktop_is_texted_updated_and_read_back_by_the_robot(
        engine_factory: EngineFactory, tmp_path: Path, page: Any) -> None:
    from playwright.async_api import expect

    pytest.importorskip("pyVoIP")
    from tests.peers.softphone import PyVoipAgent
    from tests.peers.test_queue_calls import _press

    rig = KannelRig(tmp_path / "kannel")
    rig.dir.mkdir()
    await rig.start()
    flows = tmp_path / "flows"
    flows.mkdir()
    greeting = SHORTENED[0]  # the greeting cut to a word: the second call waits it out
    text = (PROJECT_ROOT / "ivr_flows" / "1414.yaml").read_text(encoding="utf-8")
    assert greeting in text
    (flows / "1414.yaml").write_text(
        text.replace(greeting, "      kk: Сәлеметсіз бе.\n      ru: Здравствуйте.\n"),
        encoding="utf-8")
    (tmp_path / "queues.toml").write_text(QUEUES, encoding="utf-8")
    (tmp_path / "tokens").write_text(f"egov {TOKEN}\n", encoding="utf-8")
    port = free_sip_port()  # free for TCP: the console's
    phone: PyVoipAgent | None = None
    citizen: PyVoipAgent | None = None
    caller: asyncio.Task[Any] | None = None
    try:
        eng = await engine_factory(
            ivr={"flow_dir": str(flows)}, queue={"file": str(tmp_path / "queues.toml")},
            engine={"numbers": ()}, sip_users={CITIZEN: "pw-citizen"},
            robot={"kannel": f"127.0.0.1:{rig.sendsms}", "kannel_password": KANNEL_PASSWORD},
            cases={"api_tokens": str(tmp_path / "tokens")},
            console={"listen": f"127.0.0.1:{port}",
                     "users": {AGENT: f"operator:{hash_password(AGENT_PW, n=2**10)}"}})
        eng.ivr.clock = lambda: MORNING
        phone = PyVoipAgent("127.0.0.1", eng.transport.port, AGENT, "pw1001", free_sip_port(),
                            57900, 58199, talk_s=1.0)
        await asyncio.to_thread(phone.start)
        base = f"http://127.0.0.1:{port}"

        # 1. The call, the screen pop, the request from the desktop (SMS 1).
        await page.goto(f"{base}/")
        await page.fill("input[name=user]", AGENT)
        await page.fill("input[name=password]", AGENT_PW)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/desk")
        await expect(page.locator("#agent-state")).to_have_attribute("data-state", "available")
        caller = asyncio.create_task(sipp(eng, "desk_1414.xml", tmp_path / "sipp", timeout_s=40))
        await expect(page.locator("#pop-caller")).to_have_text("*******4567", timeout=15000)
        await expect(page.locator("#pop-ivr li[data-kind=input]")).to_have_count(2)
        await expect(page.locator("#call-phase")).to_have_attribute("data-phase", "ended",
                                                                    timeout=15000)
        res = await caller
        caller = None
        assert res.ok, res.describe()
        await page.fill("#topic-filter", "зейнет")
        await page.select_option("#topic", "pension")
        await page.fill("#case-form textarea[name=description]", "Зейнетақы есептелмеген")
        await page.fill("#case-form input[name=iin]", IIN)
        await page.click("#case-form button[type=submit]")
        result = page.locator("#case-result")
        await expect(result).to_have_attribute("data-number", re.compile(r"^\d{4}-\d{6}$"),
                                               timeout=10000)
        number = await result.get_attribute("data-number")
        assert number is not None
        await page.fill("#disposition textarea[name=notes]", "Өтініш тіркелді")
        await page.click("#save-disposition")
        await page.click("#act-ready")
        await expect(page.locator("#agent-state")).to_have_attribute("data-state", "available")
        await _until(lambda: len(rig.received) >= 1, 20, "the creation SMS at fakesmsc")
        await asyncio.sleep(1.0)  # a long text arrives in parts (concatenated SMS)
        created_parts = len(rig.received)

        # 2. The appeals system moves it on through the token API (SMS 2).
        assert await _api_status(port, number, "in_progress") == 200
        await _until(lambda: len(rig.received) > created_parts, 20,
                     "the status SMS at fakesmsc")
        await asyncio.sleep(1.0)
        before_code = len(rig.received)
        assert all(to == "77011234567" for _, to, _ in rig.received)

        # 3. The citizen calls again: 2 (Russian), 7 (my requests), the IIN, the code (SMS 3).
        citizen = PyVoipAgent("127.0.0.1", eng.transport.port, CITIZEN, "pw-citizen",
                              free_sip_port(), 58200, 58499, tone_hz=None)
        await asyncio.to_thread(citizen.start)
        first = {e.call_id for e in eng.appended if e.type == "call.offered"}
        call = await asyncio.to_thread(citizen.phone.call, "1414")
        await _until(lambda: any(e.type == "call.offered" and e.call_id not in first
                                 for e in eng.appended), 10, "the second call offered")
        second = next(e.call_id for e in eng.appended
                      if e.type == "call.offered" and e.call_id not in first)

        def at(node: str) -> bool:
            return any(e.data.get("node") == node for e in _of(eng, second, "ivr.node"))

        await _until(lambda: at("language"), 20, "the language menu")
        await asyncio.to_thread(_press, call, "2")
        await _until(lambda: at("main_menu"), 20, "the main menu")
        await asyncio.to_thread(_press, call, "7")
        await _until(lambda: at("requests_robot"), 20, "my open requests")
        for digit in IIN:
            await asyncio.to_thread(_press, call, digit)
        await _until(lambda: len(rig.received) > before_code, 30, "the code SMS at fakesmsc")
        ((_, to, text),) = rig.received[before_code:]
        code = re.search(r"\b(\d{6})\b", text)
        assert to == "77011234567" and code is not None, text
        for digit in code.group(1):
            await asyncio.to_thread(_press, call, digit)

        def steps() -> list[tuple[str, str]]:
            return [(e.data["step"], e.data["outcome"])
                    for e in _of(eng, second, "robot.service")]

        await _until(lambda: ("backend", "found") in steps(), 30,
                     lambda: f"the request read back: {steps()}, events "
                     f"{[(e.type, e.data) for e in eng.appended if e.call_id == second][-12:]}")
        await asyncio.to_thread(call.hangup)
    finally:
        if caller is not None:
            caller.cancel()
        for p in (phone, citizen):
            if p is not None:
                await asyncio.to_thread(p.stop, deregister=False)
        await rig.stop()
    received = list(rig.received)

    assert ("code", "ok") in steps()
    sent = received[:before_code]  # the creation and the status SMS (a long one in parts)
    told = joined([r for r in sent if r[2].startswith(UDH)]) + [
        r[2] for r in sent if not r[2].startswith(UDH)]
    assert len(told) == 2 and all(number in text for text in told), told
    (created,) = await events_of(eng, "case.created")
    assert created.data["number"] == number
    changed = [e.data["new"] for e in await events_of(eng, "case.status")]
    assert "in_progress" in changed
    (disposition,) = await events_of(eng, "call.disposition")
    assert (disposition.data["outcome"], disposition.data["case"]) == ("request_created", number)
    assert all(IIN not in json.dumps(e.data, ensure_ascii=False) for e in eng.appended)
