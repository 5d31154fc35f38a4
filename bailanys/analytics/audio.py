"""A recording's channel for transcription: read it from the WAV, find where someone speaks.

Issue 15, "Per channel, per language": each channel is transcribed after a
cheap energy pass that skips silence (one side is silent about half the
time: while the caller speaks the agent listens).

:func:`read_channel` reads one channel of the stereo 8 kHz 16-bit WAV that
:mod:`bailanys.media.recorder` writes (caller left, agent right). A mono WAV
of the same format is accepted as the caller's side alone (a caller's
recording with nobody on the other end); asking it for the agent's channel is
an error. Anything else is a :class:`~bailanys.errors.TranscriptionError`
with a short reason; a FIFO or device is refused before it is opened, so a
bad path never blocks.

:func:`speech_regions` is pure: 20 ms frames whose RMS level reaches
:data:`LEVEL` (the speech menus' voice-activity level, ~-36 dBFS), kept when
at least :data:`MIN_SPEECH_FRAMES` come in a row, joined across pauses
shorter than :data:`JOIN_GAP_S` and padded by :data:`PAD_S` each side so the
recogniser hears each word's onset and its trailing silence.
"""

from __future__ import annotations

import os
import stat
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import numpy as np
from numpy.typing import NDArray

from bailanys.analytics.model import Channel
from bailanys.errors import TranscriptionError, VoiceError
from bailanys.voice.vad import LEVEL as VAD_LEVEL
from bailanys.voice.vad import START_FRAMES

__all__ = [
    "FRAME_S",
    "JOIN_GAP_S",
    "LEVEL",
    "MIN_SPEECH_FRAMES",
    "PAD_S",
    "RATE",
    "Region",
    "read_channel",
    "speech_regions",
]

Pcm = NDArray[np.int16]

#: The recorder's rate (G.711, ITU-T G.711 §1); the only one accepted.
RATE: Final = 8000
#: Bytes per sample: 16-bit linear PCM, as the recorder writes.
SAMPLE_BYTES: Final = 2
#: Analysis frame: one RTP packet's worth (RFC 3551 §4.5: 20 ms).
FRAME_S: Final = 0.02
#: RMS (int16) a frame needs to count as voiced: the speech menus' level
#: (bailanys.voice.vad: ~-36 dBFS, 20-30 dB under telephone speech).
LEVEL: Final = VAD_LEVEL
#: Voiced frames in a row that make speech (60 ms): a click is not speech.
MIN_SPEECH_FRAMES: Final = START_FRAMES
#: Pauses shorter than this stay inside one region (the pauses between
#: words and short breaths inside a sentence are 0.1-0.5 s).
JOIN_GAP_S: Final = 0.6
#: Silence kept on each side of a region: a word's weak onset (a fricative
#: under the level) and the trailing silence Vosk's endpointing wants
#: (conf/model.conf: endpoint rule 2, 0.5 s; 0.3 s is enough to close it at
#: the end of the stream).
PAD_S: Final = 0.3
#: The longest recording transcribed (6 h; a hotline call lasts minutes): a
#: header claiming more is refused before any memory is taken for it.
MAX_SECONDS: Final = 6 * 3600
#: Samples read per block (60 s stereo): memory stays one channel's size.
_BLOCK_FRAMES: Final = 60 * RATE


@dataclass(frozen=True, slots=True)
class Region:
    """Samples ``[start, end)`` of the channel that are sent to the recogniser."""

    start: int
    end: int

    @property
    def samples(self) -> int:
        return self.end - self.start


