"""Streaming 8 kHz -> 16 kHz resampling for speech recognition.

Call audio is 8 kHz (ITU-T G.711 §1); the small Vosk models are trained on
16 kHz. :class:`Upsampler` turns a stream of 8 kHz chunks into 16 kHz with
``scipy.signal.resample_poly(x, 2, 1)`` and gives the same samples as
resampling the whole signal at once, whatever the chunk sizes.

How: the polyphase filter of ``resample_poly`` for up=2 has 41 taps at the
16 kHz rate (``half_len = 10 * max(up, down)`` = 20 output samples), so an
output sample depends on input samples at most 10 away from it. Each chunk is
resampled together with :data:`CONTEXT` input samples of left context (the
previous input) and the output is cut where the right edge cannot reach; the
last :data:`CONTEXT` input samples wait for the next chunk (a fixed delay of
2 ms). ``resample_poly`` zero-pads both ends of its input, so the first chunk
(no left context) and :meth:`Upsampler.close` (no right context) match the
one-shot result at the stream's ends too.

Pure code: no asyncio, no I/O. An instance is not thread-safe; the speech
session touches it from one worker thread at a time.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.signal import resample_poly

__all__ = ["CONTEXT", "DELAY_S", "IN_RATE", "OUT_RATE", "Upsampler", "upsample"]

#: Input rate: G.711 (ITU-T G.711 §1, RFC 3551 §4.5.14).
IN_RATE: Final = 8000
#: Output rate: what the small Vosk models expect (``conf/mfcc.conf`` of
#: vosk-model-small-ru-0.22, -kz-0.15: 16 kHz features).
OUT_RATE: Final = 16000
_UP: Final = OUT_RATE // IN_RATE
#: Input samples of context kept on each side of a chunk. The filter reaches
#: 10 input samples (``resample_poly``: half_len = 10 * up output samples);
#: 16 leaves a margin and is still only 2 ms of delay.
CONTEXT: Final = 16
#: The delay of :meth:`Upsampler.push` output behind its input, in seconds.
DELAY_S: Final = CONTEXT / IN_RATE

FloatArray = NDArray[np.float64]


def upsample(pcm8k: NDArray[np.integer] | NDArray[np.floating]) -> FloatArray:
    """One-shot 8 kHz -> 16 kHz of a whole signal (the reference for :class:`Upsampler`)."""
    out: FloatArray = resample_poly(np.asarray(pcm8k, dtype=np.float64), _UP, 1)
    return out


class Upsampler:
    """8 kHz chunks in, 16 kHz float samples out; chunking does not change the result.

    ``push`` returns ``2 * (n - CONTEXT)`` samples for ``n`` buffered input
    samples (nothing until more than :data:`CONTEXT` are buffered);
    ``close`` returns the rest. The concatenation of all outputs equals
    :func:`upsample` of the concatenated input to float rounding.
    """

    __slots__ = ("_closed", "_left", "_pending")

    def __init__(self) -> None:
        # Input already turned into output: its last CONTEXT samples.
        self._left: FloatArray = np.zeros(0, dtype=np.float64)
        # Input not yet turned into output (waiting for right context).
        self._pending: FloatArray = np.zeros(0, dtype=np.float64)
        self._closed = False

    @property
    def buffered(self) -> int:
        """Input samples held back, waiting for right context."""
        return int(self._pending.size)

    def push(self, pcm8k: NDArray[np.integer] | NDArray[np.floating]) -> FloatArray:
        """Add 8 kHz samples; return the 16 kHz samples that are now final."""
        if self._closed:
            raise ValueError("Upsampler is closed")
        chunk = np.asarray(pcm8k, dtype=np.float64).reshape(-1)
        pending = np.concatenate((self._pending, chunk)) if self._pending.size else chunk
        ready = pending.size - CONTEXT
        if ready <= 0:
            self._pending = pending.copy()
            return np.zeros(0, dtype=np.float64)
        left = self._left.size
        segment = np.concatenate((self._left, pending))
        out = upsample(segment)[_UP * left : _UP * (left + ready)]
        self._left = segment[max(0, left + ready - CONTEXT) : left + ready].copy()
        self._pending = pending[ready:].copy()
        return out

    def close(self) -> FloatArray:
        """End of stream: return the held-back samples (zero right context, as one-shot)."""
        if self._closed:
            return np.zeros(0, dtype=np.float64)
        self._closed = True
        if not self._pending.size:
            return np.zeros(0, dtype=np.float64)
        left = self._left.size
        out = upsample(np.concatenate((self._left, self._pending)))[_UP * left :]
        self._pending = np.zeros(0, dtype=np.float64)
        return out
