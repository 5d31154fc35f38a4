"""Listen, whisper, barge with real peers (issue 21).

Three pyVoIP phones registered to the engine: the caller (SIP user 1002)
calls 1417 and says 697 Hz, the flow queues it to agent 1001 whose phone
says 1477 Hz, and supervisor ``aigerim``'s phone (SIP user 2001,
``[monitor.phones]``) says 941 Hz when the engine rings it for
``monitor.start``. What each phone hears is analysed with the Goertzel
terms of :mod:`bailanys.media.goertzel`:

* listen: the supervisor hears the caller and the agent; nobody hears it;
* whisper: the agent hears the supervisor, the caller does not;
* barge: the caller hears the supervisor too.

Then the supervisor hanging up ends the monitor only (the call goes on),
and the caller hanging up ends a second monitor leg. Refusals and the
``monitor.*`` events are checked on the way, and the call's recording:
its right channel (what the caller heard) holds the supervisor during the
barge only, never the whisper.
"""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bailanys.console.api import ActionError
from bailanys.console.auth import ConsoleUser
from bailanys.media.goertzel import tone_powers
from bailanys.web.auth import Role
from tests.peers.conftest import (
    USERS,
    EngineFactory,
    EngineUnderTest,
    free_sip_port,
    needs_sipp,
)

pytest.importorskip("pyVoIP")
from tests.peers.softphone import PyVoipAgent  # noqa: E402

pytestmark = [pytest.mark.peer, needs_sipp]

CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ = 697.0, 1477.0, 941.0
_COLUMN = {697.0: 0, 941.0: 3, 1477.0: 6}  # of tone_powers
#: Mean-square power of a tone clearly present: pyVoIP's tones are at about
#: -7 dBFS (power ~1e8); this is -40 dB below that, far above G.711's noise.
LOUD = 1e6
#: The share of the frames with sound in which a tone that reaches a phone is
#: loud. pyVoIP's reader drifts under load and pads a late read with silence
#: (seen: half the frames of a phase): silent frames are not counted.
PRESENT = 0.8

FLOW = """
flow: monitor-test
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

[agents.1001]
skills = { ru = 10, support = 5 }
"""

SUPERVISOR = ConsoleUser("aigerim", Role.SUPERVISOR, "")
PHONE, PHONE_PW = "2001", "pw2001"


def _phone(eng: EngineUnderTest, user: str, password: str, rtp: int, hz: float) -> PyVoipAgent:
    return PyVoipAgent("127.0.0.1", eng.transport.port, user, password, free_sip_port(), rtp,
                       rtp + 199, tone_hz=hz, keep_audio=True)


async def _start(phone: PyVoipAgent) -> None:
    await asyncio.to_thread(phone.start)
    assert phone.registered


async def _event(eng: EngineUnderTest, type_: str, n: int = 1, within: float = 8.0
                 ) -> dict[str, Any]:
    """The data of the ``n``-th event of ``type_`` (waits for it)."""
    for _ in range(int(within / 0.05)):
        found = [e for e in eng.appended if e.type == type_]
        if len(found) >= n:
            return {"call_id": found[n - 1].call_id, **found[n - 1].data}
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {type_} #{n} within {within} s")


def _loud_share(audio: bytes, hz: float) -> float:
    """The share of the 20 ms frames of 8-bit ``audio`` with sound in which ``hz``
    is loud (0 when ``hz`` is loud in none, even with no sound at all)."""
    n = len(audio) // 160
    pcm = (np.frombuffer(audio[: n * 160], dtype=np.uint8).astype(np.int16) - 128) * 256
    frames = pcm.reshape(n, 160)
    loud = int((tone_powers(frames)[:, _COLUMN[hz]] > LOUD).sum())
    sound = int((np.abs(frames).max(axis=1) > 2 * 256).sum())
    assert sound >= 10, f"only {sound} frames with sound"  # the phone heard something
    return loud / sound


async def _listen(phones: dict[str, PyVoipAgent], seconds: float = 0.8) -> dict[str, bytes]:
    """What each phone hears for ``seconds``, after the frames in flight drained."""
    await asyncio.sleep(0.3)
    marks = {name: len(p.heard()) for name, p in phones.items()}
    await asyncio.sleep(seconds)
    return {name: p.heard(marks[name]) for name, p in phones.items()}


async def _act(eng: EngineUnderTest, **action: Any) -> dict[str, Any]:
    return await eng.console.act(SUPERVISOR, action)


async def _refused(eng: EngineUnderTest, code: str, **action: Any) -> None:
    with pytest.raises(ActionError) as exc:
        await _act(eng, **action)
    assert exc.value.code == code, str(exc.value)


