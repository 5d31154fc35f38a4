"""A queue call's recording holds the bridged conversation only (issue 13).

A pyVoIP caller (registered as 1002, playing a 300 Hz tone) reaches an agent
(1001, a pyVoIP phone that talks 3 s, then hangs up); the queue asks for the
satisfaction survey.  While the survey still runs, the WAV is already
closed and lasts as long as the bridge did (``call.connected`` ->
``call.completed``), not the survey after it.
"""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest

from tests.peers.conftest import EngineFactory, needs_sipp

pytest.importorskip("pyVoIP")
from tests.peers.test_queue_calls import (  # noqa: E402
    CALLBACK_QUEUES,
    FLOW,
    _agent,
    _press,
    _start,
    _wait_event,
)

pytestmark = [pytest.mark.peer, needs_sipp]

#: Ticks of slack: the recorder starts and stops within a tick of the events.
TOLERANCE_S = 0.3


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_recording_stops_when_the_agent_hangs_up_not_after_the_survey(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
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
    agent = _agent(eng, "1001", talk_s=3.0)
    await _start(agent)
    await _start(caller)
    try:
        call = await asyncio.to_thread(caller.phone.call, "1417")
        await _wait_event(eng, "call.completed", within=30)
        await asyncio.sleep(2.0)  # into the survey's question
        if eng.hub._closing:
            await asyncio.gather(*eng.hub._closing)
        events = list(eng.appended)
        assert not any(e.type == "survey.answered" for e in events)
        caller_id = next(e.call_id for e in events if e.type == "call.connected")
        assert caller_id in {c.id for c in eng.calls.values()}  # the survey still runs
        rec = next(e for e in events if e.type == "call.recording")
        connected = next(e for e in events if e.type == "call.connected")
        completed = next(e for e in events if e.type == "call.completed")
        with wave.open(rec.data["path"]) as w:
            recorded_s = w.getnframes() / w.getframerate()
        bridged_s = completed.ts - connected.ts
        assert abs(recorded_s - bridged_s) < TOLERANCE_S, (recorded_s, bridged_s)
        await asyncio.to_thread(_press, call, "5")
        await _wait_event(eng, "survey.answered", within=15)
        for _ in range(150):  # thanks, then the engine hangs up
            if call.state == CallState.ENDED:
                break
            await asyncio.sleep(0.1)
    finally:
        await asyncio.to_thread(agent.stop, deregister=False)
        await asyncio.to_thread(caller.stop, deregister=False)
    with wave.open(rec.data["path"]) as w:  # the survey added nothing
        assert abs(w.getnframes() / w.getframerate() - recorded_s) < 1e-9
