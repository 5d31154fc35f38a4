"""In-band DTMF (Q.23/Q.24): synthesised digits clean and in noise, real speech, debounce."""

from __future__ import annotations

import difflib
import math
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from bailanys.media.dtmf4733 import DIGITS
from bailanys.media.goertzel import (
    COL_FREQS,
    DEFAULT_CONFIG,
    FRAME_SAMPLES,
    KEYPAD,
    ROW_FREQS,
    InbandDtmfDetector,
    classify_frames,
    dbm0_to_amplitude,
    tone_powers,
)

FS = 8000
Frames = NDArray[np.int16]


def tone_pair(
    code: int,
    n: int,
    *,
    row_dbm0: float = -10.0,
    col_dbm0: float = -10.0,
    phases: tuple[float, float] = (0.0, 0.0),
) -> NDArray[np.float64]:
    r, c = (int(v) for v in np.argwhere(KEYPAD == code)[0])
    t = np.arange(n) / FS
    return dbm0_to_amplitude(row_dbm0) * np.sin(
        2 * np.pi * ROW_FREQS[r] * t + phases[0]
    ) + dbm0_to_amplitude(col_dbm0) * np.sin(2 * np.pi * COL_FREQS[c] * t + phases[1])


def to_frames(x: NDArray[np.float64]) -> Frames:
    x = x[: x.size // FRAME_SAMPLES * FRAME_SAMPLES]
    return np.clip(np.round(x), -32768, 32767).astype(np.int16).reshape(-1, FRAME_SAMPLES)


def synth_call(rng: np.random.Generator, n_digits: int, snr_db: float | None) -> tuple[Frames, str]:
    """A call's audio: digits of 40-100 ms, gaps of 60-120 ms, random frame alignment.

    Random phases; twist uniform in Q.24's limits (row up to 8 dB stronger,
    column up to 4 dB stronger); both tones between -25 and -3 dBm0.  Noise
    (if any) is white Gaussian at ``snr_db`` below the two tones' power,
    over the whole call.
    """
    parts = [np.zeros(int(rng.integers(0, FRAME_SAMPLES)))]
    truth = []
    for _ in range(n_digits):
        code = int(rng.integers(16))
        truth.append(DIGITS[code])
        twist = rng.uniform(-4.0, 8.0)  # row level minus column level
        row = rng.uniform(-25.0 + max(twist, 0.0), -3.0 + min(twist, 0.0))
        n = int(rng.uniform(40, 100) * FS / 1000)
        x = tone_pair(
            code,
            n,
            row_dbm0=row,
            col_dbm0=row - twist,
            phases=(rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi)),
        )
        seg = np.concatenate([x, np.zeros(int(rng.uniform(60, 120) * FS / 1000))])
        if snr_db is not None:
            power = (dbm0_to_amplitude(row) ** 2 + dbm0_to_amplitude(row - twist) ** 2) / 2
            seg += rng.normal(0.0, math.sqrt(power / 10 ** (snr_db / 10)), seg.size)
        parts.append(seg)
    return to_frames(np.concatenate(parts)), "".join(truth)


def run_calls(calls: list[Frames], detector: InbandDtmfDetector | None = None) -> list[str]:
    """Feed all calls tick by tick (one frame per call per tick), as the media loop does."""
    det = detector or InbandDtmfDetector(len(calls))
    got = [""] * len(calls)
    lengths = np.array([len(c) for c in calls])
    for t in range(int(lengths.max())):
        slots = np.flatnonzero(lengths > t)
        frames = np.stack([calls[s][t] for s in slots])
        for slot, digit in det.feed(slots, frames):
            got[slot] += digit
    return got


def score(got: list[str], truth: list[str]) -> tuple[int, int, int]:
    """(detected, missed, extra) digits, by sequence alignment per call."""
    hit = miss = extra = 0
    for g, t in zip(got, truth, strict=True):
        sm = difflib.SequenceMatcher(a=t, b=g, autojunk=False)
        m = sum(b.size for b in sm.get_matching_blocks())
        hit += m
        miss += len(t) - m
        extra += len(g) - m
    return hit, miss, extra


# ---------------------------------------------------------------- powers


def test_tone_powers_measure_mean_square_at_each_frequency() -> None:
    freqs = ROW_FREQS + COL_FREQS
    t = np.arange(FRAME_SAMPLES) / FS
    for k, f in enumerate(freqs):
        x = 1000.0 * np.cos(2 * np.pi * f * t + 0.3)
        p = tone_powers(x[None, :].astype(np.float32))[0]
        assert p.shape == (16,)
        assert p[k] == pytest.approx(1000.0**2 / 2, rel=0.02)
        others = np.delete(p[:8], k)
        assert others.max() < p[k] / 10  # neighbours leak less than -10 dB


