"""Call recorder: both directions of a call leg to one stereo WAV file.

A disk error (full disk, bad path) is logged once and ends the recording,
never the call.  Left channel: what the remote party sent (the caller); right channel: what
we sent.  The media tick hands one frame per direction per tick; frames are
collected in memory and written in blocks by a worker thread (file I/O never
runs on the event loop).  A missing frame (packet loss, nothing sent) is
recorded as silence so both channels stay aligned in time.

``on_closed`` (optional) is called on the loop once the file is complete:
the engine then announces the recording (``recording.closed``, issue 15).
"""

from __future__ import annotations

import asyncio
import logging
import wave
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

SAMPLES_PER_FRAME = 160
SAMPLE_RATE = 8000
FLUSH_FRAMES = 50  # write to disk once a second of audio is collected
_SILENT = np.zeros(SAMPLES_PER_FRAME, dtype=np.int16)


class Recorder:
    """Collects 20 ms frames and appends them to a stereo 8 kHz 16-bit WAV."""

    def __init__(self, path: Path, executor: Executor) -> None:
        self.path = path
        self._executor = executor
        self._left: list[NDArray[np.int16]] = []
        self._right: list[NDArray[np.int16]] = []
        self._wav: wave.Wave_write | None = None
        self._raw: BinaryIO | None = None
        self._pending: asyncio.Future[None] | None = None
        self.frames = 0
        self.closed = False
        self.failed = False  # a disk error stopped this recording (logged; the call goes on)
        #: Called (on the loop) once :meth:`close` has finished the file.
        self.on_closed: Callable[[Recorder], None] | None = None

    @property
    def seconds(self) -> float:
        """The recording's length so far (every tick is recorded, silence too)."""
        return self.frames * SAMPLES_PER_FRAME / SAMPLE_RATE

    def write(self, rx: NDArray[np.int16] | None, tx: NDArray[np.int16] | None) -> None:
        """Record one tick: ``rx`` heard from the remote, ``tx`` sent to it."""
        if self.closed:
            return
        self._left.append(_SILENT if rx is None else rx)
        self._right.append(_SILENT if tx is None else tx)
        self.frames += 1
        if len(self._left) >= FLUSH_FRAMES and (self._pending is None or self._pending.done()):
            self._flush_async()

    def _take_block(self) -> bytes:
        left, right = self._left, self._right
        self._left, self._right = [], []
        if not left:
            return b""
        stereo = np.empty((len(left) * SAMPLES_PER_FRAME, 2), dtype="<i2")
        stereo[:, 0] = np.concatenate(left)
        stereo[:, 1] = np.concatenate(right)
        return stereo.tobytes()

    def _flush_async(self) -> None:
        block = self._take_block()
        loop = asyncio.get_running_loop()
        self._pending = asyncio.ensure_future(
            loop.run_in_executor(self._executor, self._append, block)
        )

    def _append(self, block: bytes) -> None:  # runs in the worker thread
        if self.failed:
            return  # the file is unusable; the error was logged once
        try:
            self._write(block)
        except OSError as exc:
            self.failed = True
            log.error("recording %s failed: %s", self.path, exc)
            self._close_file()

    def _write(self, block: bytes) -> None:
        if self._wav is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Open the file first: wave.open(path) that fails leaves a broken
            # Wave_write whose finaliser raises.
            self._raw = open(self.path, "wb")  # noqa: SIM115 (closed in _close_file)
            wav = wave.open(self._raw, "wb")
            wav.setnchannels(2)
            wav.setsampwidth(2)
            wav.setframerate(8000)
            self._wav = wav
        if block:
            self._wav.writeframes(block)

    def _close_file(self) -> None:
        wav, self._wav = self._wav, None
        if wav is not None:
            try:
                wav.close()  # wave does not close a file object it was given
                if self._raw is not None:
                    self._raw.close()
            except OSError as exc:
                log.error("closing recording %s failed: %s", self.path, exc)

    def _finish(self, block: bytes) -> None:  # runs in the worker thread
        self._append(block)
        self._close_file()

    async def close(self) -> None:
        """Write what is left and close the file (waits for pending writes)."""
        if self.closed:
            return
        self.closed = True
        if self._pending is not None:
            await self._pending
        block = self._take_block()
        await asyncio.get_running_loop().run_in_executor(self._executor, self._finish, block)
        on_closed, self.on_closed = self.on_closed, None
        if on_closed is not None:
            try:
                on_closed(self)
            except Exception:
                log.exception("recording %s: the closed hook failed", self.path)
