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
from typing import Protocol

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


class FrameSink(Protocol):
    """Where a bound player's current prompt is played from: the media core's cursor.

    ``load`` hands it the prompt's encoded frames from ``pos`` (or None:
    silence); ``position`` is the next frame it will send.
    """

    def load(self, encoded: bytes | None, pos: int, frames: int) -> None: ...
    def position(self) -> int: ...


@dataclass(slots=True)
class _Item:
    audio: EncodedAudio
    interruptible: bool
    done: asyncio.Future[bool]
    frames: int  # audio.frames, read once
    pos: int = 0  # next frame index


class Player:
    """A queue of prompts for one call leg.

    Unbound, the media tick calls ``next_frame`` for each frame.  Bound to a
    :class:`FrameSink` (the media core), the core plays the head prompt by
    itself and the hub calls :meth:`finished` when it reached its end; the
    player then only loads the sink whenever its queue changes.
    """

    __slots__ = ("_last", "_queue", "_silence", "_sink", "codec", "frames_played")

    def __init__(self, codec: str = "PCMU") -> None:
        self._queue: deque[_Item] = deque()
        self.codec = codec
        self._silence = bytes([SILENCE_BYTE[codec]]) * SAMPLES_PER_FRAME
        self.frames_played = 0
        self._last: _Item | None = None  # whose frame pos - 1 was handed out last
        self._sink: FrameSink | None = None

    def set_codec(self, codec: str) -> None:
        self._sync()
        self.codec = codec
        self._silence = bytes([SILENCE_BYTE[codec]]) * SAMPLES_PER_FRAME
        self._load()

    # ------------------------------------------------------------ bound to the core

    @property
    def bound(self) -> bool:
        return self._sink is not None

    def bind(self, sink: FrameSink) -> None:
        """Let ``sink`` play the frames from now on."""
        self._sync()
        self._sink = sink
        self._load()

    def unbind(self) -> None:
        """Take the frames back (``next_frame`` again): the sink plays silence."""
        sink = self._sink
        if sink is None:
            return
        self._sync()
        sink.load(None, 0, 0)
        self._sink = None

    def _sync(self) -> None:
        """Read back how far the sink played the head prompt."""
        sink = self._sink
        if sink is None or not self._queue:
            return
        head = self._queue[0]
        pos = min(sink.position(), head.frames)
        if pos > head.pos:
            self.frames_played += pos - head.pos
            head.pos = pos
            self._last = head

    def _load(self) -> None:
        sink = self._sink
        if sink is None:
            return
        if self._queue:
            head = self._queue[0]
            sink.load(head.audio.encoded[self.codec], head.pos, head.frames)
        else:
            sink.load(None, 0, 0)

    def finished(self) -> None:
        """The sink played the head prompt to its end: resolve it, load the next."""
        self._sync()
        queue = self._queue
        while queue and queue[0].pos >= queue[0].frames:
            item = queue.popleft()
            if not item.done.done():
                item.done.set_result(True)
        self._load()

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
        if len(self._queue) == 1:
            self._load()
        return fut

    def barge_in(self) -> bool:
        """Cut every interruptible prompt (a DTMF digit arrived).  True if any was cut."""
        self._sync()
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
        if cut:
            self._load()
        return cut

    def stop(self) -> None:
        """Cut everything (the call is ending)."""
        while self._queue:
            item = self._queue.popleft()
            if not item.done.done():
                item.done.set_result(False)
        self._load()

    def next_frame(self) -> bytes:
        """The next 20 ms payload in the current codec: the prompt, or silence."""
        if self._sink is not None:  # bound: keep the sink's cursor where we leave it
            self._sync()
            sink, self._sink = self._sink, None
            try:
                return self.next_frame()
            finally:
                self._sink = sink
                self._load()
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
