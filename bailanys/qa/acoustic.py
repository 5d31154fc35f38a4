"""The acoustic pass of QA: talk, overtalk, silences and the agent's speech rate.

Issue 16, "acoustic: talk ratio, longest silence, overtalk (both channels
speaking), speech rate, computed from the two channels with an energy/VAD
pass (works without any ASR model)"; "the acoustic pass must run at >= 200x
real time per core".

:func:`measure` reads the stereo 8 kHz 16-bit WAV that
:mod:`bailanys.media.recorder` writes (caller LEFT, agent RIGHT; a mono WAV
is the caller alone) twice, in blocks of :data:`BLOCK_S`, high-passed at
:data:`HIGH_PASS_HZ`: the first pass fits the echo of each side on the
other (:mod:`bailanys.qa.echo`), the second takes it out and keeps only
2 ms sub-frame powers per channel (and of the echo taken out) and the
agent's band energy per 10 ms frame (about a quarter of the samples'
memory); :func:`measure_pcm` does the same on arrays and :func:`talk_pcm`
returns the talk spans themselves. All are synchronous and CPU-bound:
call them off the event loop (the QA step runs in the worker process).

Talk on each channel comes from :func:`bailanys.qa.vad.talk_spans`.
Overtalk is where both channels talk; a silence is where neither does, at
least :data:`MIN_SILENCE_S` long (the start and end of the recording
count). The longest silence is the longest stretch where neither talks,
whatever its length.

Speech rate: syllable nuclei per second of the agent's talk, after N. H. de
Jong and T. Wempe, "Praat script to detect syllable nuclei and measure
speech rate automatically", Behavior Research Methods 41(2), 2009: peaks of
the intensity envelope that stand over the median of the speaker's
intensity and are preceded by a dip of at least :data:`NUCLEUS_DIP_DB`.
Here the envelope is band-limited to :data:`NUCLEUS_BAND_HZ` (vowels' first
formants; fricatives and mains hum stay out) instead of the Praat voicing
check, and smoothed over :data:`NUCLEUS_SMOOTH_S`.

Errors: :class:`~bailanys.errors.AcousticError` with a short ``reason``.
"""

from __future__ import annotations

import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfilt

from bailanys.analytics.audio import WAV_ERRORS, recording_stat, wav_reason
from bailanys.errors import AcousticError
from bailanys.qa import echo, vad
from bailanys.qa.model import Acoustics

__all__ = ["MIN_SILENCE_S", "RATES", "measure", "measure_pcm", "talk_pcm"]

Pcm = NDArray[np.int16]
Floats = NDArray[np.float64]
Kept = NDArray[np.float32]  # what is kept per block: half the memory (6 h: ~170 MB)


#: A silence is at least 1 s with nobody speaking: longer than the gaps of
#: turn-taking (T. Stivers et al., "Universals and cultural variation in
#: turn-taking in conversation", PNAS 106(26), 2009: answers mostly come
#: within 0-200 ms, rarely after more than 700 ms).
MIN_SILENCE_S: Final = 1.0
#: Rates accepted: the recorder's 8 kHz (G.711) and 16 kHz (wideband).
RATES: Final = (8000, 16000)
#: 16-bit linear PCM, as the recorder writes.
SAMPLE_BYTES: Final = 2
#: The longest recording measured (6 h; a hotline call lasts minutes): a
#: header claiming more is refused before any memory is taken for it.
MAX_SECONDS: Final = 6 * 3600
#: Seconds read per block: memory stays ~2 MB of samples.
BLOCK_S: Final = 60
#: Below the telephone band: ITU-T G.712 channels pass 300-3400 Hz, so
#: what is under 200 Hz on a line is mains hum and rumble, never the
#: speech the analysis needs (a 4th-order Butterworth high-pass: -24 dB at
#: 100 Hz, -48 dB at 50 Hz).
HIGH_PASS_HZ: Final = 200.0
HIGH_PASS_ORDER: Final = 4
#: Syllable nuclei (de Jong & Wempe 2009): the envelope's band, smoothing
#: (their intensity window at a 50 Hz minimum pitch is 64 ms), and the dip
#: that must precede a peak.
NUCLEUS_BAND_HZ: Final = (300.0, 2000.0)
NUCLEUS_SMOOTH_S: Final = 0.064
NUCLEUS_DIP_DB: Final = 2.0


