"""A voice talent's recording made ready for the line: decoded, 8 kHz mono, trimmed, levelled.

Blocking and pure but for the decoding (pydub runs ``ffmpeg``, Debian's
package, for MP3, OGG and M4A; a WAV is read by pydub itself). Run it in a
thread. The steps, in order:

1. **decode** any format ffmpeg reads; refuse what it cannot (not audio),
   what is empty, and what lasts over :data:`MAX_SOURCE_S`;
2. **mono, 8 kHz**: channels averaged, resampled with the anti-alias
   filter of :func:`bailanys.voice.audio.resample` (never pydub's
   ``set_frame_rate``, which does not filter);
3. **trim** silence at both ends: a 10 ms frame is silence when its RMS is
   more than :data:`TRIM_BELOW_PEAK_DB` (40 dB) below the loudest frame's,
   so a quiet recording is trimmed like a loud one; :data:`TRIM_MARGIN_MS`
   (100 ms) is kept before the first and after the last sound frame so
   that a breath-soft onset is not cut;
4. **normalise loudness** to :data:`TARGET_DBFS` (−16 dBFS) gated RMS, an
   unweighted stand-in for −16 LUFS integrated: the RMS over the 10 ms
   frames within 40 dB of the loudest (the speech, not its pauses, as
   LUFS gating does), with the gain lowered where needed to keep the peak
   at or under :data:`PEAK_CEILING_DBFS` (−1 dBFS). The result is within
   :data:`TOLERANCE_DB` of the target unless the ceiling lowered it (then
   the peak is at the ceiling).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from bailanys.errors import InputError
from bailanys.voice.audio import FULL_SCALE, SAMPLE_RATE, Pcm, resample, to_int16

#: Longest recording taken (a prompt is a sentence or two; a longer file is
#: most likely the wrong one).
MAX_SOURCE_S: Final = 120.0
#: Loudness target: gated RMS in dBFS (see the module's docstring).
TARGET_DBFS: Final = -16.0
#: The highest sample after the gain.
PEAK_CEILING_DBFS: Final = -1.0
#: How close to the target a normalised prompt is (rounding to int16).
TOLERANCE_DB: Final = 0.5
#: Frames of the trim and of the gate.
FRAME_MS: Final = 10
#: A frame this far below the loudest is silence (trim) or a pause (gate).
TRIM_BELOW_PEAK_DB: Final = 40.0
#: Kept before the first and after the last sound frame.
TRIM_MARGIN_MS: Final = 100
#: Shortest prompt after trimming (one syllable is ~100 ms).
MIN_SOUND_MS: Final = 100


class PromptImportError(InputError):
    """A recording is refused (here: not a usable recording; the importer:
    an unknown key or language); ``code`` is what the page translates."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Prepared:
    """A recording ready for the line, and what the preparation measured."""

    pcm: Pcm  # 8 kHz mono int16
    source_s: float  # the source's duration
    duration_s: float  # after trimming
    loudness_before_dbfs: float  # gated RMS of the source (after mono, 8 kHz, trim)
    loudness_after_dbfs: float  # gated RMS of the result
    peak_after_dbfs: float
    gain_db: float