def test_keypad_layout() -> None:
    assert "".join(DIGITS[c] for c in KEYPAD.ravel()) == "123A456B789C*0#D"


# ---------------------------------------------------------------- per frame


def test_every_digit_on_full_frames() -> None:
    frames = np.concatenate([to_frames(tone_pair(code, 480)) for code in range(16)])
    codes = classify_frames(frames)
    assert codes.dtype == np.int8
    assert codes.tolist() == [c for c in range(16) for _ in range(3)]


def test_silence_single_tones_and_low_levels_are_not_digits() -> None:
    t = np.arange(FRAME_SAMPLES) / FS
    frames = [
        np.zeros(FRAME_SAMPLES),
        dbm0_to_amplitude(-10) * np.sin(2 * np.pi * 697 * t),
        dbm0_to_amplitude(-10) * np.sin(2 * np.pi * 1336 * t),
        dbm0_to_amplitude(-10) * np.sin(2 * np.pi * 1000 * t),  # the test tone
        tone_pair(5, FRAME_SAMPLES, row_dbm0=-45, col_dbm0=-45),  # under the threshold
    ]
    assert classify_frames(to_frames(np.concatenate(frames))).tolist() == [-1] * 5


def test_twist_limits() -> None:
    def code(row: float, col: float) -> int:
        return int(
            classify_frames(to_frames(tone_pair(8, FRAME_SAMPLES, row_dbm0=row, col_dbm0=col)))[0]
        )

    assert code(-10, -18) == 8  # normal twist 8 dB: accepted (Q.24)
    assert code(-14, -10) == 8  # reverse twist 4 dB: accepted
    assert code(-6, -20) == -1  # normal twist 14 dB
    assert code(-20, -10) == -1  # reverse twist 10 dB


def test_two_rows_at_once_are_not_a_digit() -> None:
    t = np.arange(FRAME_SAMPLES) / FS
    a = dbm0_to_amplitude(-10)
    x = a * (
        np.sin(2 * np.pi * 697 * t) + np.sin(2 * np.pi * 852 * t) + np.sin(2 * np.pi * 1209 * t)
    )
    assert classify_frames(to_frames(x))[0] == -1


def test_tones_buried_in_broadband_energy_are_not_digits() -> None:
    rng = np.random.default_rng(1)
    x = tone_pair(1, FRAME_SAMPLES, row_dbm0=-20, col_dbm0=-20)
    x += rng.normal(0, dbm0_to_amplitude(-12), FRAME_SAMPLES)  # noise 8 dB above the tones
    assert classify_frames(to_frames(x))[0] == -1


def test_strong_second_harmonic_rejects() -> None:
    t = np.arange(FRAME_SAMPLES) / FS
    a = dbm0_to_amplitude(-10)
    # 941 Hz + 1477 Hz is "#"; add 2 x 1477 Hz as a voiced sound would.
    x = a * (np.sin(2 * np.pi * 941 * t) + np.sin(2 * np.pi * 1477 * t))
    assert classify_frames(to_frames(x))[0] == DIGITS.index("#")
    x += a * np.sin(2 * np.pi * 2954 * t)
    assert classify_frames(to_frames(x))[0] == -1


def test_classify_validation_and_empty() -> None:
    assert classify_frames(np.zeros((0, FRAME_SAMPLES), np.int16)).shape == (0,)
    with pytest.raises(ValueError):
        classify_frames(np.zeros(FRAME_SAMPLES, np.int16))


# ---------------------------------------------------------------- synthesised digits


def test_synthesised_digits_clean_all_detected() -> None:
    rng = np.random.default_rng(23)
    calls, truth = zip(*(synth_call(rng, 12, None) for _ in range(100)), strict=True)
    assert set("".join(truth)) == set(DIGITS)
    hit, miss, extra = score(run_calls(list(calls)), list(truth))
    assert (hit, miss, extra) == (1200, 0, 0)


def test_synthesised_digits_at_10db_snr() -> None:
    rng = np.random.default_rng(10)
    calls, truth = zip(*(synth_call(rng, 12, 10.0) for _ in range(100)), strict=True)
    hit, miss, extra = score(run_calls(list(calls)), list(truth))
    assert hit + miss == 1200
    assert hit / 1200 >= 0.99, (hit, miss, extra)
    assert extra == 0


# ---------------------------------------------------------------- debounce


