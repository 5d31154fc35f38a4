"""In-band DTMF detection (ITU-T Q.23 frequencies, Q.24 acceptance), batched across calls.

Each 20 ms frame (160 samples at 8 kHz) is analysed at the eight DTMF
frequencies and their second harmonics.  The Goertzel algorithm computes one
DFT term per frequency; here all terms of all frames come from one matrix
product of the (n_frames x 160) samples with a precomputed cos/sin basis, so
a tick of 1,000 calls costs one BLAS call instead of 16,000 Python loops.

A frame holds a digit when (all powers are mean-square, per tone):

* the strongest row (low group) and column (high group) tones both exceed
  ``min_tone_power`` (sensitivity, Q.24 §3);
* each stands out from the other tones of its group by ``relative_peak``;
* the twist is within limits: the row may be up to ``normal_twist_db``
  stronger than the column and the column up to ``reverse_twist_db``
  stronger than the row (Q.24 asks to accept 8 dB / 4 dB; the defaults add
  2 dB of measurement margin);
* the two tones carry at least ``min_tone_fraction`` of the frame's energy
  (speech spreads its energy; a digit concentrates it);
* neither tone has a strong second harmonic (voiced speech has harmonics, a
  DTMF generator has none).

:class:`InbandDtmfDetector` then debounces per call ("slot") in numpy
arrays: a digit is reported once it was seen in two consecutive frames
(Q.24's 40 ms minimum tone duration), and not again until a frame without
it.  Pure code: numpy only, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np
from numpy.typing import NDArray

from bailanys.media.dtmf4733 import DIGITS

SAMPLE_RATE: Final = 8000
FRAME_SAMPLES: Final = 160  # 20 ms, the G.711 packet

#: Q.23 §2: low-group (row) and high-group (column) frequencies in Hz.
ROW_FREQS: Final = (697.0, 770.0, 852.0, 941.0)
COL_FREQS: Final = (1209.0, 1336.0, 1477.0, 1633.0)
_FREQS: Final = ROW_FREQS + COL_FREQS
_ALL_FREQS: Final = _FREQS + tuple(2 * f for f in _FREQS)

#: Keypad (Q.23 Figure 1): digit code (index into DIGITS) by [row, column].
KEYPAD: Final = np.array(
    [[1, 2, 3, 12], [4, 5, 6, 13], [7, 8, 9, 14], [10, 0, 11, 15]], dtype=np.int8
)

#: Mean-square power of a 0 dBm0 sine in the 16-bit scale of G.711 decoding:
#: the µ-law maximum 32124 is +3.17 dBm0 (G.711 Table 2).
DBM0_POWER: Final = (32124 * 10 ** (-3.17 / 20)) ** 2 / 2


def dbm0_to_amplitude(dbm0: float) -> float:
    """Peak amplitude (16-bit scale) of a sine at ``dbm0``."""
    return math.sqrt(2 * DBM0_POWER * 10 ** (dbm0 / 10))


def _db(ratio_db: float) -> float:
    return float(10 ** (ratio_db / 10))


@dataclass(frozen=True, slots=True)
class GoertzelConfig:
    """Acceptance limits of the in-band detector (powers as dB ratios)."""

    #: Each tone at least this level (dBm0).  Q.24 asks for operation down to
    #: about -25 dBm0 per tone; -36 dBm0 leaves 6 dB for a tone that covers
    #: only half a frame.
    min_tone_dbm0: float = -36.0
    #: The strongest tone of a group over the next one of the same group
    #: (dB): leakage of a tone into its neighbour is about -13 dB over a full
    #: frame, -10 dB over half a frame.
    relative_peak_db: float = 6.0
    #: Row stronger than column by at most this (normal twist).  Q.24 asks
    #: to accept 8 dB; 2 dB more absorbs the error of measuring a partial
    #: frame at 10 dB SNR (measured: 0 misses in 3,000 digits instead of 32).
    normal_twist_db: float = 10.0
    #: Column stronger than row by at most this (reverse twist; Q.24: 4 dB,
    #: plus the same 2 dB margin).
    reverse_twist_db: float = 6.0
    #: Fraction of the frame's energy the two tones must carry: the check
    #: that rejects speech (at 0.2, two prompts of the Russian Asterisk set
    #: gave a false digit; at 0.4, none did).
    min_tone_fraction: float = 0.4
    #: A tone's second harmonic must stay this far below it (dB).
    harmonic_rejection_db: float = 10.0
    #: The same for rows 697, 770 and 852 Hz, whose harmonics lie within
    #: 71 Hz of a column tone (1336, 1477, 1633 Hz) and catch its leakage
    #: (about -13 dB over a frame); a looser limit keeps real digits.
    near_harmonic_rejection_db: float = 3.0


DEFAULT_CONFIG: Final = GoertzelConfig()


@cache
def _basis(n: int) -> NDArray[np.float32]:
    """(n, 32) cos/sin columns for the 16 frequencies, scaled so power = mean square."""
    t = np.arange(n, dtype=np.float64)[:, None]
    w = 2 * np.pi * np.array(_ALL_FREQS) / SAMPLE_RATE
    basis = np.empty((n, 2 * len(_ALL_FREQS)), dtype=np.float64)
    # A sine of amplitude A gives |X| = A*n/2; scale so |X|^2 = A^2/2.
    scale = math.sqrt(2) / n
    basis[:, 0::2] = np.cos(w * t) * scale
    basis[:, 1::2] = np.sin(w * t) * scale
    out = basis.astype(np.float32)
    out.flags.writeable = False
    return out


def tone_powers(frames: NDArray[np.int16] | NDArray[np.float32]) -> NDArray[np.float32]:
    """(n, 16) mean-square powers: 8 DTMF frequencies then their 2nd harmonics.

    ``frames`` is (n, N) samples, usually N = 160.
    """
    x = np.asarray(frames, dtype=np.float32)
    y = x @ _basis(x.shape[-1])
    y *= y
    out: NDArray[np.float32] = y[..., 0::2] + y[..., 1::2]
    return out


def classify_frames(
    frames: NDArray[np.int16] | NDArray[np.float32], config: GoertzelConfig = DEFAULT_CONFIG
) -> NDArray[np.int8]:
    """Digit code per frame (index into ``DIGITS``), -1 where there is no digit.

    ``frames`` is (n_frames, 160) int16; every frame is judged on its own.
    """
    x = np.asarray(frames, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"frames must be 2-D (n_frames, samples), got shape {x.shape}")
    n = x.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int8)
    y = x @ _basis(x.shape[1])
    y *= y
    p = y[:, 0::2] + y[:, 1::2]
    rows = p[:, 0:4]
    cols = p[:, 4:8]
    idx = np.arange(n)
    ri = rows.argmax(axis=1)
    ci = cols.argmax(axis=1)
    rp = rows[idx, ri]
    cp = cols[idx, ci]
    rh = p[idx, 8 + ri]
    ch = p[idx, 12 + ci]
    rest = rows.copy()
    rest[idx, ri] = 0.0
    r2 = rest.max(axis=1)
    rest = cols.copy()
    rest[idx, ci] = 0.0
    c2 = rest.max(axis=1)
    energy = np.einsum("ij,ij->i", x, x) / x.shape[1]

    threshold = DBM0_POWER * _db(config.min_tone_dbm0)
    peak = _db(config.relative_peak_db)
    harmonic = _db(-config.harmonic_rejection_db)
    row_harmonic = np.array(
        [_db(-config.near_harmonic_rejection_db)] * 3 + [harmonic], dtype=np.float32
    )
    ok = (rp >= threshold) & (cp >= threshold)
    ok &= (rp >= r2 * peak) & (cp >= c2 * peak)
    ok &= (rp <= cp * _db(config.normal_twist_db)) & (cp <= rp * _db(config.reverse_twist_db))
    ok &= (rp + cp) >= energy * config.min_tone_fraction
    ok &= (rh <= rp * row_harmonic[ri]) & (ch <= cp * harmonic)
    codes: NDArray[np.int8] = np.where(ok, KEYPAD[ri, ci], np.int8(-1)).astype(np.int8)
    return codes


def inband_gate(config: GoertzelConfig = DEFAULT_CONFIG) -> tuple[float, float]:
    """``(floor, fraction)``: a frame can hold a digit only if its strongest row and
    column tones (the 8 fundamentals, :func:`gate_basis`) both reach ``floor`` and
    together carry ``fraction`` of its mean square.

    :func:`classify_frames` asks for ``min_tone_dbm0`` per tone and
    ``min_tone_fraction`` of the energy; the gate asks for half of each, a
    margin far above the float32 rounding of the matrix product, so it never
    drops a frame that would have been a digit.  The media core computes it
    per frame while decoding (a few hundred multiply-adds); speech, tones
    outside the DTMF band and silence stop there, and only candidates go to
    the matrix product.
    """
    return float(DBM0_POWER * _db(config.min_tone_dbm0) / 2), config.min_tone_fraction / 2


def gate_basis() -> NDArray[np.float64]:
    """(160, 16) float64: cos/sin columns of the 8 DTMF fundamentals (the detector's scale)."""
    t = np.arange(FRAME_SAMPLES, dtype=np.float64)[:, None]
    w = 2 * np.pi * np.array(_FREQS) / SAMPLE_RATE
    basis = np.empty((FRAME_SAMPLES, 2 * len(_FREQS)), dtype=np.float64)
    scale = math.sqrt(2) / FRAME_SAMPLES
    basis[:, 0::2] = np.cos(w * t) * scale
    basis[:, 1::2] = np.sin(w * t) * scale
    return basis


class InbandDtmfDetector:
    """Per-call debounce over :func:`classify_frames`, state in numpy arrays.

    A digit is reported once when seen in two consecutive frames of a slot,
    and again only after a frame of that slot without it.
    """

    __slots__ = ("_emitted", "_last", "config", "live", "max_slots")

    def __init__(self, max_slots: int, config: GoertzelConfig = DEFAULT_CONFIG) -> None:
        if max_slots <= 0:
            raise ValueError(f"max_slots must be positive, got {max_slots}")
        self.max_slots = max_slots
        self.config = config
        self._last = np.full(max_slots, -1, dtype=np.int8)  # code seen in the previous frame
        self._emitted = np.zeros(max_slots, dtype=np.bool_)  # reported for the current run
        #: Some slot saw a tone in its last frame.  False: :meth:`quiet` has nothing
        #: to do (a slot whose last code is -1 has nothing emitted either).
        self.live = False

    def reset(self, slot: int) -> None:
        """Forget a slot's history (a new call took it)."""
        self._last[slot] = -1
        self._emitted[slot] = False

    def feed(
        self, slots: NDArray[np.integer] | list[int], frames: NDArray[np.int16]
    ) -> list[tuple[int, str]]:
        """Classify one frame per entry and return ``(slot, digit)`` for new digits.

        ``slots[i]`` is the slot of ``frames[i]``.  A slot may appear more
        than once; its frames are then taken in order.
        """
        slot_arr = np.asarray(slots, dtype=np.intp)
        if slot_arr.ndim != 1 or slot_arr.shape[0] != len(frames):
            raise ValueError("slots must be 1-D with one entry per frame")
        if slot_arr.size == 0:
            return []
        if slot_arr.min() < 0 or slot_arr.max() >= self.max_slots:
            raise ValueError(f"slot out of range 0..{self.max_slots - 1}")
        codes = classify_frames(frames, self.config)
        if np.unique(slot_arr).size == slot_arr.size:
            hits = self._step(slot_arr, codes)
        else:
            # Repeated slots: the k-th frame of every slot goes in pass k.
            order = np.argsort(slot_arr, kind="stable")
            sorted_slots = slot_arr[order]
            starts = np.flatnonzero(np.r_[True, sorted_slots[1:] != sorted_slots[:-1]])
            group_start = np.repeat(starts, np.diff(np.r_[starts, sorted_slots.size]))
            rank = np.empty_like(order)
            rank[order] = np.arange(sorted_slots.size) - group_start
            parts = []
            for k in range(int(rank.max()) + 1):
                sel = np.flatnonzero(rank == k)
                parts.append(sel[self._step(slot_arr[sel], codes[sel])])
            hits = np.sort(np.concatenate(parts))
        return [(int(slot_arr[i]), DIGITS[int(codes[i])]) for i in hits]

    def quiet(self, slots: NDArray[np.integer] | list[int]) -> None:
        """One frame per (distinct) slot known to hold no digit (stopped by :func:`inband_gate`)."""
        if not self.live:
            return
        slot_arr = np.asarray(slots, dtype=np.intp)
        self._step(slot_arr, np.full(slot_arr.shape, -1, dtype=np.int8))
        self.live = bool((self._last >= 0).any())

    def _step(self, slots: NDArray[np.intp], codes: NDArray[np.int8]) -> NDArray[np.intp]:
        """One frame per (distinct) slot; the positions where a digit fires."""
        prev = self._last[slots]
        emitted = self._emitted[slots]
        same = codes == prev
        fire = same & (codes >= 0) & ~emitted
        self._emitted[slots] = same & (emitted | fire)
        self._last[slots] = codes
        if not self.live and (codes >= 0).any():
            self.live = True
        return np.flatnonzero(fire)


def dtmf_tone(digit: str, ms: float = 100.0, *, dbm0: float = -10.0) -> NDArray[np.int16]:
    """The dual tone of ``digit`` (ITU-T Q.23) at 8 kHz, ``dbm0`` per tone.

    For phones that did not negotiate RFC 4733: the engine then sends keys
    as audio, which the far end's own Goertzel detector reads.
    """
    code = "0123456789*#ABCD".index(digit.upper())
    row, col = (int(x[0]) for x in np.nonzero(KEYPAD == code))
    t = np.arange(int(8000 * ms / 1000)) / 8000.0
    amp = dbm0_to_amplitude(dbm0)
    tone = amp * (np.sin(2 * np.pi * ROW_FREQS[row] * t) + np.sin(2 * np.pi * COL_FREQS[col] * t))
    return np.clip(np.round(tone), -32768, 32767).astype(np.int16)
