"""Queues with real peers: SIPp callers, pyVoIP softphones registered as agents.

The test flow sends every call straight to the queue ``support`` (the IVR
is tested elsewhere); the queue file shortens the announcement interval to
five seconds so a caller waits past it within a test.
"""

from __future__ import annotations

import asyncio
import itertools
import wave
from pathlib import Path

import numpy as np
import pytest

from bailanys.metrics.windows import recompute
from bailanys.queue.queuelog import to_queue_log
from bailanys.voice.phrases.queue import position_announcement
from tests.peers.conftest import (
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

pytest.importorskip("pyVoIP")
from tests.peers.softphone import PyVoipAgent  # noqa: E402

pytestmark = [pytest.mark.peer, needs_sipp]

FLOW = """
flow: queue-test
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
    prompt: {kk: Күте тұрыңыз. Қоңырау тегін., ru: Оставайтесь на линии. Звонок бесплатный.}
    fallback: bye
  bye:
    type: hangup
    prompt: {kk: Сау болыңыз., ru: До свидания.}
"""

QUEUES = """
[queues.support]
skills = ["support"]
strategy = "longest_idle"
announce_interval_s = 5
ring_timeout_s = 3
wrap_up_s = 1
callback = true

[agents.1001]
skills = { ru = 10, kk = 10, support = 5 }
[agents.1002]
skills = { ru = 10, kk = 10, support = 5 }
"""

#: pyVoIP picks RTP ports at random in its range: keep it above the engine's.
#: Ten ranges, reused in turn (other peer tests borrow these agents too; an
#: agent's ports are free again once its test stopped it).
_rtp = itertools.cycle(range(58000, 61000, 300))


async def _engine(engine_factory: EngineFactory, tmp_path: Path) -> EngineUnderTest:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "queue.yaml").write_text(FLOW, encoding="utf-8")
    queues = tmp_path / "queues.toml"
    queues.write_text(QUEUES, encoding="utf-8")
    return await engine_factory(
        ivr={"flow_dir": str(flows)}, queue={"file": str(queues)}, engine={"numbers": ()}
    )


def _agent(eng: EngineUnderTest, user: str, **kw: object) -> PyVoipAgent:
    lo = next(_rtp)
    password = {"1001": "pw1001", "1002": "pw1002"}[user]
    return PyVoipAgent("127.0.0.1", eng.transport.port, user, password, free_sip_port(), lo,
                       lo + 299, **{"answer_after_s": 0.0, **kw})  # type: ignore[arg-type]


async def _start(agent: PyVoipAgent) -> None:
    await asyncio.to_thread(agent.start)
    assert agent.registered


async def _wait_event(eng: EngineUnderTest, type_: str, within: float = 20.0) -> None:
    for _ in range(int(within / 0.1)):
        if any(e.type == type_ for e in eng.appended):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {type_} event within {within} s")


