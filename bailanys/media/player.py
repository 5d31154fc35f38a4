"""Prompt player: hands one 20 ms frame per tick to a call's RTP sender.

Prompts are decoded once and kept encoded per codec (:class:`EncodedAudio`),
so playing to a thousand calls costs one bytes slice per call per tick, not
a G.711 conversion.  A play request returns a future that resolves ``True``
when the prompt finished and ``False`` when it was cut (barge-in on DTMF, or
``stop()``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from bailanys.media import g711

SAMPLES_PER_FRAME = 160  # 20 ms at 8 kHz (RFC 3551 §4.5.14)
SILENCE_BYTE = {"PCMU": 0xFF, "PCMA": 0xD5}  # G.711 encodings of 0


@dataclass(frozen=True)
class EncodedAudio:
    """8 kHz mono audio kept as int16 PCM and pre-encoded G.711 payloads.

    The payloads are padded with silence to a whole number of frames.
    """

    pcm: NDArray[np.int16]
    encoded: dict[str, bytes] = field(repr=False)

    @classmethod
    def from_pcm(cls, pcm: NDArray[np.int16]) -> EncodedAudio:
        frames = -(-len(pcm) // SAMPLES_PER_FRAME)
        padded = np.zeros(max(frames, 1) * SAMPLES_PER_FRAME, dtype=np.int16)
        padded[: len(pcm)] = pcm
        return cls(
            pcm=padded,
            encoded={"PCMU": g711.ulaw_encode(padded), "PCMA": g711.alaw_encode(padded)},
        )

    @property
    def frames(self) -> int:
        return len(self.pcm) // SAMPLES_PER_FRAME

    @property
    def duration(self) -> float:
        return len(self.pcm) / 8000.0


@dataclass(slots=True)
class _Item:
    audio: EncodedAudio
    interruptible: bool
    done: asyncio.Future[bool]
    frames: int  # audio.frames, read once
    pos: int = 0  # next frame index


class Player:
    """A queue of prompts for one call leg; ``next_frame`` is called by the media tick."""

    __slots__ = ("_last", "_queue", "_silence", "codec", "frames_played")

    def __init__(self, codec: str = "PCMU") -> None:
        self._queue: deque[_Item] = deque()
        self.codec = codec
        self._silence = bytes([SILENCE_BYTE[codec]]) * SAMPLES_PER_FRAME
        self.frames_played = 0
        self._last: _Item | None = None  # whose frame pos - 1 was handed out last

    def set_codec(self, codec: str) -> None:
        self.codec = codec
        self._silence = bytes([SILENCE_BYTE[codec]]) * SAMPLES_PER_FRAME

    @property
    def last_pcm(self) -> NDArray[np.int16] | None:
        """The PCM of the frame last handed out (None for silence), for recorders."""
        last = self._last
        if last is None:
            return None
        start = (last.pos - 1) * SAMPLES_PER_FRAME
        return last.audio.pcm[start : start + SAMPLES_PER_FRAME]

    @property
    def playing(self) -> bool:
        return bool(self._queue)

    def play(self, audio: EncodedAudio, *, interruptible: bool = True) -> asyncio.Future[bool]:
        """Queue ``audio``; the future resolves when it finished (True) or was cut (False)."""
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append(_Item(audio, interruptible, fut, audio.frames))
        return fut

    def barge_in(self) -> bool:
        """Cut every interruptible prompt (a DTMF digit arrived).  True if any was cut."""
        cut = False
        kept: deque[_Item] = deque()
        for item in self._queue:
            if item.interruptible:
                if not item.done.done():
                    item.done.set_result(False)
                cut = True
            else:
                kept.append(item)
        self._queue = kept
        return cut

    def stop(self) -> None:
        """Cut everything (the call is ending)."""
        while self._queue:
            item = self._queue.popleft()
            if not item.done.done():
                item.done.set_result(False)

    def next_frame(self) -> bytes:
        """The next 20 ms payload in the current codec: the prompt, or silence."""
        queue = self._queue
        while queue:
            item = queue[0]
            pos = item.pos
            if pos < item.frames:
                item.pos = pos + 1
                self.frames_played += 1
                self._last = item  # last_pcm is sliced only if a recorder asks
                start = pos * SAMPLES_PER_FRAME
                return item.audio.encoded[self.codec][start : start + SAMPLES_PER_FRAME]
            queue.popleft()
            if not item.done.done():
                item.done.set_result(True)
        self._last = None
        return self._silence
