"""Transfers with real peers (issue 19): SIPp callers, a SIPp operator's phone
that transfers by REFER (RFC 3515), pyVoIP agents, a SIPp second-line number.

The flow sends every call to the queue ``support`` (agent 1001 only); the
queue ``second`` is agent 1002's; ``[transfers]`` names the queue and a
second-line number (a SIPp UAS on a fixed port).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bailanys.engine.transfers import Transfers
from bailanys.store.events import Event
from bailanys.transfers.settings import TransfersConfig
from tests.peers.conftest import (
    USERS,
    EngineFactory,
    EngineUnderTest,
    events_of,
    free_sip_port,
    needs_sipp,
    session_watch,
    sipp,
    wait_until_idle,
)
from tests.peers.sipp import make_ulaw_wav
from tests.peers.test_queue_calls import _rtp, _start, _wait_event

pytest.importorskip("pyVoIP")
from tests.peers.softphone import PyVoipAgent  # noqa: E402

pytestmark = [pytest.mark.peer, needs_sipp]

FLOW = """
flow: transfer-test
numbers: ["1417"]
languages: [kk, ru]
start: lang
nodes:
  lang:
    type: set_language
    language: ru
    next: queue
  queue:
    type: queue
    queue: support
    fallback: bye
  bye:
    type: hangup
    prompt: {kk: Сау болыңыз., ru: До свидания.}
"""

QUEUES = """
[queues.support]
skills = ["support"]
ring_timeout_s = 6
wrap_up_s = 1
[queues.second]
skills = ["second"]
ring_timeout_s = 6
wrap_up_s = 1

