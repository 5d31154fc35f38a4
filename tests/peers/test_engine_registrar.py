"""The engine's registrar and outbound calls against a pyVoIP softphone.

pyVoIP's quirks (tests/peers/softphone.py) matter here: it registers
synchronously in ``start()`` (so that runs in a thread while the engine's
loop answers), signs with RFC 2069 digest (no qop), answers a call one
second after it rings, and sends all its replies to its registrar, which is
the engine itself here, so the outbound call needs no retargeting.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.peers.conftest import (
    EngineUnderTest,
    events_of,
    session_watch,
    spy_sends,
    statuses,
)
from tests.peers.sipp import free_port

pytest.importorskip("pyVoIP")

from tests.peers.softphone import PyVoipAgent  # noqa: E402

pytestmark = pytest.mark.peer

#: pyVoIP picks RTP ports at random in its range: keep it above the engine's.
_rtp = iter(range(61000, 64000, 300))


def agent_for(engine: EngineUnderTest, password: str) -> PyVoipAgent:
    lo = next(_rtp)
    return PyVoipAgent(
        "127.0.0.1", engine.transport.port, "1001", password, free_port(), lo, lo + 299,
        answer_after_s=0.0,
    )


async def test_agent_registers(engine: EngineUnderTest) -> None:
    """REGISTER with digest (401 challenge, then 200): a binding and an agent.registered event."""
    agent = agent_for(engine, "pw1001")
    with spy_sends(engine) as sent:
        await asyncio.to_thread(agent.start)
    try:
        assert agent.registered
        assert statuses(sent)[:2] == [401, 200], statuses(sent)
        assert engine.registrar is not None
        bindings = engine.registrar.lookup("1001", time.time())
        assert len(bindings) == 1
        assert bindings[0].source[1] == agent.phone.sip.myPort
        events = await events_of(engine, "agent.registered")
        assert [e.data["user"] for e in events] == ["1001"]
    finally:
        await asyncio.to_thread(agent.stop, deregister=False)


async def test_wrong_password_is_refused(engine: EngineUnderTest) -> None:
    """A bad digest response gets 403: no binding, no event, and pyVoIP reports failure."""
    agent = agent_for(engine, "not-the-password")
    with spy_sends(engine) as sent:
        await asyncio.to_thread(agent.start)
        await asyncio.sleep(0.5)  # pyVoIP retries in its own timer threads
    try:
        assert not agent.registered
        assert agent.wait_for("failed", 1).kind == "failed"
        codes = statuses(sent)
        assert 403 in codes and 200 not in codes, codes
        assert engine.registrar is not None
        assert engine.registrar.lookup("1001", time.time()) == []
        assert await events_of(engine, "agent.registered") == []
    finally:
        await asyncio.to_thread(agent.stop, deregister=False)


async def test_engine_calls_registered_agent(engine: EngineUnderTest) -> None:
    """call_user: INVITE to the binding, pyVoIP answers, hears a prompt, gets our BYE."""
    agent = agent_for(engine, "pw1001")
    await asyncio.to_thread(agent.start)
    try:
        assert agent.registered
        async with session_watch(engine) as sessions:
            call = await engine.call_user("1001", ring_s=10)
            assert call.result.done() and call.result.result() is True
            assert call.final_status == 200
            prompt = engine.prompts.prompt("greeting", "ru")
            assert await asyncio.wait_for(call.play(prompt), prompt.duration + 5) is True
            await call.hangup("normal")
        assert agent.received_audio_bytes > 0
        ended = await asyncio.to_thread(agent.wait_for, "ended", 5)
        assert ended.kind == "ended"
        assert agent.answered_calls == 1
        assert len(sessions) == 1
        assert sessions[0].stats.sent > prompt.frames * 0.9
        assert sessions[0].stats.received > 0  # the agent's tone came back
        events = [(e.type, e.call_id) for e in await events_of(engine) if e.call_id]
        assert [t for t, _ in events] == [
            "call.originated", "call.ringing", "call.answered", "call.ended",
        ], events  # fmt: skip
        assert {c for _, c in events} == {call.id}
        end = (await events_of(engine, "call.ended"))[0]
        assert end.data["reason"] == "normal" and end.data["duration"] > prompt.duration * 0.9
        assert not engine.calls
    finally:
        await asyncio.to_thread(agent.stop, deregister=False)
