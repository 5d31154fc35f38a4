"""The engine against SIPp on loopback: calls, transports, hang-ups, refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from bailanys.media import g711
from tests.peers.conftest import (
    EngineFactory,
    EngineUnderTest,
    assert_demo_call,
    events_of,
    needs_sipp,
    session_watch,
    sipp,
)
from tests.peers.sipp import SAMPLE_RATE, ulaw_wav_bytes

pytestmark = [pytest.mark.peer, needs_sipp]


@pytest.mark.parametrize("transport", ["u1", "t1"])
async def test_demo_dtmf(engine: EngineUnderTest, tmp_path: Path, transport: str) -> None:
    """demo_dtmf.xml: digits 2 (Russian), 1 2 3 #, the engine reads back and hangs up."""
    sent0 = engine.hub.stats.frames_sent
    async with session_watch(engine) as sessions:
        res = await sipp(engine, "demo_dtmf.xml", tmp_path, transport=transport)
    assert res.ok, res.describe()
    call_id = await assert_demo_call(engine)
    offered = (await events_of(engine, "call.offered"))[0]
    assert offered.data["from"].startswith("sip:sipp@127.0.0.1")
    assert offered.data["to"].startswith("sip:1414@127.0.0.1")
    assert offered.data["transport"] == ("UDP" if transport == "u1" else "TCP")
    assert offered.data["codec"] == "PCMU"
    assert call_id
    assert engine.hub.stats.frames_sent > sent0
    assert len(sessions) == 1
    stats = sessions[0].stats
    assert stats.sent > 100  # greeting, prompts and read-back: seconds of audio
    assert stats.received > 0 and stats.garbage == 0 and stats.foreign == 0
    assert not engine.calls and not engine.hub.sessions


async def test_caller_hangs_up(engine: EngineUnderTest, tmp_path: Path) -> None:
    """demo_dtmf_caller_bye.xml: the caller's BYE gets 200 and ends the call as remote_bye."""
    res = await sipp(engine, "demo_dtmf_caller_bye.xml", tmp_path)
    assert res.ok, res.describe()
    await assert_demo_call(engine, cause="remote_bye")
    assert not engine.calls and not engine.hub.sessions


async def test_options(engine: EngineUnderTest, tmp_path: Path) -> None:
    """options.xml: OPTIONS is answered 200 and starts no call."""
    res = await sipp(engine, "options.xml", tmp_path, timeout_s=10)
    assert res.ok, res.describe()
    assert await events_of(engine) == []


async def test_cancel_while_ringing(engine_factory: EngineFactory, tmp_path: Path) -> None:
    """engine_cancel.xml: 180, CANCEL -> 200 + 487, ACK; the call ends as cancelled."""
    engine = await engine_factory(engine={"answer_delay_ms": 1000})
    res = await sipp(engine, "engine_cancel.xml", tmp_path, timeout_s=10)
    assert res.ok, res.describe()
    types = [(e.type, e.data.get("cause"), e.data.get("reason"))
             for e in await events_of(engine)]
    assert types == [("call.offered", None, None), ("call.ended", "caller", "cancelled")], types
    await asyncio.sleep(1.2)  # past the ring delay: the cancelled call must not be answered
    assert [e.type for e in await events_of(engine)] == ["call.offered", "call.ended"]
    assert not engine.calls and not engine.hub.sessions


async def test_hold_and_unhold(engine: EngineUnderTest, tmp_path: Path) -> None:
    """engine_hold.xml: sendonly -> our recvonly (media stops), sendrecv -> sendrecv."""
    res = await sipp(engine, "engine_hold.xml", tmp_path, timeout_s=15)
    assert res.ok, res.describe()
    # The line test is a flow: its own ivr.* steps are left out here.
    types = [e.type for e in await events_of(engine) if not e.type.startswith("ivr.")]
    assert types == [
        "call.offered", "call.answered", "call.hold", "call.unhold", "call.ended",
    ], types  # fmt: skip
    ended = (await events_of(engine, "call.ended"))[0]
    assert (ended.data["cause"], ended.data["reason"]) == ("caller", "remote_bye")


async def test_refusals(engine: EngineUnderTest, tmp_path: Path) -> None:
    """engine_refusals.xml: FOO 501, MESSAGE 405 + Allow, INVITE 9999 404, G.729 only 488."""
    res = await sipp(engine, "engine_refusals.xml", tmp_path, timeout_s=15)
    assert res.ok, res.describe()
    assert await events_of(engine) == []  # refused before any call exists
    assert not engine.calls and not engine.hub.sessions


# ------------------------------------------------------------ in-band DTMF

#: ITU-T Q.23 keypad frequencies (low group, high group) in Hz.
DTMF_FREQS = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477),
}  # fmt: skip
#: Per-tone peak for about -10 dBm0 (0 dBm0 is a sine of peak ~22 700 in G.711 µ-law).
DTMF_PEAK = 7000.0
INBAND_NAME = "bailanys_inband.wav"


def dtmf_pcm(plan: list[tuple[str | None, float]]) -> np.ndarray:
    """int16 PCM at 8 kHz for ``[(key or None for silence, seconds), ...]``."""
    parts: list[np.ndarray] = []
    for key, seconds in plan:
        n = int(round(seconds * SAMPLE_RATE))
        if key is None:
            parts.append(np.zeros(n))
            continue
        t = np.arange(n) / SAMPLE_RATE
        lo, hi = DTMF_FREQS[key]
        parts.append(DTMF_PEAK * (np.sin(2 * np.pi * lo * t) + np.sin(2 * np.pi * hi * t)))
    pcm = np.concatenate(parts)
    pad = -len(pcm) % 160  # whole 20 ms packets
    return np.concatenate([pcm, np.zeros(pad)]).astype(np.int16)


def dtmf_wav(path: Path, plan: list[tuple[str | None, float]]) -> float:
    """Write the µ-law WAV SIPp's rtp_stream plays; returns its length in seconds."""
    pcm = dtmf_pcm(plan)
    path.write_bytes(ulaw_wav_bytes(g711.ulaw_encode(pcm)))
    return len(pcm) / SAMPLE_RATE


async def test_inband_dtmf(engine: EngineUnderTest, tmp_path: Path) -> None:
    """engine_inband.xml: keys as tones in PCMU (no telephone-event offered) are detected."""
    tone, gap = 0.1, 0.25
    plan: list[tuple[str | None, float]] = [(None, 1.0), ("2", tone), (None, 1.2)]
    for key in "123#":
        plan += [(key, tone), (None, gap)]
    plan.append((None, 0.5))
    seconds = dtmf_wav(tmp_path / INBAND_NAME, plan)
    res = await sipp(engine, "engine_inband.xml", tmp_path, duration_ms=int(seconds * 1000) + 300)
    assert res.ok, res.describe()
    await assert_demo_call(engine, cause="remote_bye", source="inband")
    assert engine.hub.stats.inband_digits == 5