# pyVoIP raises in its own RTP threads when a call ends under them.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_listen_whisper_barge_with_real_phones(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    from pyVoIP.VoIP import CallState

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "queue.yaml").write_text(FLOW, encoding="utf-8")
    queues = tmp_path / "queues.toml"
    queues.write_text(QUEUES, encoding="utf-8")
    eng = await engine_factory(
        ivr={"flow_dir": str(flows)}, queue={"file": str(queues)}, engine={"numbers": ()},
        sip_users={PHONE: PHONE_PW}, monitor={"phones": {"aigerim": PHONE}, "ring_s": 5})
    base = 40000 + (eng.transport.port % 40) * 600
    agent = _phone(eng, "1001", USERS["1001"], base, AGENT_HZ)
    caller = _phone(eng, "1002", USERS["1002"], base + 200, CALLER_HZ)
    supervisor = _phone(eng, PHONE, PHONE_PW, base + 400, SUPERVISOR_HZ)
    phones = {"caller": caller, "agent": agent, "supervisor": supervisor}
    await asyncio.gather(*(_start(p) for p in phones.values()))
    await asyncio.sleep(1.1)  # pyVoIP's SIP receive loop starts 1 s after start()
    talk: asyncio.Future[None] | None = None
    try:
        await _refused(eng, "not_in_call", name="monitor.start", agent="1001", mode="listen")
        call = await asyncio.to_thread(caller.phone.call, "1417")
        for _ in range(100):
            if call.state == CallState.ANSWERED:
                break
            await asyncio.sleep(0.05)
        talk = asyncio.ensure_future(asyncio.to_thread(caller.talk, call))
        connected = await _event(eng, "call.connected")
        call_id = connected["call_id"]

        # listen
        started = await _act(eng, name="monitor.start", agent="1001", mode="listen")
        assert started["state"] == "ringing" and started["call_id"] == call_id
        await _refused(eng, "monitor_busy", name="monitor.start", call_id=call_id,
                       mode="barge")
        assert (await _event(eng, "monitor.started"))["mode"] == "listen"
        heard = await _listen(phones)
        assert _loud_share(heard["supervisor"], CALLER_HZ) > PRESENT
        assert _loud_share(heard["supervisor"], AGENT_HZ) > PRESENT
        assert _loud_share(heard["agent"], CALLER_HZ) > PRESENT
        assert _loud_share(heard["caller"], AGENT_HZ) > PRESENT
        assert _loud_share(heard["agent"], SUPERVISOR_HZ) == 0
        assert _loud_share(heard["caller"], SUPERVISOR_HZ) == 0

        # whisper: the agent hears the supervisor, the caller never does
        await _act(eng, name="monitor.mode", mode="whisper")
        heard = await _listen(phones)
        assert _loud_share(heard["agent"], SUPERVISOR_HZ) > PRESENT
        assert _loud_share(heard["agent"], CALLER_HZ) > PRESENT
        assert _loud_share(heard["caller"], SUPERVISOR_HZ) == 0
        assert _loud_share(heard["caller"], AGENT_HZ) > PRESENT
        assert _loud_share(heard["supervisor"], CALLER_HZ) > PRESENT

        # barge: everyone hears the other two
        await _act(eng, name="monitor.mode", mode="barge")
        heard = await _listen(phones)
        assert _loud_share(heard["caller"], SUPERVISOR_HZ) > PRESENT
        assert _loud_share(heard["caller"], AGENT_HZ) > PRESENT
        assert _loud_share(heard["agent"], SUPERVISOR_HZ) > PRESENT
        assert _loud_share(heard["supervisor"], AGENT_HZ) > PRESENT

        # the supervisor hangs up: the monitor ends, the call goes on
        sup_call = next(c for c in supervisor.phone.calls.values()
                        if c.state == CallState.ANSWERED)
        await asyncio.to_thread(sup_call.hangup)
        ended = await _event(eng, "monitor.ended")
        assert ended["reason"] == "supervisor_hangup"
        assert eng.queues.live_bridge(call_id=call_id) is not None
        await _refused(eng, "not_monitoring", name="monitor.stop")

        # again, listening; the caller hangs up: the monitor leg ends with the call
        await _act(eng, name="monitor.start", call_id=call_id, mode="listen")
        await _event(eng, "monitor.started", n=2)
        await asyncio.to_thread(call.hangup)
        ended2 = await _event(eng, "monitor.ended", n=2)
        assert ended2["reason"] == "call_ended"
    finally:
        for p in phones.values():
            await asyncio.to_thread(p.stop, deregister=False)
        if talk is not None:
            await talk

    changes = [e.data for e in eng.appended if e.type == "monitor.mode_changed"]
    assert [(c["previous"], c["mode"]) for c in changes] == [("listen", "whisper"),
                                                            ("whisper", "barge")]
    assert ended["call_id"] == call_id and ended["supervisor"] == "aigerim"
    assert ended["agent"] == "1001" and ended["mode"] == "barge"
    assert min(ended["listen_s"], ended["whisper_s"], ended["barge_s"]) > PRESENT
    total = ended["listen_s"] + ended["whisper_s"] + ended["barge_s"]
    assert abs(total - ended["duration_s"]) < 0.01
    # The recording: the caller on the left, what the caller heard on the right.
    await eng.hub._closing.join()  # the recorder's file is complete
    rec = next(e.data["path"] for e in eng.appended if e.type == "call.recording")
    with wave.open(rec) as w:
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, 2)
    n = len(frames) // 160
    left, right = (frames[: n * 160, ch].reshape(n, 160) for ch in (0, 1))
    supervisor_in_right = float((tone_powers(right)[:, _COLUMN[SUPERVISOR_HZ]] > LOUD).sum())
    heard_s = supervisor_in_right * 0.02
    assert abs(heard_s - ended["barge_s"]) < 0.3, (heard_s, ended)  # the barge, not the whisper
    assert (tone_powers(left)[:, _COLUMN[SUPERVISOR_HZ]] > LOUD).sum() == 0
    first = next(e.data for e in eng.appended if e.type == "monitor.started")
    assert first["phone"] == PHONE and first["ring_s"] > 0
    assert supervisor.answered_calls == 2