Blocks = Callable[[], Iterator[tuple[Pcm, Pcm | None]]]


def _kept(x: Floats) -> Kept:
    return x.astype(np.float32)


@dataclass(slots=True)
class _Features:
    """What the pass keeps of a recording, block by block: each channel's
    sub-frame powers after echo cancellation and of the echo taken out, and
    the agent's band energy."""

    rate: int
    left: list[Kept] = field(default_factory=list)
    right: list[Kept] = field(default_factory=list)
    left_echo: list[Kept] = field(default_factory=list)
    right_echo: list[Kept] = field(default_factory=list)
    band: list[Kept] = field(default_factory=list)
    samples: int = 0
    stereo: bool = False


def _line_band(blocks: Blocks, rate: int) -> Iterator[tuple[Floats, Floats | None]]:
    """The blocks high-passed at :data:`HIGH_PASS_HZ` (filter state carried
    from block to block)."""
    sos = butter(HIGH_PASS_ORDER, HIGH_PASS_HZ, btype="highpass", fs=rate, output="sos")
    state = [np.zeros((sos.shape[0], 2)), np.zeros((sos.shape[0], 2))]
    for left, right in blocks():
        low, state[0] = sosfilt(sos, left.astype(np.float64), zi=state[0])
        high: Floats | None = None
        if right is not None:
            high, state[1] = sosfilt(sos, right.astype(np.float64), zi=state[1])
        yield low, high


def _features(blocks: Blocks, rate: int) -> _Features:
    """Two passes over the blocks: fit both echo paths, then measure."""
    to_left, to_right = echo.EchoFit(rate), echo.EchoFit(rate)
    stereo = False
    for left, right in _line_band(blocks, rate):
        if right is not None:
            stereo = True
            to_left.add(left, right)
            to_right.add(right, left)
    feats = _Features(rate, stereo=stereo)
    cancel_left = echo.EchoCanceller(to_left.path())
    cancel_right = echo.EchoCanceller(to_right.path())
    for left, right in _line_band(blocks, rate):
        feats.samples += left.size
        if right is None:
            feats.left.append(_kept(vad.subframe_power(left, rate)))
            continue
        near, heard = cancel_left.block(left, right)
        feats.left.append(_kept(vad.subframe_power(near, rate)))
        feats.left_echo.append(_kept(vad.subframe_power(heard, rate)))
        near, heard = cancel_right.block(right, left)
        feats.right.append(_kept(vad.subframe_power(near, rate)))
        feats.right_echo.append(_kept(vad.subframe_power(heard, rate)))
        feats.band.append(_kept(_band_db(near, rate)))
    return feats


def _band_db(pcm: Floats, rate: int) -> Floats:
    """Band energy (dB) of each 10 ms frame in :data:`NUCLEUS_BAND_HZ`; a
    trailing part frame is left out (under 10 ms)."""
    size = round(rate * vad.FRAME_S)
    n = pcm.size // size
    frames = pcm[: n * size].astype(np.float64).reshape(n, size) * np.hanning(size)
    spectrum = np.fft.rfft(frames, axis=1)
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    lo, hi = NUCLEUS_BAND_HZ
    band = (freqs >= lo) & (freqs <= hi)
    power = (spectrum.real[:, band] ** 2 + spectrum.imag[:, band] ** 2).sum(axis=1)
    return vad.to_db(power / (size * 32768.0**2))


def measure_pcm(left: Pcm, right: Pcm | None, rate: int = 8000) -> Acoustics:
    """The acoustic measures of one call from its channels' samples.

    ``left`` is the caller, ``right`` the agent (None: a mono recording,
    the caller alone). Raises :class:`AcousticError` for a rate not in
    :data:`RATES` or channels of different lengths.
    """
    return _assemble(_pcm_features(left, right, rate))