[agents.1001]
skills = { ru = 10, support = 5 }
[agents.1002]
skills = { ru = 10, second = 5 }
"""


async def _engine(engine_factory: EngineFactory, tmp_path: Path,
                  number_port: int) -> EngineUnderTest:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "queue.yaml").write_text(FLOW, encoding="utf-8")
    queues = tmp_path / "queues.toml"
    queues.write_text(QUEUES, encoding="utf-8")
    eng = await engine_factory(ivr={"flow_dir": str(flows)}, queue={"file": str(queues)},
                               engine={"numbers": ()})
    config = TransfersConfig(
        targets={"complaints": "queue:second", "second_line": f"sip:2000@127.0.0.1:{number_port}"},
        kk={"complaints": "Шағымдар", "second_line": "Екінші желі"},
        ru={"complaints": "Жалобы", "second_line": "Вторая линия"})
    await eng.transfers.stop()
    eng.transfers = Transfers(config=config, queues=eng.queues, dialer=eng.dialer,
                              events=eng.queues.events, ring_s=5.0)
    return eng


def _pyvoip(eng: EngineUnderTest, user: str, **kw: object) -> PyVoipAgent:
    lo = next(_rtp)
    return PyVoipAgent("127.0.0.1", eng.transport.port, user, USERS[user], free_sip_port(), lo,
                       lo + 299, **{"answer_after_s": 0.0, **kw})  # type: ignore[arg-type]


def _transferred(events: list[Event], caller_id: str | None) -> list[dict[str, object]]:
    return [e.data for e in events if e.type == "call.transferred" and e.call_id == caller_id]


async def test_refer_from_the_phone_moves_the_caller_to_the_second_queue(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    eng = await _engine(engine_factory, tmp_path, free_sip_port())
    work = tmp_path / "sipp"
    make_ulaw_wav(work / "caller" / "bailanys_silence.wav", 2.0, 700.0)  # the caller's voice
    make_ulaw_wav(work / "agent" / "bailanys_agent.wav", 2.0, 300.0)
    agent_port = free_sip_port()
    reg = await sipp(eng, "agent_register.xml", work / "reg", timeout_s=10, local_port=agent_port,
                     extra_args=["-key", "user", "1001", "-au", "1001", "-ap", USERS["1001"]])
    assert reg.ok, reg.describe()
    second = _pyvoip(eng, "1002", talk_s=1.5, tone_hz=440.0)
    await _start(second)
    try:
        phone = asyncio.create_task(sipp(
            eng, "agent_refer.xml", work / "agent", timeout_s=20, local_port=agent_port,
            extra_args=["-key", "refer_to", "complaints"]))
        await asyncio.sleep(0.3)  # SIPp listening before the engine rings it
        caller = await sipp(eng, "ivr_silent.xml", work / "caller", timeout_s=20,
                            service="1417")
        res = await phone
    finally:
        await asyncio.to_thread(second.stop, deregister=False)
    # 202, NOTIFY "100 Trying", NOTIFY "200 OK" (terminated), BYE: checked by the scenario.
    assert res.ok, res.describe()
    assert caller.ok, caller.describe()
    assert await wait_until_idle(eng)
    events = await events_of(eng)
    caller_id = next(e.call_id for e in events if e.type == "queue.joined")
    assert _transferred(events, caller_id) == [{
        "queue": "support", "agent": "1001", "mode": "blind", "target": "complaints",
        "target_kind": "queue", "via": "phone"}]
    connected = [e.data["agent"] for e in events
                 if e.type == "call.connected" and e.call_id == caller_id]
    assert connected == ["1001", "1002"]
    joined = [e.data["queue"] for e in events if e.type == "queue.joined"]
    assert joined == ["support", "second"]
    completed = [e.data for e in events if e.type == "call.completed"]
    assert [c["agent"] for c in completed] == ["1001", "1002"]
    # The caller's tone reached the second queue's agent: bridged, RTP flowing.
    assert second.answered_calls == 1 and second.received_audio_bytes > 0
    states = [e.data["state"] for e in events if e.type == "agent.state"
              and e.data.get("agent") == "1001"]
    assert "wrap_up" in states  # the transferring agent wraps up as after a call


async def test_desktop_blind_transfer_to_a_number(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    number_port = free_sip_port()
    eng = await _engine(engine_factory, tmp_path, number_port)
    work = tmp_path / "sipp"
    make_ulaw_wav(work / "caller" / "bailanys_silence.wav", 2.0, 700.0)
    make_ulaw_wav(work / "number" / "bailanys_agent.wav", 2.0, 300.0)
    agent = _pyvoip(eng, "1001", tone_hz=440.0)
    await _start(agent)
    async with session_watch(eng) as sessions:
        try:
            number = asyncio.create_task(sipp(
                eng, "second_line.xml", work / "number", timeout_s=20, local_port=number_port))
            caller = asyncio.create_task(sipp(eng, "ivr_silent.xml", work / "caller",
                                              timeout_s=20, service="1417"))
            await _wait_event(eng, "call.connected", within=10)
            call_id = next(e.call_id for e in eng.appended if e.type == "call.connected")
            assert call_id is not None
            await asyncio.sleep(0.5)
            await eng.transfers.transfer(call_id, "1001", "second_line", "blind")
            res_number, res_caller = await number, await caller
        finally:
            await asyncio.to_thread(agent.stop, deregister=False)
    assert res_number.ok, res_number.describe()
    assert res_caller.ok, res_caller.describe()
    assert await wait_until_idle(eng)
    events = await events_of(eng)
    assert _transferred(events, call_id) == [{
        "queue": "support", "agent": "1001", "mode": "blind", "target": "second_line",
        "target_kind": "number", "via": "desktop"}]
    assert agent.ended_calls == 1  # our BYE released the operator
    ends = {e.call_id: (e.data["cause"], e.data["reason"]) for e in events
            if e.type == "call.ended"}
    assert ends[call_id] == ("agent", "agent_hangup")  # the second line hung up first
    # The number's leg (opened last): RTP both ways for its 1.5 s, bridged to the caller.
    caller_leg, agent_leg, number_leg = sessions
    assert number_leg.stats.received > 40 and number_leg.stats.sent > 40
    assert caller_leg.stats.sent > agent_leg.stats.received + 50  # the caller heard both
