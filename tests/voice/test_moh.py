"""The generated music on hold: level, length, seamless ends, and no false keys."""

from __future__ import annotations

import numpy as np

from bailanys.media.goertzel import InbandDtmfDetector
from bailanys.voice.moh import SAMPLE_RATE, music_on_hold


def test_music_is_quiet_and_long_enough() -> None:
    pcm = music_on_hold()
    assert pcm.dtype == np.int16
    assert len(pcm) / SAMPLE_RATE > 20
    peak_dbfs = 20 * np.log10(np.max(np.abs(pcm)) / 32767)
    assert -21 < peak_dbfs < -19
    assert abs(int(pcm[0])) < 50 and abs(int(pcm[-1])) < 50  # loops without a click


def test_music_is_deterministic() -> None:
    assert np.array_equal(music_on_hold(), music_on_hold())


def test_music_is_never_heard_as_a_key() -> None:
    pcm = music_on_hold(repeats=3)
    frames = pcm[: len(pcm) // 160 * 160].reshape(-1, 160)
    detector = InbandDtmfDetector(1)
    digits = []
    for frame in frames:
        digits += detector.feed(np.array([0]), frame.reshape(1, 160))
    assert digits == []
