"""Prompt audio: 8 kHz 16-bit mono PCM as numpy ``int16`` arrays.

Pure helpers (no asyncio): silence, tones, concatenation, resampling, and
reading/writing the WAV files that hold rendered prompts.

Everything a caller hears is 8 kHz mono, the G.711 rate (ITU-T G.711 §1;
RFC 3551 §4.5.14 PCMU/PCMA clock rate 8000). Resampling uses
``scipy.signal.resample_poly`` (polyphase FIR with an anti-alias low-pass);
pydub's ``set_frame_rate`` is never used because it does not filter.
"""

from __future__ import annotations

import math
import os
import tempfile
import wave
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.signal import resample_poly

from bailanys.errors import VoiceError

Pcm = NDArray[np.int16]

#: G.711 sampling rate (ITU-T G.711 §1, RFC 3551 §4.5.14).
SAMPLE_RATE: Final = 8000
#: Full scale of a 16-bit sample; a sine with this peak is 0 dBFS.
FULL_SCALE: Final = 32767
#: Default beep level: -10 dBFS leaves headroom after G.711 companding.
DEFAULT_TONE_DBFS: Final = -10.0
#: Fade in/out of tones so a beep does not click (5 ms: a common choice
#: that is shorter than any audible envelope yet removes the step).
TONE_RAMP_MS: Final = 5.0


def samples_for(ms: float, rate: int = SAMPLE_RATE) -> int:
    """Number of samples in ``ms`` milliseconds at ``rate`` (rounded)."""
    if ms < 0:
        raise ValueError(f"duration must be >= 0 ms, got {ms}")
    return round(rate * ms / 1000.0)


def silence(ms: float) -> Pcm:
    """``ms`` milliseconds of digital silence at 8 kHz."""
    return np.zeros(samples_for(ms), dtype=np.int16)


def tone(
    freq_hz: float,
    ms: float,
    level_dbfs: float = DEFAULT_TONE_DBFS,
    *,
    ramp_ms: float = TONE_RAMP_MS,
) -> Pcm:
    """A sine of ``freq_hz`` for ``ms`` at ``level_dbfs`` (peak, 0 dBFS = full scale).

    The start and end are shaped by a raised-cosine ramp of ``ramp_ms``.
    """
    if not 0 < freq_hz < SAMPLE_RATE / 2:
        raise ValueError(f"tone frequency must be in (0, {SAMPLE_RATE // 2}) Hz, got {freq_hz}")
    if level_dbfs > 0:
        raise ValueError(f"tone level must be <= 0 dBFS, got {level_dbfs}")
    n = samples_for(ms)
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    amplitude = FULL_SCALE * 10.0 ** (level_dbfs / 20.0)
    wave_ = amplitude * np.sin(2.0 * math.pi * freq_hz * t)
    ramp = min(samples_for(ramp_ms), n // 2)
    if ramp > 0:
        env = 0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, ramp, endpoint=False))
        wave_[:ramp] *= env
        wave_[n - ramp :] *= env[::-1]
    return to_int16(wave_)


def concat(*arrays: Pcm, gap_ms: float = 0.0) -> Pcm:
    """Join 8 kHz arrays end to end with ``gap_ms`` of silence between them."""
    if not arrays:
        return np.zeros(0, dtype=np.int16)
    gap = silence(gap_ms)
    parts: list[Pcm] = []
    for i, a in enumerate(arrays):
        if i and gap.size:
            parts.append(gap)
        parts.append(np.asarray(a, dtype=np.int16))
    joined: Pcm = np.concatenate(parts)
    return joined


def to_int16(samples: NDArray[np.floating] | NDArray[np.integer]) -> Pcm:
    """Round and clip to the int16 range."""
    rounded = np.rint(np.asarray(samples, dtype=np.float64))
    out: Pcm = np.clip(rounded, -32768, 32767).astype(np.int16)
    return out


def resample(samples: NDArray[np.integer] | NDArray[np.floating], rate: int) -> Pcm:
    """Resample mono ``samples`` from ``rate`` to 8 kHz with an anti-alias filter.

    The ratio is reduced by the gcd, so 22050 Hz (espeak-ng) becomes
    up=160, down=441 exactly.
    """
    if rate <= 0:
        raise ValueError(f"sample rate must be > 0, got {rate}")
    if rate == SAMPLE_RATE:
        return to_int16(np.asarray(samples))
    g = math.gcd(SAMPLE_RATE, rate)
    out = resample_poly(np.asarray(samples, dtype=np.float64), SAMPLE_RATE // g, rate // g)
    return to_int16(out)


def rms_dbfs(samples: Pcm) -> float:
    """RMS level relative to full scale (``-inf`` for silence or empty input)."""
    if samples.size == 0:
        return -math.inf
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64)))))
    return 20.0 * math.log10(rms / FULL_SCALE) if rms > 0 else -math.inf


def read_wav(path: Path) -> tuple[NDArray[np.int16], int, int]:
    """Read a 16-bit PCM WAV: ``(interleaved samples, channels, rate)``."""
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            frames = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error) as e:
        raise VoiceError(f"{path}: cannot read WAV: {e}") from e
    if width != 2:
        raise VoiceError(f"{path}: sample width is {8 * width} bits, expected 16")
    data = np.frombuffer(frames, dtype="<i2").astype(np.int16)
    return data, channels, rate


def load_prompt(path: Path) -> Pcm:
    """Load a prompt as 8 kHz mono int16, converting other rates and stereo.

    Stereo (or more) is averaged to mono; other rates go through
    :func:`resample`.
    """
    data, channels, rate = read_wav(path)
    if channels > 1:
        usable = data[: data.size - data.size % channels].reshape(-1, channels)
        data = to_int16(usable.astype(np.float64).mean(axis=1))
    return resample(data, rate) if rate != SAMPLE_RATE else data


def write_wav(path: Path, samples: Pcm) -> None:
    """Write 8 kHz mono int16 atomically: a temp file beside ``path``, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f, wave.open(f, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; prompts are not secret
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
