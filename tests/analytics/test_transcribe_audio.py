"""Reading a recording's channel and finding its speech (bailanys.analytics.audio).

Bad recordings become a TranscriptionError with a short reason, never a
crash or a hang (a FIFO is refused before it is opened).
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

from bailanys.analytics.audio import (
    FRAME_S,
    JOIN_GAP_S,
    LEVEL,
    MIN_SPEECH_FRAMES,
    PAD_S,
    RATE,
    Region,
    read_channel,
    speech_regions,
)
from bailanys.analytics.model import Channel
from bailanys.analytics.transcribe import transcribe_channel
from bailanys.errors import TranscriptionError, VoiceError

FRAME = round(RATE * FRAME_S)
PAD = round(PAD_S * RATE)


def voiced(seconds: float, rms: float = LEVEL * 4) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (rms * np.sqrt(2) * np.sin(2 * np.pi * 300 * t)).astype(np.int16)


def quiet(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), dtype=np.int16)


def write(path: Path, frames: np.ndarray, *, channels: int = 2, rate: int = RATE,
          width: int = 2) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())
    return path


# ------------------------------------------------------------------ reading


def test_each_channel_is_read_from_its_side(tmp_path: Path) -> None:
    left, right = voiced(0.5), quiet(0.5)
    right[100] = 7
    path = write(tmp_path / "a.wav", np.stack([left, right], axis=1).astype("<i2"))
    pcm, seconds = read_channel(path, Channel.CALLER)
    assert np.array_equal(pcm, left) and seconds == pytest.approx(0.5)
    pcm, _ = read_channel(path, Channel.AGENT)
    assert np.array_equal(pcm, right)


def test_mono_is_the_callers_side_only(tmp_path: Path) -> None:
    path = write(tmp_path / "m.wav", voiced(0.3), channels=1)
    pcm, _ = read_channel(path, Channel.CALLER)
    assert pcm.size == round(0.3 * RATE)
    with pytest.raises(TranscriptionError, match="mono WAV has no agent channel"):
        read_channel(path, Channel.AGENT)


def _stereo(tmp_path: Path, seconds: float = 1.0) -> Path:
    x = voiced(seconds)
    return write(tmp_path / "s.wav", np.stack([x, x], axis=1).astype("<i2"))


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    good = _stereo(tmp_path).read_bytes()
    cases = {
        "empty file": b"",
        "not a WAV file": b"this is a transcript, not audio\n" * 4,
        "truncated WAV": good[: len(good) // 2],
    }
    out = {reason: tmp_path / f"{i}.wav" for i, reason in enumerate(cases)}
    for reason, path in out.items():
        path.write_bytes(cases[reason])
    out["truncated WAV (header cut)"] = tmp_path / "h.wav"
    out["truncated WAV (header cut)"].write_bytes(good[:30])
    out["not 8 kHz (16000 Hz)"] = write(tmp_path / "r.wav", quiet(0.2), channels=1, rate=16000)
    out["not 16-bit PCM"] = write(tmp_path / "w.wav", np.zeros(800, np.uint8), channels=1,
                                  width=1)
    out["not mono or stereo (3 channels)"] = write(tmp_path / "c.wav", quiet(0.3), channels=3)
    out["no such recording"] = tmp_path / "missing.wav"
    out["not a regular file"] = tmp_path
    return out


def test_bad_recordings_give_a_plain_reason(tmp_path: Path) -> None:
    for reason, path in _bad_files(tmp_path).items():
        with pytest.raises(TranscriptionError) as caught:
            read_channel(path, Channel.CALLER)
        assert caught.value.reason == reason.split(" (header")[0], path
        assert isinstance(caught.value, VoiceError)


def test_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)  # opening it for reading would block for ever
    with pytest.raises(TranscriptionError, match="not a regular file"):
        transcribe_channel(fifo, Channel.CALLER, None, {"ko": tmp_path})


def test_missing_model_is_a_reason_before_any_audio_is_read(tmp_path: Path) -> None:
    path = _stereo(tmp_path)
    with pytest.raises(TranscriptionError, match="^no model for kk$"):
        transcribe_channel(path, Channel.CALLER, "kk", {"ru": tmp_path})
    with pytest.raises(TranscriptionError, match="^no speech model$"):
        transcribe_channel(path, Channel.CALLER, None, {})


def test_a_folder_that_is_no_model_fails_with_a_reason(tmp_path: Path) -> None:
    path = _stereo(tmp_path)
    (tmp_path / "notamodel").mkdir()
    with pytest.raises(TranscriptionError, match="cannot load the model notamodel"):
        transcribe_channel(path, Channel.CALLER, "kk", {"kk": tmp_path / "notamodel"})


# ------------------------------------------------------------------ regions


def test_silence_and_quiet_noise_have_no_regions() -> None:
    rng = np.random.default_rng(3)
    noise = rng.normal(0, LEVEL / 4, RATE * 3).astype(np.int16)
    assert speech_regions(quiet(3.0)) == []
    assert speech_regions(noise) == []
    assert speech_regions(np.zeros(0, dtype=np.int16)) == []


def test_one_word_is_one_region_with_padding_and_true_offsets() -> None:
    pcm = np.concatenate([quiet(2.0), voiced(0.5), quiet(2.0)])
    [region] = speech_regions(pcm)
    assert region == Region(2 * RATE - PAD, round(2.5 * RATE) + PAD)


def test_a_click_shorter_than_the_run_is_not_speech() -> None:
    click = voiced(FRAME_S * (MIN_SPEECH_FRAMES - 1))
    assert speech_regions(np.concatenate([quiet(1.0), click, quiet(1.0)])) == []
    word = voiced(FRAME_S * MIN_SPEECH_FRAMES)
    assert len(speech_regions(np.concatenate([quiet(1.0), word, quiet(1.0)]))) == 1


def test_short_pauses_join_long_pauses_split() -> None:
    short = JOIN_GAP_S - 2 * FRAME_S
    long = JOIN_GAP_S + 2 * PAD_S + 0.2
    joined = np.concatenate([quiet(1), voiced(0.4), quiet(short), voiced(0.4), quiet(1)])
    assert len(speech_regions(joined)) == 1
    split = np.concatenate([quiet(1), voiced(0.4), quiet(long), voiced(0.4), quiet(1)])
    first, second = speech_regions(split)
    assert first.end < second.start


def test_regions_are_clipped_to_the_signal_and_never_overlap() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        parts = [voiced(rng.uniform(0.01, 0.8)) if rng.random() < 0.5 else
                 quiet(rng.uniform(0.01, 1.2)) for _ in range(12)]
        pcm = np.concatenate(parts)
        regions = speech_regions(pcm)
        assert all(0 <= r.start < r.end <= pcm.size for r in regions)
        assert all(a.end < b.start for a, b in zip(regions, regions[1:], strict=False))
        loud = np.flatnonzero(np.abs(pcm) > LEVEL * 2)
        covered = np.zeros(pcm.size, dtype=bool)
        for r in regions:
            covered[r.start : r.end] = True
        # Every voiced run long enough to count lies inside a region.
        runs = [p for p in parts if p.any() and p.size >= MIN_SPEECH_FRAMES * FRAME * 2]
        assert not runs or covered[loud].mean() > 0.8


def test_speech_at_the_very_ends_is_kept() -> None:
    pcm = np.concatenate([voiced(0.3), quiet(2.0), voiced(0.3)])
    first, last = speech_regions(pcm)
    assert first.start == 0 and last.end == pcm.size


# ------------------------------------------------------------------ models


def _model(path: Path) -> Path:
    (path / "am").mkdir(parents=True)
    (path / "am" / "final.mdl").touch()
    (path / "conf").mkdir()
    return path


def test_analytics_models_first_then_the_menus_models(tmp_path: Path) -> None:
    from bailanys.analytics.transcribe import find_models

    big_ru = _model(tmp_path / "analytics" / "ru" / "vosk-model-ru-0.42")
    small_kk = _model(tmp_path / "menus" / "kk" / "vosk-model-small-kz-0.15")
    _model(tmp_path / "menus" / "ru" / "vosk-model-small-ru-0.22")
    assert find_models(tmp_path / "analytics", ["kk", "ru"], {}) == {"ru": big_ru}
    assert find_models(tmp_path / "analytics", ["kk", "ru"], {},
                       fallback_dir=tmp_path / "menus") == {"kk": small_kk, "ru": big_ru}
    other = _model(tmp_path / "elsewhere")
    env = {"VOSK_ANALYTICS_MODEL_KK": str(other), "VOSK_MODEL_RU": str(small_kk)}
    assert find_models(tmp_path / "analytics", ["kk", "ru"], env,
                       fallback_dir=tmp_path / "menus") == {"kk": other, "ru": big_ru}
    assert find_models(tmp_path / "none", ["kk"], {}) == {}


def test_a_header_claiming_hours_is_refused_before_memory_is_taken(tmp_path: Path) -> None:
    import struct

    path = write(tmp_path / "big.wav", quiet(0.1), channels=2)
    data = bytearray(path.read_bytes())
    at = data.index(b"data") + 4
    data[at : at + 4] = struct.pack("<I", 0xFFFF_FFF0)  # ~6 h of stereo claimed, 0.1 s there
    path.write_bytes(bytes(data))
    with pytest.raises(TranscriptionError, match="^truncated WAV$"):
        read_channel(path, Channel.CALLER)


def test_the_pieces_fed_to_vosk_are_the_one_shot_resampling_in_fixed_pieces() -> None:
    from bailanys.analytics import recogniser as t
    from bailanys.voice.resample import upsample

    rng = np.random.default_rng(5)
    for n in (0, 1, 100, t._UPSAMPLE_BLOCK - 3, 2 * t._UPSAMPLE_BLOCK + 777):
        pcm = rng.integers(-20000, 20000, n).astype(np.int16)
        pieces = list(t._pieces(pcm))
        assert all(len(p) == t._PIECE_BYTES for p in pieces[:-1])
        joined = np.frombuffer(b"".join(pieces), dtype="<i2")
        expected = np.clip(np.rint(upsample(pcm)), -32768, 32767)
        assert joined.size == 2 * n
        assert np.abs(joined.astype(np.int64) - expected.astype(np.int64)).max(initial=0) <= 1
