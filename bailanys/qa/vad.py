"""Where one side of a recorded call speaks: the energy VAD of the QA acoustic pass.

Issue 16, "acoustic: talk ratio, longest silence, overtalk, speech rate,
computed from the two channels with an energy/VAD pass (works without any
ASR model)". Pure numpy over per-sub-frame powers (no I/O, no per-sample
Python loop); :mod:`bailanys.qa.acoustic` reads the WAV in blocks into
those powers and assembles the measures.

The pass, per channel, on 10 ms frames (:data:`FRAME_S`):

1. **Adaptive noise floor** by minimum statistics (R. Martin, "Noise power
   spectral density estimation based on optimal smoothing and minimum
   statistics", IEEE Trans. Speech Audio Proc. 9(5), 2001): the
   :data:`NOISE_PERCENTILE` th percentile of each :data:`NOISE_BLOCK_S`
   block, then the minimum over :data:`NOISE_SPAN_S` on each side. Speech
   has pauses every few seconds, so the floor follows the line's noise
   (comfort noise, hum, G.711 idle) and not the voice.
2. **Two thresholds** (hysteresis, as the endpoint detector of L. Lamel et
   al., "An improved endpoint detector for isolated word recognition", IEEE
   Trans. ASSP 29(4), 1981): a frame starts speech at :data:`START_DB` over
   the floor (and at least :data:`MIN_START_DBFS`); speech extends outward
   over frames still :data:`EDGE_DB` over the floor and at most
   :data:`BELOW_ACTIVE_DB` under the speaker's active level, so a word's
   weak onset and its decaying end belong to it.
3. **Echo of the other side** (issue 16: "echo of the other side at -20
   dB"): :mod:`bailanys.qa.echo` subtracts the fitted echo before this
   pass; what is left of it is measured on the call, and a frame that
   does not stand :data:`ECHO_GUARD_DB` over that remainder is not speech.
4. **Hangover** done offline: voiced runs shorter than :data:`MIN_RUN_S`
   (clicks) are dropped, pauses shorter than :data:`BRIDGE_S` between runs
   are filled (the pauses between words are not silences), and talk shorter
   than :data:`MIN_TALK_S` is dropped. Unlike a causal hangover, this does
   not make the talk end late: the end stays at the last voiced frame.
5. Each boundary is refined to a 2 ms sub-frame (:data:`SUBFRAME_S`) at the
   edge threshold.

Levels are dB relative to a full-scale square wave (``10 log10(mean
square / 32768**2)``), called dBFS here.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Spans = NDArray[np.int64]  # (n, 2): [start, end) in sub-frames

#: Sub-frame of the boundary refinement (2 ms: a tenth of the 20 ms tolerance).
SUBFRAME_S: Final = 0.002
#: Decision frame: 10 ms, the usual VAD frame (ITU-T G.729 Annex B uses 10 ms).
FRAME_S: Final = 0.010
_SUBS: Final = round(FRAME_S / SUBFRAME_S)  # sub-frames per frame

#: Noise floor: 10th percentile of each half second (a speaker's pauses
#: between words fill well over a tenth of any half second that is not a
#: vowel held on), then the minimum over 5 s each side (Martin 2001 uses a
#: 1.5 s window on a smoothed spectrum; telephone speech runs longer
#: without a pause than read speech, hence the longer span).
NOISE_PERCENTILE: Final = 10.0
NOISE_BLOCK_S: Final = 0.5
NOISE_SPAN_S: Final = 5.0
#: Lowest floor assumed: digital silence (a missing frame recorded as zeros)
#: has no noise; -90 dBFS is under the G.711 idle pattern's level.
FLOOR_MIN_DBFS: Final = -90.0
#: A frame starts speech 12 dB over the floor (speech frames sit 20-40 dB
#: over a telephone line's noise; 12 dB keeps stationary noise's frame
#: fluctuations, about +-3 dB over 10 ms of 8 kHz noise, well under it)...
START_DB: Final = 12.0
#: ... and at least at -50 dBFS: 30 dB under the nominal telephone speech
#: level (-20 dBm0, ITU-T G.711/P.56 practice); quieter is not a speaker.
MIN_START_DBFS: Final = -50.0
#: Speech extends over frames 6 dB over the floor (noise exceeds its own
#: mean by 6 dB in well under 1 % of 10 ms frames), not under -60 dBFS.
EDGE_DB: Final = 6.0
MIN_EDGE_DBFS: Final = -55.0
#: ... within 250 ms of a start-level frame: a word's weak onset (an /s/
#: before a stop's closure and its vowel) lasts up to ~200 ms, and noise
#: that rose since the floor was measured (a louder line) cannot stretch
#: the talk further.
EDGE_REACH_S: Final = 0.25
#: ... and not under 25 dB below the speaker's active level (the power mean
#: of the channel's start-level frames, after ITU-T P.56's active speech
#: level): de Jong & Wempe (2009) take 25 dB under a speaker's loudest as
#: silence. On a quiet line this, not the noise, ends a word's decay.
BELOW_ACTIVE_DB: Final = 25.0
#: Echo: what is left of the echo after the canceller is measured per call:
#: the 75th percentile of (residual - estimate) over the frames where the
#: echo estimate stands START_DB over the floor (the far side talking:
#: mostly echo alone, so the percentile reads the canceller's worse
#: moments, word ends, and not the near side's rarer talking over). A frame
#: is this side's speech when it stands ECHO_GUARD_DB over that remainder
#: (the 6 dB of the edge level), and never needs more than the estimate
#: itself. With too few such frames (under ECHO_FRAMES, 0.5 s: no audible
#: echo) the remainder is taken as 10 dB under the estimate (ITU-T G.168
#: asks a canceller for at least 20 dB).
ECHO_GUARD_DB: Final = 6.0
ECHO_RESIDUAL_DB: Final = 10.0
ECHO_FRAMES: Final = 50
ECHO_PERCENTILE: Final = 75.0
#: A voiced run under 30 ms is a click (a line click, a bit error; the
#: high-pass rings a few ms after one), not speech, unless it comes within
#: 150 ms of other sound: the release of a final stop after its closure
#: (closures last 50-150 ms) is short and still the word's end. Isolated
#: short runs go with MIN_TALK_S below.
MIN_RUN_S: Final = 0.03
CLOSURE_S: Final = 0.15
#: Pauses under 0.5 s between voiced runs stay inside the talk: pauses
#: between words and short breaths inside a sentence are 0.1-0.5 s
#: (analytics.audio.JOIN_GAP_S uses 0.6 s for the same reason).
BRIDGE_S: Final = 0.5
#: Talk under 100 ms after bridging is not a word (a short "да" is ~150 ms).
MIN_TALK_S: Final = 0.1

_EPS: Final = 1e-12  # power floor: 10*log10 of digital silence is -120 dBFS
_FULL_SCALE_POWER: Final = 32768.0**2


def subframe_power(pcm: NDArray[np.int16] | Floats, rate: int) -> Floats:
    """Mean square (full scale 1.0) per :data:`SUBFRAME_S` sub-frame; a
    trailing part sub-frame is dropped (under 2 ms)."""
    size = round(rate * SUBFRAME_S)
    n = pcm.size // size
    x = pcm[: n * size].astype(np.float64).reshape(n, size)
    power: Floats = np.einsum("ij,ij->i", x, x) / (size * _FULL_SCALE_POWER)
    return power


def to_db(power: Floats) -> Floats:
    return 10.0 * np.log10(power + _EPS)


def frame_db(sub_power: Floats) -> Floats:
    """10 ms frame levels (dBFS) from sub-frame powers; a trailing part
    frame is the mean of its sub-frames."""
    n = sub_power.size
    count = -(-n // _SUBS)
    padded = np.zeros(count * _SUBS)
    padded[:n] = sub_power
    sums = padded.reshape(count, _SUBS).sum(axis=1)
    sizes = np.full(count, float(_SUBS))
    if count:
        sizes[-1] = n - (count - 1) * _SUBS
    return to_db(sums / sizes)


def noise_floor(db: Floats) -> Floats:
    """Per frame: the line's noise level (dBFS), by minimum statistics."""
    if db.size == 0:
        return db.copy()
    block = round(NOISE_BLOCK_S / FRAME_S)
    full = db.size // block
    lows = np.percentile(db[: full * block].reshape(full, block), NOISE_PERCENTILE, axis=1)
    if db.size > full * block:
        lows = np.append(lows, np.percentile(db[full * block :], NOISE_PERCENTILE))
    span = round(NOISE_SPAN_S / NOISE_BLOCK_S)
    edged = np.concatenate([np.full(span, np.inf), lows, np.full(span, np.inf)])
    floors = sliding_window_view(edged, 2 * span + 1).min(axis=1)
    out: Floats = np.maximum(np.repeat(floors, block)[: db.size], FLOOR_MIN_DBFS)
    return out


