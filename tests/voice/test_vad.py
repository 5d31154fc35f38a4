"""The voice-activity detector that starts a spoken turn (bailanys.voice.vad)."""

from __future__ import annotations

import numpy as np

from bailanys.voice.vad import LEVEL, START_FRAMES, VoiceActivity


def _frame(rms: float) -> np.ndarray:
    t = np.arange(160) / 8000
    return (rms * np.sqrt(2) * np.sin(2 * np.pi * 300 * t)).astype(np.int16)


def test_silence_and_quiet_noise_never_start() -> None:
    vad = VoiceActivity()
    rng = np.random.default_rng(1)
    for _ in range(500):
        assert not vad.push((rng.normal(0, LEVEL / 4, 160)).astype(np.int16))
    assert not vad.push(np.zeros(0, dtype=np.int16))


def test_speech_level_starts_after_the_run_of_voiced_frames() -> None:
    vad = VoiceActivity()
    for _ in range(START_FRAMES - 1):
        assert not vad.push(_frame(LEVEL * 4))
    assert vad.push(_frame(LEVEL * 4))
    assert vad.push(np.zeros(160, dtype=np.int16))  # stays started


def test_a_click_shorter_than_the_run_does_not_start() -> None:
    vad = VoiceActivity()
    for _ in range(10):
        for _ in range(START_FRAMES - 1):
            vad.push(_frame(LEVEL * 10))
        vad.push(np.zeros(160, dtype=np.int16))
    assert not vad.started