def recording_stat(path: Path, error: Callable[[str], VoiceError]) -> int:
    """The recording's size in bytes; ``error(reason)`` raised when it cannot
    be one ("no such recording", "not a regular file", "cannot read the
    recording (...)"). Shared with QA's acoustic pass."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise error("no such recording") from None
    except OSError as e:
        raise error(f"cannot read the recording ({e.strerror})") from e
    if not stat.S_ISREG(st.st_mode):
        raise error("not a regular file")
    return st.st_size


#: What reading a WAV may raise that :func:`wav_reason` explains.
WAV_ERRORS: Final = (EOFError, wave.Error, OSError)


def wav_reason(exc: BaseException) -> str:
    """The short reason a WAV could not be read (one of :data:`WAV_ERRORS`):
    "truncated WAV", "not a WAV file", "not 16-bit PCM", "bad WAV (...)",
    "cannot read the recording (...)"."""
    if isinstance(exc, EOFError):
        return "truncated WAV"
    if isinstance(exc, wave.Error):
        text = str(exc)
        if "RIFF" in text or "WAVE" in text:
            return "not a WAV file"
        if "unknown format" in text:
            return "not 16-bit PCM"
        return f"bad WAV ({text})"
    strerror = getattr(exc, "strerror", None)
    return f"cannot read the recording ({strerror or exc})"


def read_channel(path: Path, channel: Channel) -> tuple[Pcm, float]:
    """One channel's samples (8 kHz int16) and the recording's length in seconds.

    Raises :class:`TranscriptionError`: "no such recording", "not a regular
    file", "empty file", "not a WAV file", "truncated WAV", "not 16-bit PCM",
    "not 8 kHz (... Hz)", "not mono or stereo (... channels)", "mono WAV
    has no agent channel", "recording too long (... h)".
    """
    recording_stat(path, TranscriptionError)
    try:
        with open(path, "rb") as raw:
            if not raw.read(12):
                raise TranscriptionError("empty file")
            raw.seek(0)
            return _read(raw, channel, os.fstat(raw.fileno()).st_size)
    except TranscriptionError:
        raise
    except WAV_ERRORS as e:
        raise TranscriptionError(wav_reason(e)) from (e if isinstance(e, OSError) else None)


def _read(raw: BinaryIO, channel: Channel, size: int) -> tuple[Pcm, float]:
    with wave.open(raw, "rb") as w:
        channels, width, rate, frames = (
            w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes())
        if width != SAMPLE_BYTES:
            raise TranscriptionError("not 16-bit PCM")
        if rate != RATE:
            raise TranscriptionError(f"not 8 kHz ({rate} Hz)")
        if channels not in (1, 2):
            raise TranscriptionError(f"not mono or stereo ({channels} channels)")
        if channels == 1 and channel is Channel.AGENT:
            raise TranscriptionError("mono WAV has no agent channel")
        if frames * channels * SAMPLE_BYTES > size:
            raise TranscriptionError("truncated WAV")
        if frames > MAX_SECONDS * RATE:
            raise TranscriptionError(f"recording too long ({frames / RATE / 3600:.1f} h)")
        index = channel.wav_channel if channels == 2 else 0
        out = np.empty(frames, dtype=np.int16)
        got = 0
        while got < frames:
            data = w.readframes(min(_BLOCK_FRAMES, frames - got))
            n = len(data) // (SAMPLE_BYTES * channels)
            if n == 0:
                break
            block = np.frombuffer(data[: n * SAMPLE_BYTES * channels], dtype="<i2")
            out[got : got + n] = block.reshape(n, channels)[:, index]
            got += n
    if got < frames:
        raise TranscriptionError("truncated WAV")
    return out, frames / RATE


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``[start, end)`` of each run of True in ``mask``."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def speech_regions(
    pcm: Pcm,
    *,
    rate: int = RATE,
    level: float = LEVEL,
    min_frames: int = MIN_SPEECH_FRAMES,
    join_gap_s: float = JOIN_GAP_S,
    pad_s: float = PAD_S,
) -> list[Region]:
    """Where ``pcm`` holds speech, padded, in order, not overlapping.

    A trailing part frame is analysed as a frame of its own.
    """
    frame = max(1, round(rate * FRAME_S))
    n = int(pcm.size)
    if n == 0:
        return []
    count = -(-n // frame)
    x = np.zeros(count * frame, dtype=np.float64)
    x[:n] = pcm
    frames = x.reshape(count, frame)
    sizes = np.full(count, frame, dtype=np.float64)
    sizes[-1] = n - (count - 1) * frame
    rms = np.sqrt((frames * frames).sum(axis=1) / sizes)
    runs = [r for r in _runs(rms >= level) if r[1] - r[0] >= min_frames]
    join = round(join_gap_s / FRAME_S)
    joined: list[tuple[int, int]] = []
    for a, b in runs:
        if joined and a - joined[-1][1] < join:
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    pad = round(pad_s * rate)
    regions: list[Region] = []
    for a, b in joined:
        start, end = max(0, a * frame - pad), min(n, b * frame + pad)
        if regions and start <= regions[-1].end:
            regions[-1] = Region(regions[-1].start, end)
        else:
            regions.append(Region(start, end))
    return regions