def _runs(mask: NDArray[np.bool_]) -> Spans:
    """``[start, end)`` of each run of True in ``mask``, shape (n, 2)."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    return edges.reshape(-1, 2).astype(np.int64)


def _near(mask: NDArray[np.bool_], reach: int) -> NDArray[np.bool_]:
    """Frames within ``reach`` frames of a True one."""
    counts = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
    idx = np.arange(mask.size)
    lo = np.clip(idx - reach, 0, mask.size)
    hi = np.clip(idx + reach + 1, 0, mask.size)
    return counts[hi] > counts[lo]


def _not_clicks(runs: Spans) -> NDArray[np.bool_]:
    """Runs of :data:`MIN_RUN_S` or more, and shorter ones within
    :data:`CLOSURE_S` of another run (a stop's release after its closure)."""
    if len(runs) == 0:
        return np.zeros(0, dtype=np.bool_)
    gaps = runs[1:, 0] - runs[:-1, 1]
    far = np.iinfo(np.int64).max
    before = np.concatenate(([far], gaps))
    after = np.concatenate((gaps, [far]))
    close = np.minimum(before, after) <= round(CLOSURE_S / FRAME_S)
    long_enough = (runs[:, 1] - runs[:, 0]) >= round(MIN_RUN_S / FRAME_S)
    out: NDArray[np.bool_] = long_enough | close
    return out


def _bridge(runs: Spans, gap: int) -> Spans:
    """Join runs separated by fewer than ``gap`` frames."""
    if len(runs) < 2:
        return runs
    keep_break = (runs[1:, 0] - runs[:-1, 1]) >= gap
    starts = runs[np.concatenate(([True], keep_break)), 0]
    ends = runs[np.concatenate((keep_break, [True])), 1]
    return np.stack([starts, ends], axis=1)


def _not_echo(db: Floats, echo_db: Floats | None, floor: Floats) -> NDArray[np.bool_]:
    """Frames louder than the echo's remainder (all frames without an echo)."""
    if echo_db is None or echo_db.size == 0:
        return np.ones(db.size, dtype=np.bool_)
    m = min(db.size, echo_db.size)
    heard = np.full(db.size, -np.inf)
    heard[:m] = echo_db[:m]
    strong = heard > floor + START_DB
    if np.count_nonzero(strong) >= ECHO_FRAMES:
        remainder = float(np.percentile(db[strong] - heard[strong], ECHO_PERCENTILE))
    else:
        remainder = -ECHO_RESIDUAL_DB
    out: NDArray[np.bool_] = db > heard + min(0.0, remainder + ECHO_GUARD_DB)
    return out


def talk_spans(sub_power: Floats, echo_sub_power: Floats | None = None) -> Spans:
    """Where this channel speaks: ``[start, end)`` in sub-frames, in order.

    ``sub_power`` is the channel after echo cancellation, ``echo_sub_power``
    the echo estimate taken out of it (None: no echo, a mono recording).
    """
    db = frame_db(sub_power)
    if db.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    floor = noise_floor(db)
    own = _not_echo(db, None if echo_sub_power is None else frame_db(echo_sub_power), floor)
    start = own & (db >= np.maximum(floor + START_DB, MIN_START_DBFS))
    edge_level = np.maximum(floor + EDGE_DB, MIN_EDGE_DBFS)
    if start.any():  # the speaker's active level: the power mean of speech frames
        active = float(10.0 * np.log10(np.mean(10.0 ** (db[start] / 10.0))))
        edge_level = np.maximum(edge_level, active - BELOW_ACTIVE_DB)
    near = _near(start, round(EDGE_REACH_S / FRAME_S))
    edge_runs = _runs(start | (own & (db >= edge_level) & near))
    # Hysteresis: edge-level runs near start-level frames, clicks left out
    # (a final plosive's burst after its closure stays under the start
    # level on a noisy line, and is still the word's end).
    edge_runs = edge_runs[_not_clicks(edge_runs)]
    spans = _bridge(edge_runs, round(BRIDGE_S / FRAME_S))
    spans = spans[(spans[:, 1] - spans[:, 0]) >= round(MIN_TALK_S / FRAME_S)]
    return _refine(spans, to_db(sub_power), edge_level)


def _refine(spans: Spans, sub_db: Floats, edge_level: Floats) -> Spans:
    """Move each boundary to the first / last sub-frame at the edge level
    within one frame of it (the frame's own level averages 10 ms)."""
    out = spans * _SUBS
    n = sub_db.size
    for i, (a, b) in enumerate(spans):
        lo, hi = max(0, (a - 1) * _SUBS), min(n, (a + 1) * _SUBS)
        hit = np.flatnonzero(sub_db[lo:hi] >= edge_level[a])
        out[i, 0] = lo + hit[0] if hit.size else a * _SUBS
        lo, hi = max(0, (b - 1) * _SUBS), min(n, (b + 1) * _SUBS)
        hit = np.flatnonzero(sub_db[lo:hi] >= edge_level[b - 1])
        out[i, 1] = lo + hit[-1] + 1 if hit.size else min(n, b * _SUBS)
    return out