def decode(data: bytes, name: str) -> tuple[NDArray[np.float64], int]:
    """The file's samples as mono float (full scale ±1) and its rate; refuses non-audio."""
    from pydub import AudioSegment  # imported here: pydub warns at import without ffmpeg
    from pydub.exceptions import CouldntDecodeError

    if not data:
        raise PromptImportError("empty", f"{name}: the file is empty")
    try:
        seg = AudioSegment.from_file(io.BytesIO(data))
    except (CouldntDecodeError, IndexError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()
        detail = f" ({first[0][:120]})" if first else ""
        raise PromptImportError("not_audio", f"{name}: not an audio file ffmpeg can read"
                                        f"{detail}") from None
    if seg.frame_count() == 0 or seg.frame_rate <= 0:
        raise PromptImportError("empty", f"{name}: the file holds no sound")
    seconds = seg.frame_count() / seg.frame_rate
    if seconds > MAX_SOURCE_S:
        raise PromptImportError("too_long", f"{name}: {seconds:.0f} s; a prompt is at most "
                                       f"{MAX_SOURCE_S:.0f} s")
    raw = np.array(seg.get_array_of_samples(), dtype=np.float64)
    channels = seg.channels
    if channels > 1:
        raw = raw[: raw.size - raw.size % channels].reshape(-1, channels).mean(axis=1)
    full = float(1 << (8 * seg.sample_width - 1))
    return raw / full, int(seg.frame_rate)


def frame_levels(pcm: NDArray[np.floating] | Pcm) -> NDArray[np.float64]:
    """RMS of each 10 ms frame, in dBFS (−inf for digital silence)."""
    n = SAMPLE_RATE * FRAME_MS // 1000
    x = np.asarray(pcm, dtype=np.float64)
    count = x.size // n
    if count == 0:
        return np.full(1, _dbfs(float(np.sqrt(np.mean(np.square(x))))) if x.size else -math.inf)
    frames = x[: count * n].reshape(count, n)
    rms = np.sqrt(np.mean(np.square(frames), axis=1))
    with np.errstate(divide="ignore"):
        levels: NDArray[np.float64] = 20.0 * np.log10(rms / FULL_SCALE)
    return levels


def gated_rms_dbfs(pcm: NDArray[np.floating] | Pcm) -> float:
    """RMS over the frames within 40 dB of the loudest frame (the loudness measure)."""
    levels = frame_levels(pcm)
    top = float(np.max(levels))
    if not math.isfinite(top):
        return -math.inf
    loud = levels[levels >= top - TRIM_BELOW_PEAK_DB]
    power = np.mean(10.0 ** (loud / 10.0))
    return float(10.0 * math.log10(power))


def peak_dbfs(pcm: NDArray[np.floating] | Pcm) -> float:
    peak = float(np.max(np.abs(np.asarray(pcm, dtype=np.float64)))) if np.size(pcm) else 0.0
    return _dbfs(peak)


def trim(pcm: NDArray[np.float64]) -> NDArray[np.float64]:
    """``pcm`` (8 kHz, int16 scale) without the silence at both ends (empty: no sound)."""
    levels = frame_levels(pcm)
    top = float(np.max(levels))
    if not math.isfinite(top):
        return pcm[:0]
    sound = np.flatnonzero(levels >= top - TRIM_BELOW_PEAK_DB)
    n = SAMPLE_RATE * FRAME_MS // 1000
    margin = SAMPLE_RATE * TRIM_MARGIN_MS // 1000
    start = max(0, int(sound[0]) * n - margin)
    end = min(pcm.size, (int(sound[-1]) + 1) * n + margin)
    return pcm[start:end]


def prepare(data: bytes, name: str) -> Prepared:
    """Decode, 8 kHz mono, trim and normalise (see the module's docstring)."""
    samples, rate = decode(data, name)
    source_s = samples.size / rate
    pcm = np.asarray(resample(samples * FULL_SCALE, rate), dtype=np.float64)
    trimmed = trim(pcm)
    if trimmed.size < SAMPLE_RATE * MIN_SOUND_MS // 1000:
        raise PromptImportError("silent", f"{name}: no sound in the file (only silence)")
    before = gated_rms_dbfs(trimmed)
    gain_db = min(TARGET_DBFS - before, PEAK_CEILING_DBFS - peak_dbfs(trimmed))
    out = to_int16(trimmed * 10.0 ** (gain_db / 20.0))
    return Prepared(pcm=out, source_s=source_s, duration_s=out.size / SAMPLE_RATE,
                    loudness_before_dbfs=round(before, 2),
                    loudness_after_dbfs=round(gated_rms_dbfs(out), 2),
                    peak_after_dbfs=round(peak_dbfs(out), 2), gain_db=round(gain_db, 2))


def _dbfs(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude / FULL_SCALE) if amplitude > 0 else -math.inf
