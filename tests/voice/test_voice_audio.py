"""Pure audio helpers and WAV I/O (bailanys.voice.audio)."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
import pytest

from bailanys.errors import VoiceError
from bailanys.voice.audio import (
    SAMPLE_RATE,
    concat,
    load_prompt,
    resample,
    rms_dbfs,
    silence,
    tone,
    write_wav,
)


def _peak_hz(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(samples.size, 1.0 / rate)[int(np.argmax(spectrum))])


def _write_raw(path: Path, data: np.ndarray, rate: int, channels: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.astype("<i2").tobytes())


@pytest.mark.parametrize(("ms", "n"), [(0, 0), (1, 8), (20, 160), (1000, 8000), (0.0625, 0)])
def test_silence(ms: float, n: int) -> None:
    s = silence(ms)
    assert s.dtype == np.int16 and s.size == n and not s.any()


def test_silence_rejects_negative() -> None:
    with pytest.raises(ValueError):
        silence(-1)


@pytest.mark.parametrize(("freq", "level"), [(425.0, -10.0), (1000.0, -20.0), (3000.0, -3.0)])
def test_tone_frequency_and_level(freq: float, level: float) -> None:
    t = tone(freq, 1000, level, ramp_ms=0)
    assert t.dtype == np.int16 and t.size == 8000
    assert _peak_hz(t) == pytest.approx(freq, abs=1.0)
    # RMS of a sine is its peak minus 3.01 dB.
    assert rms_dbfs(t) == pytest.approx(level - 3.01, abs=0.05)


def test_tone_is_ramped() -> None:
    t = tone(1000, 100, -6)
    assert abs(int(t[0])) < 100 and abs(int(t[-1])) < 300
    assert int(np.abs(t).max()) > 15000


@pytest.mark.parametrize(("freq", "level"), [(0, -10), (4000, -10), (5000, -10), (1000, 1)])
def test_tone_rejects(freq: float, level: float) -> None:
    with pytest.raises(ValueError):
        tone(freq, 100, level)


def test_concat_with_gap() -> None:
    a = np.ones(10, dtype=np.int16)
    b = np.full(5, 2, dtype=np.int16)
    out = concat(a, b, a, gap_ms=1)
    assert out.dtype == np.int16
    assert out.tolist() == [1] * 10 + [0] * 8 + [2] * 5 + [0] * 8 + [1] * 10
    assert concat().size == 0
    assert concat(a).tolist() == [1] * 10


def test_resample_22050_to_8000_length_and_pitch() -> None:
    n = 22050
    x = 10000 * np.sin(2 * np.pi * 440 * np.arange(n) / 22050)
    y = resample(x.astype(np.int16), 22050)
    assert y.dtype == np.int16 and y.size == 8000
    assert _peak_hz(y) == pytest.approx(440, abs=1)


def test_resample_filters_above_nyquist() -> None:
    # A 6 kHz tone cannot exist at 8 kHz: it must be filtered, not aliased to 2 kHz.
    x = 16000 * np.sin(2 * np.pi * 6000 * np.arange(22050) / 22050)
    y = resample(x.astype(np.int16), 22050)
    assert rms_dbfs(y) < -50


def test_rms_dbfs_of_silence() -> None:
    assert rms_dbfs(silence(10)) == -math.inf
    assert rms_dbfs(silence(0)) == -math.inf


def test_write_then_load_round_trip(tmp_path: Path) -> None:
    pcm = tone(700, 250, -12)
    path = tmp_path / "sub" / "p.wav"
    write_wav(path, pcm)
    assert [p.name for p in path.parent.iterdir()] == ["p.wav"]  # no temp left behind
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
    assert np.array_equal(load_prompt(path), pcm)


def test_load_converts_stereo_and_rate(tmp_path: Path) -> None:
    left = (8000 * np.sin(2 * np.pi * 500 * np.arange(16000) / 16000)).astype(np.int16)
    stereo = np.column_stack([left, left]).reshape(-1)
    path = tmp_path / "s.wav"
    _write_raw(path, stereo, 16000, 2)
    out = load_prompt(path)
    assert out.dtype == np.int16 and out.size == 8000
    assert _peak_hz(out) == pytest.approx(500, abs=1)
    assert rms_dbfs(out) == pytest.approx(rms_dbfs(left), abs=0.2)


def test_load_rejects_bad_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not a wav at all")
    with pytest.raises(VoiceError, match="junk.wav"):
        load_prompt(junk)
    with pytest.raises(VoiceError, match="missing.wav"):
        load_prompt(tmp_path / "missing.wav")
    eight_bit = tmp_path / "u8.wav"
    with wave.open(str(eight_bit), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes(80))
    with pytest.raises(VoiceError, match="8 bits"):
        load_prompt(eight_bit)
