"""Call recording with a real peer: SIPp streams tones, the engine plays prompts.

The recorder writes one stereo 8 kHz WAV per call: left = what the caller
sent, right = what the engine sent, aligned in time.
"""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.peers.conftest import (
    EngineFactory,
    events_of,
    needs_sipp,
    sipp,
    wait_until_idle,
)
from tests.peers.test_engine_calls import INBAND_NAME, dtmf_wav

pytestmark = [pytest.mark.peer, needs_sipp]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if len(x) else 0.0


async def test_call_is_recorded_as_stereo_wav(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    engine = await engine_factory(media={"record_calls": True})
    plan: list[tuple[str | None, float]] = [(None, 1.0), ("2", 0.1), (None, 1.2)]
    for key in "123#":
        plan += [(key, 0.1), (None, 0.25)]
    plan.append((None, 0.5))
    seconds = dtmf_wav(tmp_path / INBAND_NAME, plan)
    res = await sipp(engine, "engine_inband.xml", tmp_path, duration_ms=int(seconds * 1000) + 300)
    assert res.ok, res.describe()
    assert await wait_until_idle(engine)
    for _ in range(100):  # the recorder closes its file in a worker thread
        if not engine.hub._closing:
            break
        await asyncio.sleep(0.05)
    (ended,) = await events_of(engine, "call.ended")
    path = Path(engine.config.media.record_dir) / f"{ended.call_id}.wav"
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 8000)
        frames = wav.getnframes()
        audio = np.frombuffer(wav.readframes(frames), dtype="<i2").reshape(-1, 2)
    duration = frames / 8000
    assert abs(duration - float(ended.data["duration"])) < 1.0, (duration, ended.data)
    caller, engine_side = audio[:, 0], audio[:, 1]
    assert _rms(caller) > 300  # the keypad tones SIPp sent
    assert _rms(engine_side) > 300  # the greeting and menu prompts
    # Between the tones the caller's channel is quiet: it is not filled with
    # the engine's audio (the channels are kept apart).
    assert float(np.mean(np.abs(caller) < 100)) > 0.3
