"""G.711 µ-law (PCMU) and A-law (PCMA) by lookup tables (ITU-T G.711).

The four tables are built once at import, in numpy, with the standard
segment algorithms of G.711 (as in the Sun reference code that CPython's
``audioop`` carries), and are bit-exact with ``audioop.lin2ulaw``,
``ulaw2lin``, ``lin2alaw`` and ``alaw2lin`` for 16-bit samples:

* encoding indexes a 65,536-entry table by the int16 sample viewed as uint16;
* decoding indexes a 256-entry int16 table by the code.

Every function accepts 1-D frames or 2-D batches (n_calls x 160) alike, so
the media loop can decode all calls of a tick with one call.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

Int16Array = NDArray[np.int16]
Uint8Array = NDArray[np.uint8]

#: The code of a zero sample (the "idle" pattern) in each law.
ULAW_SILENCE: Final = 0xFF
ALAW_SILENCE: Final = 0xD5

# G.711 Table 1/2 segment end points (magnitudes), as in the reference code.
_ULAW_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)
_ALAW_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF], dtype=np.int32)
_ULAW_BIAS = 0x84  # 132: the µ-law bias, G.711 §2 (33 in the 14-bit domain)
_ULAW_CLIP = 8159  # largest 14-bit magnitude before the bias


def _all_int16() -> NDArray[np.int32]:
    """Every int16 value, ordered by its uint16 bit pattern (the table index)."""
    return np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32)


def _build_ulaw_encode() -> Uint8Array:
    """µ-law encoder on the 14-bit sample ``x >> 2`` (G.711 Table 2a)."""
    pcm = _all_int16() >> 2
    negative = pcm < 0
    mag = np.minimum(np.where(negative, -pcm, pcm), _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    seg = np.searchsorted(_ULAW_SEG_END, mag, side="left")
    mantissa = (mag >> (np.minimum(seg, 7) + 1)) & 0x0F
    code = np.where(seg >= 8, 0x7F, (seg << 4) | mantissa)
    mask = np.where(negative, 0x7F, 0xFF)
    return (code ^ mask).astype(np.uint8)


def _build_ulaw_decode() -> Int16Array:
    """µ-law decoder (G.711 Table 2a), in the 16-bit scale of audioop."""
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + _ULAW_BIAS) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, _ULAW_BIAS - t, t - _ULAW_BIAS).astype(np.int16)


def _build_alaw_encode() -> Uint8Array:
    """A-law encoder on the 13-bit sample ``x >> 3`` (G.711 Table 1a)."""
    pcm = _all_int16() >> 3
    negative = pcm < 0
    mag = np.where(negative, -pcm - 1, pcm)
    seg = np.searchsorted(_ALAW_SEG_END, mag, side="left")
    shift = np.where(seg < 2, 1, np.minimum(seg, 7))
    code = np.where(seg >= 8, 0x7F, (seg << 4) | ((mag >> shift) & 0x0F))
    mask = np.where(negative, 0x55, 0xD5)
    return (code ^ mask).astype(np.uint8)


def _build_alaw_decode() -> Int16Array:
    """A-law decoder (G.711 Table 1a), in the 16-bit scale of audioop."""
    a = np.arange(256, dtype=np.int32) ^ 0x55
    seg = (a & 0x70) >> 4
    t = ((a & 0x0F) << 4) + np.where(seg == 0, 8, 0x108)
    t = np.where(seg > 1, t << np.maximum(seg - 1, 0), t)
    return np.where(a & 0x80, t, -t).astype(np.int16)


LINEAR_TO_ULAW: Final[Uint8Array] = _build_ulaw_encode()
ULAW_TO_LINEAR: Final[Int16Array] = _build_ulaw_decode()
LINEAR_TO_ALAW: Final[Uint8Array] = _build_alaw_encode()
ALAW_TO_LINEAR: Final[Int16Array] = _build_alaw_decode()
for _t in (LINEAR_TO_ULAW, ULAW_TO_LINEAR, LINEAR_TO_ALAW, ALAW_TO_LINEAR):
    _t.flags.writeable = False


_TAKE_MIN = 4096  # above this many samples ndarray.take beats fancy indexing (measured)


def _codes(data: bytes | bytearray | memoryview | Uint8Array) -> Uint8Array:
    if isinstance(data, np.ndarray):
        return data
    return np.frombuffer(data, dtype=np.uint8)


def _index(pcm: Int16Array) -> NDArray[np.uint16]:
    if pcm.dtype != np.int16:
        pcm = np.asarray(pcm).astype(np.int16)
    return pcm.view(np.uint16)


def _decode(table: Int16Array, data: bytes | bytearray | memoryview | Uint8Array) -> Int16Array:
    codes = _codes(data)
    return table.take(codes) if codes.size >= _TAKE_MIN else table[codes]


def _encode(table: Uint8Array, pcm: Int16Array) -> Uint8Array:
    index = _index(pcm)
    return table.take(index) if index.size >= _TAKE_MIN else table[index]


def ulaw_decode(data: bytes | bytearray | memoryview | Uint8Array) -> Int16Array:
    """µ-law codes (bytes or uint8 array of any shape) to int16 samples."""
    return _decode(ULAW_TO_LINEAR, data)


def alaw_decode(data: bytes | bytearray | memoryview | Uint8Array) -> Int16Array:
    """A-law codes (bytes or uint8 array of any shape) to int16 samples."""
    return _decode(ALAW_TO_LINEAR, data)


def ulaw_encode_array(pcm: Int16Array) -> Uint8Array:
    """int16 samples (any shape, e.g. n_calls x 160) to µ-law codes of the same shape."""
    return _encode(LINEAR_TO_ULAW, pcm)


def alaw_encode_array(pcm: Int16Array) -> Uint8Array:
    """int16 samples (any shape, e.g. n_calls x 160) to A-law codes of the same shape."""
    return _encode(LINEAR_TO_ALAW, pcm)


def ulaw_encode(pcm: Int16Array) -> bytes:
    """int16 samples to µ-law payload bytes (row-major for a 2-D batch)."""
    return _encode(LINEAR_TO_ULAW, pcm).tobytes()


def alaw_encode(pcm: Int16Array) -> bytes:
    """int16 samples to A-law payload bytes (row-major for a 2-D batch)."""
    return _encode(LINEAR_TO_ALAW, pcm).tobytes()


#: The static RTP payload types of the two laws (RFC 3551 §6, Table 4).
PAYLOAD_TYPES: Final = {"PCMU": 0, "PCMA": 8}


def _law(codec: str) -> bool:
    """True for µ-law, False for A-law; ValueError for anything else."""
    name = codec.upper()
    if name == "PCMU":
        return True
    if name == "PCMA":
        return False
    raise ValueError(f"unknown G.711 codec {codec!r}; expected 'PCMU' or 'PCMA'")


def decode(codec: str, data: bytes | bytearray | memoryview | Uint8Array) -> Int16Array:
    """Decode ``"PCMU"`` or ``"PCMA"`` codes to int16 samples (case-insensitive name)."""
    return _decode(ULAW_TO_LINEAR if _law(codec) else ALAW_TO_LINEAR, data)


def encode_array(codec: str, pcm: Int16Array) -> Uint8Array:
    """Encode int16 samples (any shape) as ``"PCMU"``/``"PCMA"`` codes of the same shape."""
    return _encode(LINEAR_TO_ULAW if _law(codec) else LINEAR_TO_ALAW, pcm)


def encode(codec: str, pcm: Int16Array) -> bytes:
    """Encode int16 samples as ``"PCMU"`` or ``"PCMA"`` payload bytes."""
    return encode_array(codec, pcm).tobytes()
