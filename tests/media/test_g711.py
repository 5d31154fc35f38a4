"""G.711 tables against CPython's audioop on every input (ITU-T G.711)."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from types import ModuleType

import numpy as np
import pytest

from bailanys.media import g711


def _audioop() -> ModuleType | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return importlib.import_module("audioop")
        except ImportError:
            return None


audioop = _audioop()
needs_audioop = pytest.mark.skipif(
    audioop is None, reason="audioop is not in this Python (removed in 3.13); reference unavailable"
)

ALL_PCM = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = bytes(range(256))


@needs_audioop
def test_ulaw_encode_matches_audioop_on_all_65536_samples() -> None:
    assert audioop is not None
    assert g711.ulaw_encode(ALL_PCM) == audioop.lin2ulaw(ALL_PCM.tobytes(), 2)


@needs_audioop
def test_alaw_encode_matches_audioop_on_all_65536_samples() -> None:
    assert audioop is not None
    assert g711.alaw_encode(ALL_PCM) == audioop.lin2alaw(ALL_PCM.tobytes(), 2)


@needs_audioop
def test_ulaw_decode_matches_audioop_on_all_256_codes() -> None:
    assert audioop is not None
    assert g711.ulaw_decode(ALL_CODES).tobytes() == audioop.ulaw2lin(ALL_CODES, 2)


@needs_audioop
def test_alaw_decode_matches_audioop_on_all_256_codes() -> None:
    assert audioop is not None
    assert g711.alaw_decode(ALL_CODES).tobytes() == audioop.alaw2lin(ALL_CODES, 2)


def test_runtime_module_does_not_import_audioop() -> None:
    source = open(g711.__file__, encoding="utf-8").read()
    assert "import audioop" not in source


@pytest.mark.parametrize(
    ("encode", "decode"),
    [(g711.ulaw_encode, g711.ulaw_decode), (g711.alaw_encode, g711.alaw_decode)],
)
def test_decode_then_encode_is_identity_on_codes(
    encode: Callable[[np.ndarray], bytes], decode: Callable[[bytes], np.ndarray]
) -> None:
    codes = np.frombuffer(ALL_CODES, np.uint8)
    again = np.frombuffer(encode(decode(ALL_CODES)), np.uint8)
    if encode is g711.ulaw_encode:
        # µ-law has two zeros (0x7F "-0" and 0xFF "+0"); both decode to 0.
        assert np.array_equal(again[codes != 0x7F], codes[codes != 0x7F])
        assert again[0x7F] == 0xFF
    else:
        assert np.array_equal(again, codes)


def test_silence_codes() -> None:
    zero = np.zeros(160, np.int16)
    assert g711.ulaw_encode(zero) == bytes([g711.ULAW_SILENCE]) * 160
    assert g711.alaw_encode(zero) == bytes([g711.ALAW_SILENCE]) * 160
    assert not g711.ulaw_decode(bytes([g711.ULAW_SILENCE]) * 160).any()


def test_known_values() -> None:
    # Extremes and the sign of the quietest steps.
    assert g711.ulaw_decode(b"\x00\x80\xff\x7f").tolist() == [-32124, 32124, 0, 0]
    assert g711.alaw_decode(b"\x2a\xaa\xd5\x55").tolist() == [-32256, 32256, 8, -8]
    assert g711.ulaw_encode(np.array([32767, -32768], np.int16)) == b"\x80\x00"
    assert g711.alaw_encode(np.array([32767, -32768], np.int16)) == b"\xaa\x2a"


def test_quantisation_error_is_bounded_by_the_segment_step() -> None:
    for enc, dec in ((g711.ulaw_encode, g711.ulaw_decode), (g711.alaw_encode, g711.alaw_decode)):
        err = np.abs(dec(enc(ALL_PCM)).astype(np.int32) - ALL_PCM.astype(np.int32))
        small = np.abs(ALL_PCM.astype(np.int32)) < 256
        assert err[small].max() <= 16
        assert (err <= np.maximum(np.abs(ALL_PCM.astype(np.int32)) // 16, 16) + 1024).all()


def test_batched_2d_matches_row_by_row() -> None:
    rng = np.random.default_rng(7)
    pcm = rng.integers(-32768, 32768, size=(50, 160), dtype=np.int16)
    for name in ("PCMU", "PCMA", "pcmu"):
        codes = g711.encode_array(name, pcm)
        assert codes.shape == (50, 160) and codes.dtype == np.uint8
        for i in range(50):
            assert codes[i].tobytes() == g711.encode(name, pcm[i])
        decoded = g711.decode(name, codes)
        assert decoded.shape == (50, 160) and decoded.dtype == np.int16
        assert np.array_equal(decoded[3], g711.decode(name, codes[3].tobytes()))
        assert g711.encode(name, pcm) == codes.tobytes()


def test_large_batches_take_the_take_path() -> None:
    rng = np.random.default_rng(8)
    pcm = rng.integers(-32768, 32768, size=(1000, 160), dtype=np.int16)
    assert np.array_equal(g711.ulaw_encode_array(pcm), g711.LINEAR_TO_ULAW[pcm.view(np.uint16)])
    assert np.array_equal(g711.alaw_encode_array(pcm), g711.LINEAR_TO_ALAW[pcm.view(np.uint16)])
    codes = g711.ulaw_encode_array(pcm)
    assert np.array_equal(g711.ulaw_decode(codes), g711.ULAW_TO_LINEAR[codes])
    assert np.array_equal(g711.alaw_decode(codes), g711.ALAW_TO_LINEAR[codes])


def test_accepts_bytearray_memoryview_and_wider_ints() -> None:
    data = bytearray(b"\x01\x02\x03")
    assert np.array_equal(g711.ulaw_decode(data), g711.ulaw_decode(memoryview(data)))
    wide = np.array([0, 1000, -1000], dtype=np.int32)
    assert g711.ulaw_encode(wide) == g711.ulaw_encode(wide.astype(np.int16))


def test_tables_are_read_only() -> None:
    with pytest.raises(ValueError):
        g711.ULAW_TO_LINEAR[0] = 1


def test_unknown_codec() -> None:
    with pytest.raises(ValueError, match="G722"):
        g711.decode("G722", b"\x00")
    with pytest.raises(ValueError):
        g711.encode("opus", np.zeros(1, np.int16))
    assert g711.PAYLOAD_TYPES == {"PCMU": 0, "PCMA": 8}
