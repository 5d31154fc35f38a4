"""Listen, whisper, barge (issue 21): the mixer's table, and the hub mixing real RTP.

Pure tests of :func:`mix_tick`, then six loopback sessions: the caller's
phone A and the engine's caller leg B, the engine's agent leg C and the
agent's phone D, the engine's supervisor leg E and the supervisor's phone
F. A, D and F play 697, 1477 and 941 Hz; what each phone receives is
analysed with the Goertzel terms of :mod:`bailanys.media.goertzel`.
697 + 1477 Hz is the DTMF key 3: the phones' players are not interruptible,
so the supervisor's phone (a hub session here) hearing it does not stop
its own tone.
"""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pytest

from bailanys.errors import MediaError
from bailanys.media.goertzel import tone_powers
from bailanys.media.hub import MediaHub
from bailanys.media.mixer import BARGE, LISTEN, WHISPER, mix, mix_tick
from bailanys.media.player import EncodedAudio
from bailanys.media.session import RtpSession
from bailanys.voice.audio import tone

CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ = 697.0, 1477.0, 941.0
_INDEX = {697.0: 0, 941.0: 3, 1477.0: 6}  # columns of tone_powers


def frame(value: int) -> np.ndarray:
    return np.full(160, value, dtype=np.int16)


def test_mix_sums_and_clips() -> None:
    assert mix(None, None) is None
    assert (mix(frame(5), None) == 5).all()
    assert (mix(frame(1000), frame(-300), frame(7)) == 707).all()
    assert (mix(frame(30000), frame(30000)) == 32767).all()
    assert (mix(frame(-30000), frame(-30000)) == -32768).all()
    assert mix(frame(1), frame(2)).dtype == np.int16  # type: ignore[union-attr]


@pytest.mark.parametrize("mode, caller_hears, agent_hears", [
    (LISTEN, 20, 1),
    (WHISPER, 20, 301),
    (BARGE, 320, 301),
])
def test_each_mode_says_who_hears_whom(mode: str, caller_hears: int, agent_hears: int) -> None:
    to_caller, to_agent, to_supervisor = mix_tick(frame(1), frame(20), frame(300), mode)
    assert to_caller is not None and int(to_caller[0]) == caller_hears
    assert to_agent is not None and int(to_agent[0]) == agent_hears
    assert to_supervisor is not None and int(to_supervisor[0]) == 21  # always caller + agent


def test_a_silent_leg_is_left_out_and_a_bad_mode_is_refused() -> None:
    assert mix_tick(None, None, frame(9), LISTEN) == (None, None, None)
    to_caller, to_agent, _ = mix_tick(None, None, frame(9), WHISPER)
    assert to_caller is None and to_agent is not None and int(to_agent[0]) == 9
    with pytest.raises(ValueError, match="unknown monitor mode"):
        mix_tick(None, None, None, "spy")


# --- the hub, on loopback RTP -----------------------------------------------------

_ports = itertools.count(0)


async def six_legs() -> tuple[MediaHub, list[RtpSession]]:
    base = 46000 + (next(_ports) % 10) * 60
    hub = MediaHub("127.0.0.1", (base, base + 60))
    await hub.start()
    s = [await hub.open_session() for _ in range(6)]
    codecs = [("PCMU", 0), ("PCMA", 8), ("PCMU", 0)]  # caller, agent, supervisor pairs
    for i in range(0, 6, 2):
        codec, pt = codecs[i // 2]
        s[i].configure(remote=("127.0.0.1", s[i + 1].port), codec=codec, audio_pt=pt,
                       dtmf_pt=None)
        s[i + 1].configure(remote=("127.0.0.1", s[i].port), codec=codec, audio_pt=pt,
                           dtmf_pt=None)
    return hub, s


def hears(frames: list[np.ndarray], hz: float) -> int:
    """Frames in which the tone ``hz`` is loud (well above G.711's noise)."""
    if not frames:
        return 0
    powers = tone_powers(np.stack(frames))[:, _INDEX[hz]]
    return int((powers > 1e5).sum())


async def test_the_hub_mixes_each_mode_and_ends_with_the_bridge() -> None:
    hub, (a, b, c, d, e, f) = await six_legs()
    heard: dict[str, list[np.ndarray]] = {"caller": [], "agent": [], "supervisor": []}
    hub.tap(a, lambda pcm: heard["caller"].append(pcm.copy()))
    hub.tap(d, lambda pcm: heard["agent"].append(pcm.copy()))
    hub.tap(f, lambda pcm: heard["supervisor"].append(pcm.copy()))
    ended: list[bool] = []

    async def phase(seconds: float = 0.5) -> dict[str, list[np.ndarray]]:
        for frames in heard.values():
            frames.clear()
        await asyncio.sleep(0.1)  # the frames in flight and in the jitter buffers
        for frames in heard.values():
            frames.clear()
        await asyncio.sleep(seconds)
        return {k: list(v) for k, v in heard.items()}

    try:
        a.player.play(EncodedAudio.from_pcm(tone(CALLER_HZ, 4000, -12.0)),
                      interruptible=False)
        d.player.play(EncodedAudio.from_pcm(tone(AGENT_HZ, 4000, -12.0)),
                      interruptible=False)
        f.player.play(EncodedAudio.from_pcm(tone(SUPERVISOR_HZ, 4000, -12.0)),
                      interruptible=False)
        hub.bridge(b, c)
        with pytest.raises(MediaError, match="not bridged"):
            hub.monitor(b, e, f, LISTEN)
        mix = hub.monitor(b, c, e, LISTEN, on_end=lambda: ended.append(True))
        with pytest.raises(MediaError, match="monitored already"):
            hub.monitor(b, c, f, LISTEN)
        got = await phase()
        assert hears(got["supervisor"], CALLER_HZ) > 15
        assert hears(got["supervisor"], AGENT_HZ) > 15
        assert hears(got["caller"], AGENT_HZ) > 15 and hears(got["agent"], CALLER_HZ) > 15
        assert hears(got["caller"], SUPERVISOR_HZ) == 0
        assert hears(got["agent"], SUPERVISOR_HZ) == 0

        mix.mode = WHISPER
        got = await phase()
        assert hears(got["agent"], SUPERVISOR_HZ) > 15  # the agent hears the whisper
        assert hears(got["agent"], CALLER_HZ) > 15
        assert hears(got["caller"], SUPERVISOR_HZ) == 0  # the caller never does
        assert hears(got["caller"], AGENT_HZ) > 15

        mix.mode = BARGE
        got = await phase()
        assert hears(got["caller"], SUPERVISOR_HZ) > 15
        assert hears(got["agent"], SUPERVISOR_HZ) > 15
        assert hears(got["supervisor"], CALLER_HZ) > 15

        hub.unbridge(b)  # the call ended: the monitor ends with it
        assert ended == [True]
        assert e not in hub._bridged and e.bridge_rx is None
        hub.bridge(b, c)
        got = await phase(0.3)
        assert hears(got["supervisor"], CALLER_HZ) == 0  # no longer mixed
    finally:
        await hub.stop()