def _pcm_features(left: Pcm, right: Pcm | None, rate: int) -> _Features:
    if rate not in RATES:
        raise AcousticError(f"not 8 or 16 kHz ({rate} Hz)")
    if right is not None and right.size != left.size:
        raise AcousticError("channels of different lengths")
    step = BLOCK_S * rate

    def blocks() -> Iterator[tuple[Pcm, Pcm | None]]:
        for at in range(0, left.size, step):
            yield left[at : at + step], None if right is None else right[at : at + step]

    return _features(blocks, rate)


def talk_pcm(left: Pcm, right: Pcm | None,
             rate: int = 8000) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Where each side talks: (caller spans, agent spans), seconds, in order
    (the VAD's output before it is summed; for a timeline or a check)."""
    caller, agent = _talk(_pcm_features(left, right, rate))
    return ([_times(a, b) for a, b in caller.tolist()],
            [_times(a, b) for a, b in agent.tolist()])


def _talk(feats: _Features) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    left = _joined(feats.left)
    if left is None:
        left = np.zeros(0)
    caller = vad.talk_spans(left, _joined(feats.left_echo))
    right = _joined(feats.right)
    agent = (vad.talk_spans(right, _joined(feats.right_echo)) if right is not None
             else np.zeros((0, 2), np.int64))
    return caller, agent


def _assemble(feats: _Features) -> Acoustics:
    duration = feats.samples / feats.rate
    caller, agent = _talk(feats)
    total = round(duration / vad.SUBFRAME_S)
    cover = _coverage(caller, agent, total)
    overtalk = [(a, b) for a, b, n in cover if n == 2]
    quiet = [(a, b) for a, b, n in cover if n == 0]
    longest = max(quiet, key=lambda s: s[1] - s[0], default=None)
    rate = 0.0
    agent_talk = _seconds(agent)
    band = _joined(feats.band)
    if band is not None and agent_talk > 0:
        rate = _nuclei(band, agent) / agent_talk
    return Acoustics(
        duration_s=duration,
        caller_talk_s=_seconds(caller),
        agent_talk_s=agent_talk,
        overtalk_s=round(sum(b - a for a, b in overtalk) * vad.SUBFRAME_S, 3),
        overtalk=tuple(_times(a, b) for a, b in overtalk),
        silences=tuple(_times(a, b) for a, b in quiet
                       if (b - a) * vad.SUBFRAME_S >= MIN_SILENCE_S - 1e-9),
        longest_silence_s=0.0 if longest is None else round(
            (longest[1] - longest[0]) * vad.SUBFRAME_S, 3),
        longest_silence_at=None if longest is None else _times(*longest)[0],
        agent_speech_rate=round(rate, 3),
    )


def _joined(parts: list[Kept]) -> Floats | None:
    return np.concatenate(parts).astype(np.float64) if parts else None


def _seconds(spans: NDArray[np.int64]) -> float:
    return round(float((spans[:, 1] - spans[:, 0]).sum()) * vad.SUBFRAME_S, 3)


def _times(a: int, b: int) -> tuple[float, float]:
    return (round(a * vad.SUBFRAME_S, 3), round(b * vad.SUBFRAME_S, 3))


def _coverage(one: NDArray[np.int64], two: NDArray[np.int64],
              total: int) -> list[tuple[int, int, int]]:
    """(start, end, how many channels talk) over ``[0, total)`` sub-frames,
    consecutive pieces with the same count merged."""
    starts = np.concatenate([one[:, 0], two[:, 0]])
    ends = np.concatenate([one[:, 1], two[:, 1]])
    pos = np.concatenate([[0], starts, ends, [total]])
    delta = np.concatenate([[0], np.ones(starts.size, np.int64),
                            -np.ones(ends.size, np.int64), [0]])
    order = np.lexsort((delta, pos))  # an end before a start at the same place
    pos, count = pos[order], np.cumsum(delta[order])
    pieces: list[tuple[int, int, int]] = []
    for i in np.flatnonzero(np.diff(pos) > 0):
        a, b, n = int(pos[i]), int(min(pos[i + 1], total)), int(count[i])
        if a >= total:
            break
        if pieces and pieces[-1][2] == n and pieces[-1][1] == a:
            pieces[-1] = (pieces[-1][0], b, n)
        else:
            pieces.append((a, b, n))
    return pieces


def _nuclei(band_db: Floats, talk: NDArray[np.int64]) -> int:
    """Syllable nuclei in the agent's talk (de Jong & Wempe 2009)."""
    subs = round(vad.FRAME_S / vad.SUBFRAME_S)
    width = max(1, round(NUCLEUS_SMOOTH_S / vad.FRAME_S))
    env = np.convolve(band_db, np.ones(width) / width, mode="same")
    spans = np.clip(talk // subs, 0, env.size)
    inside = np.zeros(env.size + 1, np.int64)
    np.add.at(inside, spans[:, 0], 1)
    np.add.at(inside, spans[:, 1], -1)
    in_talk = np.cumsum(inside[:-1]) > 0
    if env.size < 3 or not in_talk.any():
        return 0
    threshold = float(np.median(env[in_talk]))
    peak = np.zeros(env.size, dtype=np.bool_)
    peak[1:-1] = (env[1:-1] > env[:-2]) & (env[1:-1] >= env[2:])
    peaks = np.flatnonzero(peak & in_talk & (env > threshold))
    if peaks.size == 0:
        return 0
    # The dip before each peak: the envelope's minimum since the previous
    # peak, or since its talk span began.
    span_of = np.searchsorted(spans[:, 0], peaks, side="right") - 1
    since = np.maximum(np.concatenate([[0], peaks[:-1]]), spans[span_of, 0])
    bounds = np.stack([since, peaks], axis=1).ravel()
    dips = np.minimum.reduceat(env, bounds)[::2]
    return int(np.count_nonzero(env[peaks] - dips >= NUCLEUS_DIP_DB))


def _open_checks(path: Path) -> int:
    size = recording_stat(path, AcousticError)
    if size == 0:
        raise AcousticError("empty file")
    return size


def measure(path: Path) -> Acoustics:
    """The acoustic measures of a recording (stereo: caller left, agent right;
    mono: the caller alone).

    Raises :class:`AcousticError`: "no such recording", "not a regular
    file", "empty file", "not a WAV file", "truncated WAV", "not 16-bit
    PCM", "not 8 or 16 kHz (... Hz)", "not mono or stereo (... channels)",
    "recording too long (... h)", "cannot read the recording (...)".
    """
    size = _open_checks(path)
    try:
        rate = _header(path, size)

        def blocks() -> Iterator[tuple[Pcm, Pcm | None]]:
            return _blocks(path)

        return _assemble(_features(blocks, rate))
    except AcousticError:
        raise
    except WAV_ERRORS as e:
        raise AcousticError(wav_reason(e)) from (e if isinstance(e, OSError) else None)


def _header(path: Path, size: int) -> int:
    """Checks the WAV header against the file; returns the rate."""
    with open(path, "rb") as raw, wave.open(raw, "rb") as w:
        channels, width, rate, frames = (
            w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes())
    if width != SAMPLE_BYTES:
        raise AcousticError("not 16-bit PCM")
    if rate not in RATES:
        raise AcousticError(f"not 8 or 16 kHz ({rate} Hz)")
    if channels not in (1, 2):
        raise AcousticError(f"not mono or stereo ({channels} channels)")
    if frames * channels * SAMPLE_BYTES > size:
        raise AcousticError("truncated WAV")
    if frames > MAX_SECONDS * rate:
        raise AcousticError(f"recording too long ({frames / rate / 3600:.1f} h)")
    return rate


def _blocks(path: Path) -> Iterator[tuple[Pcm, Pcm | None]]:
    """The recording's channels, :data:`BLOCK_S` at a time."""
    with open(path, "rb") as raw, wave.open(raw, "rb") as w:
        channels, rate, frames = w.getnchannels(), w.getframerate(), w.getnframes()
        got = 0
        while got < frames:
            data = w.readframes(min(BLOCK_S * rate, frames - got))
            n = len(data) // (SAMPLE_BYTES * channels)
            if n == 0:
                break
            block = np.frombuffer(data[: n * SAMPLE_BYTES * channels], dtype="<i2")
            block = block.reshape(n, channels)
            yield block[:, 0], block[:, 1] if channels == 2 else None
            got += n
    if got < frames:
        raise AcousticError("truncated WAV")
