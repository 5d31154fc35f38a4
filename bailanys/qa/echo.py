"""The other side's echo in a recorded channel: found and taken out before the VAD.

Issue 16 asks the acoustic pass to hold against "echo of the other side at
-20 dB". An energy threshold alone cannot: while one side speaks, its echo
on the other channel is louder than that channel's speaker's soft sounds
(a consonant starting an interruption), so overtalk would start late.

The recording is complete when the pass runs, so the echo path is fitted
offline, once per call: the least-squares FIR filter ``h`` (taps over
:data:`TAIL_S`) from the far channel to the near one, from the auto- and
cross-correlations summed block by block (the Wiener-Hopf normal equations,
a Toeplitz system: N. Levinson's recursion, ``scipy.linalg.solve_toeplitz``).
The fit reads only the 10 ms frames where the near channel is at least
:data:`SINGLE_TALK_DB` under the far channel's loudest of the last
:data:`TAIL_S` (the far side alone: echo, noise, nothing of the near
speaker), since the near speaker's own speech comes back in the far channel
as its echo and would otherwise be fitted as a path. A second pass subtracts ``h * far`` (the
echo estimate) from the near channel; :mod:`bailanys.qa.vad` reads the
residual and compares it with the estimate (a frame far under the echo it
carries is the echo's remainder, not speech).

A filter with more gain than :data:`MAX_ECHO_GAIN_DB` is not an echo (two
channels carrying the same mix), and one that explains little of the near
channel (:data:`MIN_EXPLAINED`) is a fit of chance: neither is applied. Pure numpy/scipy.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy.linalg import matmul_toeplitz, solve_toeplitz
from scipy.signal import oaconvolve

Floats = NDArray[np.float64]

#: The echo path's length: 128 ms, the tail an ITU-T G.168 echo canceller
#: for network echo commonly covers (G.168 tests tails of 64-128 ms).
TAIL_S: Final = 0.128
#: ITU-T G.168 assumes an echo return loss of at least 6 dB: a path with
#: more gain is the same signal on both channels, not an echo.
MAX_ECHO_GAIN_DB: Final = -6.0
#: Diagonal loading of the normal equations (relative): keeps the solution
#: stable on a far channel with little or no signal.
LOADING: Final = 1e-2
#: Frames fitted: the near channel 10 dB or more under the far one's
#: recent loudest (an echo is 20 dB down or more; a near speaker talking
#: over the far one rarely is).
SINGLE_TALK_DB: Final = 10.0
#: A path is kept when it explains at least a quarter of the near channel's
#: energy in the fitted frames (an echo 20 dB down over a line 20 dB under
#: it explains ~99 %), and ten times what a fit of pure chance explains
#: (taps / samples: the least-squares fit of unrelated signals).
MIN_EXPLAINED: Final = 0.25
CHANCE_FACTOR: Final = 10.0
_FRAME_S: Final = 0.01
_FFT_SIZE: Final = 8192  # chunks of the correlations: ~7000 samples each at 8 kHz


def _correlations(ext: Floats, xs: tuple[Floats, Floats],
                  taps: int) -> tuple[Floats, Floats]:
    """For each ``x``: ``r[k] = sum_t x[t] ext[t + taps - 1 - k]``, k < taps
    (``ext`` is the far channel with ``taps - 1`` samples of history before
    ``x``'s first). Chunked FFTs summed in the frequency domain: one inverse
    FFT per call, whatever the block's length."""
    size = max(_FFT_SIZE, 2 * taps)
    chunk = size - (taps - 1)
    count = -(-xs[0].size // chunk)
    blocks = []
    for x in xs:
        padded = np.zeros(count * chunk)
        padded[: x.size] = x
        blocks.append(padded.reshape(count, chunk))
    used = np.flatnonzero(np.any(blocks[0] != 0, axis=1) | np.any(blocks[1] != 0, axis=1))
    if used.size == 0:
        return np.zeros(taps), np.zeros(taps)
    span = np.zeros(count * chunk + taps - 1)
    span[: ext.size] = ext
    windows = sliding_window_view(span, chunk + taps - 1)[::chunk][used]
    far = np.fft.rfft(windows, n=size, axis=1)
    out = []
    for block in blocks:  # chunks with no fitted frame add nothing: skipped
        spec = np.fft.rfft(block[used], n=size, axis=1)
        # sum_t ext[t + j] x[t] for j < taps, then lag k = taps - 1 - j
        corr = np.fft.irfft((far * spec.conj()).sum(axis=0), n=size)
        out.append(corr[:taps][::-1])
    return out[0], out[1]


class EchoFit:
    """Accumulates one direction's correlations (near <- far), block by block."""

    def __init__(self, rate: int) -> None:
        self.taps = round(TAIL_S * rate)
        self._far_tail = np.zeros(self.taps - 1)
        self._frame = round(_FRAME_S * rate)
        self._lag_frames = round(TAIL_S / _FRAME_S)
        self._far_db_tail = np.full(self._lag_frames, -np.inf)
        self._r_ff = np.zeros(self.taps)
        self._r_nf = np.zeros(self.taps)
        self._r_nn = 0.0  # near energy in the fitted frames
        self._fitted = 0  # samples in the fitted frames
        self._samples = 0

    def add(self, near: Floats, far: Floats) -> None:
        """The next block of both channels (equal lengths)."""
        if near.size == 0:
            return
        n, f = near.astype(np.float64), far.astype(np.float64)
        ext = np.concatenate([self._far_tail, f])
        keep = self._far_alone(n, f)
        r_nf, r_ff = _correlations(ext, (n * keep, f * keep), self.taps)
        self._r_nf += r_nf
        self._r_ff += r_ff
        self._r_nn += float(np.dot(n * keep, n))
        self._fitted += int(np.count_nonzero(keep))
        self._far_tail = ext[-(self.taps - 1):] if self.taps > 1 else ext[:0]
        self._samples += near.size

    def _far_alone(self, near: Floats, far: Floats) -> Floats:
        """Per sample: 1.0 in the frames where only the far side is heard."""
        size = self._frame
        count = -(-near.size // size)
        padded = np.zeros((2, count * size))
        padded[0, : near.size], padded[1, : far.size] = near, far
        db = 10.0 * np.log10((padded.reshape(2, count, size) ** 2).mean(axis=2) + 1e-9)
        far_db = np.concatenate([self._far_db_tail, db[1]])
        recent = sliding_window_view(far_db, self._lag_frames + 1).max(axis=1)
        self._far_db_tail = far_db[-self._lag_frames:]
        alone = (db[0] <= recent - SINGLE_TALK_DB).astype(np.float64)
        return np.repeat(alone, size)[: near.size]

    def path(self) -> Floats:
        """The fitted echo path (zeros: no echo, or not an echo)."""
        none = np.zeros(self.taps)
        if self._samples == 0 or self._r_ff[0] <= 0:
            return none
        first = self._r_ff.copy()
        first[0] = first[0] * (1.0 + LOADING) + self._samples  # + 1 LSB^2 per sample
        h = np.asarray(solve_toeplitz(first, self._r_nf), dtype=np.float64)
        # The path's gain on this far signal (its band, not the taps' sum
        # of squares, which a band the far side never fills inflates).
        gain = float(np.dot(h, matmul_toeplitz(self._r_ff, h))) / self._r_ff[0]
        if not np.isfinite(gain) or gain > 10 ** (MAX_ECHO_GAIN_DB / 10):
            return none
        # The share of the fitted frames' energy the path explains; a fit on
        # no echo at all explains ~taps/samples of it by chance.
        explained = float(np.dot(h, self._r_nf)) / max(self._r_nn, 1e-9)
        if explained < max(MIN_EXPLAINED, CHANCE_FACTOR * self.taps / max(self._fitted, 1)):
            return none
        return h


class EchoCanceller:
    """Subtracts the fitted echo from the near channel, block by block."""

    def __init__(self, path: Floats) -> None:
        self.path = path
        self.active = bool(np.any(path))
        self._far_tail = np.zeros(path.size - 1)

    def block(self, near: Floats, far: Floats) -> tuple[Floats, Floats]:
        """(near minus its echo estimate, the echo estimate) for this block."""
        n = near.astype(np.float64)
        if not self.active:
            return n, np.zeros(n.size)
        ext = np.concatenate([self._far_tail, far.astype(np.float64)])
        echo = oaconvolve(ext, self.path, mode="valid")
        self._far_tail = ext[-(self.path.size - 1):] if self.path.size > 1 else ext[:0]
        return n - echo, echo