def frames_of(codes: str) -> Frames:
    """One frame per character: a digit's tone, or '.' for silence."""
    out = [
        np.zeros(FRAME_SAMPLES) if ch == "." else tone_pair(DIGITS.index(ch), FRAME_SAMPLES)
        for ch in codes
    ]
    return to_frames(np.concatenate(out))


def feed_one_slot(det: InbandDtmfDetector, slot: int, frames: Frames) -> str:
    out = ""
    for f in frames:
        out += "".join(d for _, d in det.feed(np.array([slot]), f[None, :]))
    return out


def test_debounce_two_frames_once_per_run() -> None:
    det = InbandDtmfDetector(4)
    assert feed_one_slot(det, 0, frames_of("5")) == ""
    assert feed_one_slot(det, 0, frames_of("5")) == "5"
    assert feed_one_slot(det, 0, frames_of("5555")) == ""
    assert feed_one_slot(det, 0, frames_of(".55.5.55")) == "55"
    assert feed_one_slot(det, 0, frames_of("1122##")) == "12#"


def test_single_frame_blips_are_ignored() -> None:
    det = InbandDtmfDetector(1)
    assert feed_one_slot(det, 0, frames_of("1.2.3.4.1212")) == ""


def test_slots_are_independent() -> None:
    det = InbandDtmfDetector(3)
    a = frames_of("77..")
    b = frames_of(".99.")
    got = []
    for t in range(4):
        got += det.feed(np.array([2, 0]), np.stack([a[t], b[t]]))
    assert got == [(2, "7"), (0, "9")]


def test_reset_slot() -> None:
    det = InbandDtmfDetector(2)
    assert feed_one_slot(det, 1, frames_of("33")) == "3"
    det.reset(1)
    assert feed_one_slot(det, 1, frames_of("3")) == ""
    assert feed_one_slot(det, 1, frames_of("3")) == "3"


def test_repeated_slots_in_one_feed_are_taken_in_order() -> None:
    det = InbandDtmfDetector(3)
    f = frames_of("88.88")
    g = frames_of("DD")
    slots = np.array([1, 1, 0, 1, 1, 0, 1])
    frames = np.stack([f[0], f[1], g[0], f[2], f[3], g[1], f[4]])
    assert det.feed(slots, frames) == [(1, "8"), (0, "D"), (1, "8")]
    # The state carried over: the run of 8 continues without a new report.
    assert feed_one_slot(det, 1, frames_of("8")) == ""


def test_feed_validation() -> None:
    det = InbandDtmfDetector(2)
    with pytest.raises(ValueError):
        InbandDtmfDetector(0)
    assert det.feed(np.array([], dtype=np.intp), np.zeros((0, FRAME_SAMPLES), np.int16)) == []
    with pytest.raises(ValueError):
        det.feed(np.array([2]), np.zeros((1, FRAME_SAMPLES), np.int16))
    with pytest.raises(ValueError):
        det.feed(np.array([-1]), np.zeros((1, FRAME_SAMPLES), np.int16))
    with pytest.raises(ValueError):
        det.feed(np.array([0, 1]), np.zeros((1, FRAME_SAMPLES), np.int16))
    assert det.feed([0, 1], np.zeros((2, FRAME_SAMPLES), np.int16)) == []


def test_custom_config_is_used() -> None:
    strict = replace(DEFAULT_CONFIG, min_tone_dbm0=-5.0)
    det = InbandDtmfDetector(1, strict)
    assert feed_one_slot(det, 0, frames_of("44")) == ""  # -10 dBm0 tones now too quiet


# ---------------------------------------------------------------- real speech

SOUNDS = Path("/usr/share/asterisk/sounds/ru")
PROMPTS = sorted(SOUNDS.rglob("*.wav")) if SOUNDS.is_dir() else []


def read_prompt(path: Path) -> Frames:
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    if rate != FS:
        from scipy.signal import resample_poly

        g = math.gcd(FS, rate)
        x = resample_poly(x.astype(np.float64), FS // g, rate // g)
    return to_frames(x.astype(np.float64))


@pytest.mark.skipif(
    not PROMPTS,
    reason="Debian package asterisk-core-sounds-ru-wav (/usr/share/asterisk/sounds/ru) "
    "is not installed",
)
def test_no_false_digits_on_russian_asterisk_prompts() -> None:
    """All prompts (576 files, ~25 minutes of speech), one call per prompt: no digit at all."""
    calls = [read_prompt(p) for p in PROMPTS]
    assert len(calls) >= 500
    assert sum(len(c) for c in calls) * 0.02 > 20 * 60  # over 20 minutes
    got = run_calls(calls)
    false = {p.name: g for p, g in zip(PROMPTS, got, strict=True) if g}
    assert false == {}
