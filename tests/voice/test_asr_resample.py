"""Streaming 8 -> 16 kHz resampling (bailanys.voice.resample) against the one-shot result."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from bailanys.voice.resample import CONTEXT, DELAY_S, Upsampler, upsample


def _stream(x: NDArray[np.int16], sizes: list[int]) -> tuple[NDArray[np.float64], list[int]]:
    """Push ``x`` in chunks cycling through ``sizes``; return all output and each push's length."""
    up = Upsampler()
    outs: list[NDArray[np.float64]] = []
    i = k = 0
    while i < x.size:
        n = sizes[k % len(sizes)]
        outs.append(up.push(x[i : i + n]))
        i += n
        k += 1
    lengths = [o.size for o in outs]
    outs.append(up.close())
    return np.concatenate(outs), lengths


@pytest.fixture(scope="module")
def noise() -> NDArray[np.int16]:
    rng = np.random.default_rng(20240521)
    return rng.integers(-32768, 32767, size=8000, dtype=np.int16)


@pytest.mark.parametrize(
    "sizes",
    [[160], [1], [17], [CONTEXT], [CONTEXT + 1], [7, 160, 3], [0, 1, 2, 15, 16, 33], [8000]],
)
def test_chunked_equals_one_shot(noise: NDArray[np.int16], sizes: list[int]) -> None:
    ref = upsample(noise)
    out, _ = _stream(noise, sizes)
    assert out.shape == ref.shape == (2 * noise.size,)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-6)


def test_speech_like_signal_in_frames() -> None:
    t = np.arange(16000) / 8000
    x = (8000 * np.sin(2 * np.pi * 440 * t) * np.sin(2 * np.pi * 3 * t)).astype(np.int16)
    out, _ = _stream(x, [160])
    np.testing.assert_allclose(out, upsample(x), rtol=0, atol=1e-6)


def test_fixed_delay_of_context_samples(noise: NDArray[np.int16]) -> None:
    _, lengths = _stream(noise[:1600], [160])
    # The first frame holds back CONTEXT input samples; later frames flow 1:2.
    assert lengths[0] == 2 * (160 - CONTEXT)
    assert lengths[1:] == [2 * 160] * 9
    assert DELAY_S == CONTEXT / 8000


def test_short_input_waits_for_context() -> None:
    up = Upsampler()
    assert up.push(np.ones(CONTEXT, dtype=np.int16)).size == 0
    assert up.buffered == CONTEXT
    rest = up.close()
    np.testing.assert_allclose(rest, upsample(np.ones(CONTEXT)), atol=1e-9)


def test_empty_stream_and_close_twice() -> None:
    up = Upsampler()
    assert up.push(np.zeros(0, dtype=np.int16)).size == 0
    assert up.close().size == 0
    assert up.close().size == 0
    with pytest.raises(ValueError, match="closed"):
        up.push(np.zeros(160, dtype=np.int16))


def test_accepts_2d_frames_as_flat() -> None:
    x = np.arange(320, dtype=np.int16).reshape(2, 160)
    up = Upsampler()
    out = np.concatenate([up.push(x), up.close()])
    np.testing.assert_allclose(out, upsample(x.reshape(-1)), atol=1e-9)
