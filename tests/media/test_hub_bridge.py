"""The media hub's bridge (B2BUA media path) and audio taps, on real loopback RTP.

Four sessions: A talks to B (a caller's phone and the engine's caller leg),
C talks to D (the engine's agent leg and the agent's phone). Bridging B and
C relays what A says to D and what D says to A, re-encoding between PCMU
and PCMA; unbridged, nothing crosses.
"""

from __future__ import annotations

import asyncio
import itertools
import wave
from pathlib import Path

import numpy as np

from bailanys.media.hub import MediaHub
from bailanys.media.player import EncodedAudio
from bailanys.media.session import RtpSession
from bailanys.voice.audio import tone

_ports = itertools.count(0)


async def legs() -> tuple[MediaHub, RtpSession, RtpSession, RtpSession, RtpSession]:
    base = 50000 + (next(_ports) % 20) * 40
    hub = MediaHub("127.0.0.1", (base, base + 40))
    await hub.start()
    a, b, c, d = [await hub.open_session() for _ in range(4)]
    a.configure(remote=("127.0.0.1", b.port), codec="PCMU", audio_pt=0, dtmf_pt=None)
    b.configure(remote=("127.0.0.1", a.port), codec="PCMU", audio_pt=0, dtmf_pt=None)
    c.configure(remote=("127.0.0.1", d.port), codec="PCMA", audio_pt=8, dtmf_pt=None)
    d.configure(remote=("127.0.0.1", c.port), codec="PCMA", audio_pt=8, dtmf_pt=None)
    return hub, a, b, c, d


def loud_frames(frames: list[np.ndarray]) -> int:
    return sum(1 for f in frames if float(np.sqrt(np.mean(f.astype(np.float64) ** 2))) > 500)


async def test_bridge_relays_both_ways_across_codecs() -> None:
    hub, a, b, c, d = await legs()
    heard_d: list[np.ndarray] = []
    heard_a: list[np.ndarray] = []
    hub.tap(d, lambda pcm: heard_d.append(pcm.copy()))
    hub.tap(a, lambda pcm: heard_a.append(pcm.copy()))
    try:
        a.player.play(EncodedAudio.from_pcm(tone(700, 1500)))
        d.player.play(EncodedAudio.from_pcm(tone(440, 1500)))
        await asyncio.sleep(0.4)
        assert loud_frames(heard_d) == 0 and loud_frames(heard_a) == 0  # not bridged yet
        hub.bridge(b, c)
        assert b.bridge_peer is c and c.bridge_peer is b
        await asyncio.sleep(0.6)
        assert loud_frames(heard_d) > 15  # A's tone reached D through B -> C (PCMU -> PCMA)
        assert loud_frames(heard_a) > 15  # and D's tone reached A
        hub.unbridge(c)
        assert b.bridge_peer is None and c.bridge_peer is None
        before = loud_frames(heard_d)
        await asyncio.sleep(0.3)
        assert loud_frames(heard_d) <= before + 6  # the frames in flight and in the jitter buffer
    finally:
        await hub.stop()


async def test_closing_a_bridged_leg_unbridges_its_peer() -> None:
    hub, a, b, c, d = await legs()
    try:
        hub.bridge(b, c)
        hub.close_session(c)
        assert b.bridge_peer is None
        await asyncio.sleep(0.1)  # the tick keeps running with the survivor
        assert b.stats.sent > 0
    finally:
        await hub.stop()


async def test_stop_recording_ends_the_file_while_the_session_lives_on(tmp_path: Path) -> None:
    """Issue 13: a bridge's recording holds the bridge only; the leg goes on (the survey)."""
    hub, a, b, c, d = await legs()
    path = tmp_path / "bridge.wav"
    try:
        hub.bridge(b, c)
        first = hub.record(b, tmp_path / "first.wav")
        recorder = hub.record(b, path)  # one file at a time: the first one is finished
        assert b.recorder is recorder
        await asyncio.sleep(0.5)
        hub.unbridge(b)
        hub.stop_recording(b)
        frames = recorder.frames
        assert b.recorder is None
        hub.stop_recording(b)  # idempotent
        await asyncio.sleep(0.4)  # the leg still sends; nothing more is recorded
        assert recorder.frames == frames and b.stats.sent > frames
        if hub._closing:
            await asyncio.gather(*hub._closing)
        assert first.closed and recorder.closed
        with wave.open(str(path)) as w:
            assert w.getnframes() == frames * 160
        assert 0.4 <= frames * 0.02 <= 0.7
    finally:
        await hub.stop()