# pyVoIP's refusing phone raises in its own RTP thread ("no attribute 'sin'").
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_wait_announce_skip_no_answer_bridge_record(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    eng = await _engine(engine_factory, tmp_path)
    sipp_dir = tmp_path / "sipp"
    # The caller's voice: a 700 Hz tone, looped (ivr_silent.xml streams this file).
    make_ulaw_wav(sipp_dir / "bailanys_silence.wav", 2.0, 700.0)
    refusing = _agent(eng, "1001", ignore=True)  # rings out: ring_timeout_s, then CANCEL
    answering = _agent(eng, "1002", talk_s=3.0, tone_hz=440.0)
    async with session_watch(eng) as sessions:
        caller = asyncio.create_task(
            sipp(eng, "ivr_silent.xml", sipp_dir, timeout_s=90, service="1417")
        )
        try:
            await _wait_event(eng, "queue.joined")
            await asyncio.sleep(6.0)  # past one announcement interval with no agent
            await _start(refusing)  # longest idle: rung first, never answers
            await _start(answering)
            res = await caller
        finally:
            await asyncio.to_thread(refusing.stop, deregister=False)
            await asyncio.to_thread(answering.stop, deregister=False)
    assert res.ok, res.describe()
    assert await wait_until_idle(eng)

    events = await events_of(eng)
    caller_id = next(e.call_id for e in events if e.type == "queue.joined")
    announced = [e for e in events if e.type == "queue.announced" and e.call_id == caller_id]
    assert len(announced) >= 2, announced  # at join and after the interval
    assert announced[0].data["position"] == 1
    ringing = [e.data["agent"] for e in events if e.type == "agent.ringing"]
    assert ringing[:2] == ["1001", "1002"], ringing
    assert [e.data["agent"] for e in events if e.type == "agent.no_answer"] == ["1001"]
    connected = [e for e in events if e.type == "call.connected"]
    assert len(connected) == 1 and connected[0].data["agent"] == "1002"
    assert connected[0].data["waited"] >= 5.0
    completed = [e for e in events if e.type == "call.completed"]
    assert completed and completed[0].data["by"] == "agent"
    # Who ended each leg (issue 13 contract 1): the agent's BYE ends both.
    ends = {e.call_id: (e.data["cause"], e.data["reason"]) for e in events
            if e.type == "call.ended"}
    assert ends[caller_id] == ("agent", "agent_hangup"), ends
    assert answering.answered_calls == 1
    assert answering.received_audio_bytes > 0  # the caller's tone reached the agent

    # Packets both ways on both legs, and a two-channel recording.
    caller_leg = next(s for s in sessions if s.bridge_peer is None and s.stats.received > 200)
    assert caller_leg.stats.sent > 200
    # The announcements went out as RTP: at least two position announcements'
    # worth of prompt frames (the rest is music on hold) before the bridge.
    position = eng.prompts.text("ru", position_announcement("ru", 1))
    assert caller_leg.player.frames_played >= 2 * position.frames
    rec = next(e for e in events if e.type == "call.recording")
    with wave.open(rec.data["path"]) as w:
        assert w.getnchannels() == 2
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    left, right = (float(np.sqrt(np.mean(pcm[:, i].astype(np.float64) ** 2))) for i in (0, 1))
    assert left > 300 and right > 300, (left, right)

    # The agent's disposition, through the API the console will use.
    eng.queues.disposition(caller_id, "1002", True, "public_services")
    await eng.events.flush()
    disposition = [e for e in await events_of(eng) if e.type == "call.disposition"]
    assert len(disposition) == 1 and disposition[0].data["resolved"] is True
    # ... and the whole call as Asterisk's queue_log, for existing statistics tools.
    lines = [line.split("|") for line in to_queue_log(await events_of(eng))]
    verbs = [f[4] for f in lines if f[1] == caller_id]
    assert verbs[0] == "ENTERQUEUE" and "RINGNOANSWER" in verbs
    assert verbs[-2:] == ["CONNECT", "COMPLETEAGENT"], verbs


async def test_caller_who_hangs_up_is_abandoned_with_its_wait(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    eng = await _engine(engine_factory, tmp_path)
    sipp_dir = tmp_path / "sipp"
    make_ulaw_wav(sipp_dir / "bailanys_load.wav", 1.0, 0.0)
    res = await sipp(eng, "load_call.xml", sipp_dir, timeout_s=30, service="1417",
                     duration_ms=6000)
    assert res.ok, res.describe()
    assert await wait_until_idle(eng)
    events = await events_of(eng)
    abandoned = [e for e in events if e.type == "queue.abandoned"]
    assert len(abandoned) == 1
    joined = next(e for e in events if e.type == "queue.joined")
    waited = abandoned[0].data["waited"]
    assert abs(waited - (abandoned[0].ts - joined.ts)) < 0.5
    assert 4.0 <= waited <= 6.5  # the 6 s call: the queue node's prompt is in the wait
    assert abandoned[0].data["short"] is False
    assert abandoned[0].data["position"] == 1


async def test_a_hang_up_during_the_queue_prompt_is_offered_and_lost(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    """The wait the standard measures starts when the menu ends: a caller who
    hangs up while the queue node says "stay on the line" joined the queue
    and is a lost call (it used to be neither offered nor lost)."""
    eng = await _engine(engine_factory, tmp_path)
    sipp_dir = tmp_path / "sipp"
    make_ulaw_wav(sipp_dir / "bailanys_load.wav", 1.0, 0.0)
    res = await sipp(eng, "load_call.xml", sipp_dir, timeout_s=30, service="1417",
                     duration_ms=1000)
    assert res.ok, res.describe()
    assert await wait_until_idle(eng)
    events = await events_of(eng)
    types = [e.type for e in events]
    assert "queue.joined" in types and "queue.abandoned" in types
    assert types.index("queue.joined") < types.index("queue.abandoned")
    (abandoned,) = [e for e in events if e.type == "queue.abandoned"]
    assert abandoned.data["waited"] < 2.0 and abandoned.data["short"] is False
    total = recompute(events, events[0].ts, events[-1].ts + 1).total
    assert (total.counts.offered, total.counts.abandoned) == (1, 1)
    assert total.kpi("lost_pct").value == 100.0


CALLBACK_QUEUES = """
[queues.support]
skills = ["support"]
announce_interval_s = 5
ring_timeout_s = 8
wrap_up_s = 1
callback = true
callback_key = "1"

[agents.1001]
skills = { ru = 10, kk = 10, support = 5 }
"""


def _press(call: object, key: str) -> None:
    """Press ``key`` in the audio (pyVoIP has no RFC 4733 sender): 8-bit linear tone."""
    from bailanys.media.goertzel import dtmf_tone

    tone16 = np.concatenate([dtmf_tone(key, 200.0), np.zeros(800, dtype=np.int16)])
    unsigned = ((tone16.astype(np.int32) >> 8) + 128).astype(np.uint8).tobytes()
    call.write_audio(unsigned)  # type: ignore[attr-defined]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_callback_keeps_the_place_and_the_engine_calls_back(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    """A pyVoIP caller presses 1 for a callback and hangs up (the engine does); when an
    agent logs in, the engine calls the caller back, then bridges it to the agent."""
    from pyVoIP.VoIP import CallState

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "queue.yaml").write_text(FLOW, encoding="utf-8")
    queues = tmp_path / "queues.toml"
    queues.write_text(CALLBACK_QUEUES, encoding="utf-8")
    eng = await engine_factory(
        ivr={"flow_dir": str(flows)}, queue={"file": str(queues)}, engine={"numbers": ()}
    )
    caller = _agent(eng, "1002", tone_hz=300.0)  # answers the callback
    agent = _agent(eng, "1001", talk_s=2.0)
    await _start(caller)
    try:
        call = await asyncio.to_thread(caller.phone.call, "1417")
        for _ in range(100):
            if call.state == CallState.ANSWERED:
                break
            await asyncio.sleep(0.1)
        assert call.state == CallState.ANSWERED
        await _wait_event(eng, "queue.announced")
        await asyncio.sleep(1.0)
        await asyncio.to_thread(_press, call, "1")
        await _wait_event(eng, "queue.callback_requested")
        for _ in range(150):  # the engine confirms, then hangs up
            if call.state == CallState.ENDED:
                break
            await asyncio.sleep(0.1)
        assert call.state == CallState.ENDED
        await _start(agent)  # the agent logs in: the caller's turn has come
        await _wait_event(eng, "call.completed", within=40)
        assert await wait_until_idle(eng, within=15)
    finally:
        await asyncio.to_thread(agent.stop, deregister=False)
        await asyncio.to_thread(caller.stop, deregister=False)

    events = await events_of(eng)
    key = next(e.call_id for e in events if e.type == "queue.joined")
    kinds = [e.type for e in events if e.call_id == key]
    for expected in ("queue.callback_requested", "queue.callback", "queue.callback_answered",
                     "call.connected", "call.completed"):
        assert expected in kinds, (expected, kinds)
    assert kinds.index("queue.callback_requested") < kinds.index("queue.callback")
    dtmf = [e for e in events if e.type == "dtmf"]
    assert dtmf and dtmf[0].data == {"digit": "1", "source": "inband"}
    connected = next(e for e in events if e.type == "call.connected")
    assert connected.data["agent"] == "1001"
    assert caller.answered_calls == 1  # it answered the engine's callback
    assert agent.answered_calls == 1
    assert agent.received_audio_bytes > 0  # the called-back caller's tone reached the agent
    ended = [(e.data["cause"], e.data["reason"]) for e in events if e.type == "call.ended"]
    assert ("flow", "callback_requested") in ended


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_agent_hangs_up_and_the_caller_rates_the_call(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    """survey = true: after the agent hangs up the caller hears the question and presses 5."""
    from pyVoIP.VoIP import CallState

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "queue.yaml").write_text(FLOW, encoding="utf-8")
    queues = tmp_path / "queues.toml"
    queues.write_text(CALLBACK_QUEUES.replace("callback = true", "callback = false\nsurvey = true"),
                      encoding="utf-8")
    eng = await engine_factory(
        ivr={"flow_dir": str(flows)}, queue={"file": str(queues)}, engine={"numbers": ()}
    )
    caller = _agent(eng, "1002", tone_hz=300.0)
    agent = _agent(eng, "1001", talk_s=2.0)
    await _start(agent)
    await _start(caller)
    try:
        call = await asyncio.to_thread(caller.phone.call, "1417")
        await _wait_event(eng, "call.completed", within=30)
        for _ in range(50):  # the survey started
            if any(e.type == "ivr.node" and e.data.get("node") == "survey"
                   for e in eng.appended):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(_press, call, "5")
        await _wait_event(eng, "survey.answered", within=15)
        for _ in range(150):  # thanks, then the engine hangs up
            if call.state == CallState.ENDED:
                break
            await asyncio.sleep(0.1)
        assert call.state == CallState.ENDED
    finally:
        await asyncio.to_thread(agent.stop, deregister=False)
        await asyncio.to_thread(caller.stop, deregister=False)
    events = await events_of(eng)
    answered = [e for e in events if e.type == "survey.answered"]
    assert [(e.data["question"], e.data["score"]) for e in answered] == [("satisfaction", 5)]
    completed = next(e for e in events if e.type == "call.completed")
    assert completed.data["by"] == "agent"
    assert answered[0].call_id == completed.call_id
    ended = [(e.data["cause"], e.data["reason"]) for e in events if e.type == "call.ended"]
    assert ("flow", "survey_done") in ended
    assert ("agent", "remote_bye") in ended  # the agent's leg: the agent hung up
