"""With ``[analytics]`` on, a real call's recording gets its transcription jobs (issue 15).

An IVR-only call (SIPp on the built-in 1414 demo) is recorded from its start
for analytics; when it ends, ``recording.closed`` names the caller's side
only (the right channel is the engine's own prompts) and one pending job is
stored with it. A queue call keeps its bridge-only recording (issue 13) and
gets a job per channel.
"""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest

from tests.peers.conftest import EngineFactory, events_of, needs_sipp, sipp, wait_until_idle
from tests.peers.test_engine_calls import INBAND_NAME, dtmf_wav

pytestmark = [pytest.mark.peer, needs_sipp]


async def _jobs(engine, call_id: str) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    await engine.events.flush()
    rows = await engine.store.db.fetchall(
        "SELECT recording, channel, language, state FROM analytics_jobs WHERE call_id = ?"
        " ORDER BY id", (call_id,))
    return [tuple(r) for r in rows]


async def test_an_ivr_call_is_recorded_and_its_callers_side_queued(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    engine = await engine_factory(analytics={"enabled": True})
    seconds = dtmf_wav(tmp_path / INBAND_NAME, [(None, 1.5)])
    res = await sipp(engine, "engine_inband.xml", tmp_path, duration_ms=int(seconds * 1000) + 300)
    assert res.ok, res.describe()
    assert await wait_until_idle(engine)
    for _ in range(100):  # the recorder closes its file in a worker thread
        if not engine.hub._closing:
            break
        await asyncio.sleep(0.05)
    (ended,) = await events_of(engine, "call.ended")
    (closed,) = await events_of(engine, "recording.closed")
    path = str(Path(engine.config.media.record_dir) / f"{ended.call_id}.wav")
    assert closed.call_id == ended.call_id
    assert (closed.data["path"], closed.data["channels"]) == (path, "caller")
    assert abs(float(closed.data["seconds"]) - float(ended.data["duration"])) < 1.0
    with wave.open(path, "rb") as wav:
        assert abs(wav.getnframes() / 8000 - float(closed.data["seconds"])) < 0.05
    assert await _jobs(engine, ended.call_id) == [
        (path, "caller", closed.data.get("language"), "pending")]
    # One transaction: the event's row and its job row were written together.
    [(event_id,)] = await engine.store.db.fetchall(
        "SELECT id FROM events WHERE type = 'recording.closed'")
    assert event_id == closed.id


async def test_without_analytics_an_ivr_call_is_not_recorded(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    engine = await engine_factory()  # the fixture's default: analytics off
    seconds = dtmf_wav(tmp_path / INBAND_NAME, [(None, 0.5)])
    res = await sipp(engine, "engine_inband.xml", tmp_path, duration_ms=int(seconds * 1000) + 300)
    assert res.ok, res.describe()
    assert await wait_until_idle(engine)
    assert await events_of(engine, "recording.closed") == []
    wavs = await asyncio.to_thread(lambda: list(Path(engine.config.media.record_dir).glob("*")))
    assert wavs == []


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_a_queue_call_keeps_its_bridge_only_recording_with_both_sides_queued(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    """The analytics recording from the call's start is replaced by the
    queue's recording of the bridge (issue 13), which gets two jobs."""
    pytest.importorskip("pyVoIP")
    from tests.peers.test_queue_calls import CALLBACK_QUEUES, FLOW, _agent, _start, _wait_event

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "queue.yaml").write_text(FLOW, encoding="utf-8")
    queues = tmp_path / "queues.toml"
    queues.write_text(CALLBACK_QUEUES.replace("callback = true", "callback = false"),
                      encoding="utf-8")
    eng = await engine_factory(ivr={"flow_dir": str(flows)}, queue={"file": str(queues)},
                               engine={"numbers": ()}, analytics={"enabled": True})
    caller = _agent(eng, "1002", tone_hz=300.0)
    agent = _agent(eng, "1001", talk_s=2.0)
    await _start(agent)
    await _start(caller)
    try:
        await asyncio.to_thread(caller.phone.call, "1417")
        await _wait_event(eng, "call.completed", within=30)
        for _ in range(100):
            if any(e.type == "recording.closed" for e in eng.appended):
                break
            await asyncio.sleep(0.05)
    finally:
        await asyncio.to_thread(agent.stop, deregister=False)
        await asyncio.to_thread(caller.stop, deregister=False)
    events = list(eng.appended)
    connected = next(e for e in events if e.type == "call.connected")
    completed = next(e for e in events if e.type == "call.completed")
    [closed] = [e for e in events if e.type == "recording.closed"]
    assert closed.call_id == connected.call_id and closed.data["channels"] == "caller,agent"
    with wave.open(closed.data["path"]) as w:
        recorded_s = w.getnframes() / w.getframerate()
    assert abs(recorded_s - (completed.ts - connected.ts)) < 0.3  # the bridge only
    assert abs(recorded_s - float(closed.data["seconds"])) < 0.05
    jobs = await _jobs(eng, connected.call_id)
    assert [(r, ch, state) for r, ch, _, state in jobs] == [
        (closed.data["path"], "caller", "pending"), (closed.data["path"], "agent", "pending")]


async def test_the_engines_own_worker_transcribes_the_call_and_stops_with_it(
    engine_factory: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[analytics] workers = 1``: the engine starts a real worker process
    (the stand-in pipeline of tests/analytics/workersteps.py, handed down
    through the environment), which transcribes the call's recording; the
    engine's stop ends it."""
    import os

    from bailanys.analytics.steps import TEST_STEPS_ENV
    from bailanys.config import PROJECT_ROOT

    monkeypatch.setenv(TEST_STEPS_ENV, "tests.analytics.workersteps:steps")
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    engine = await engine_factory(analytics={"enabled": True, "workers": 1, "poll_ms": 50})
    seconds = dtmf_wav(tmp_path / INBAND_NAME, [(None, 1.0)])
    res = await sipp(engine, "engine_inband.xml", tmp_path, duration_ms=int(seconds * 1000) + 300)
    assert res.ok, res.describe()
    (ended,) = await events_of(engine, "call.ended")
    for _ in range(200):
        done = await engine.store.db.fetchall(
            "SELECT state FROM analytics_jobs WHERE call_id = ?", (ended.call_id,))
        if [tuple(r) for r in done] == [("done",)]:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"not transcribed: {done}")
    [ready] = await engine.store.db.fetchall(
        "SELECT json_extract(data, '$.channels'), json_extract(data, '$.worker') FROM events"
        " WHERE type = 'transcript.ready' AND call_id = ?", (ended.call_id,))
    [pid] = engine.workers.pids
    assert ready[0] == "caller" and ready[1].endswith(f":{pid}")
    assert os.getpriority(os.PRIO_PROCESS, pid) >= 10  # [analytics] nice
    await engine.stop()
    assert engine.workers.pids == [] and engine.workers.crashes == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
