"""Progress of slow start-up steps, as log lines at a bounded rate.

A start-up step that can take more than a second (the FAQ embeddings take
~20 s on a first start) shows its progress, so that a start is never silent
for long.  A step that ends within :data:`SLOW_STEP_S` says nothing; a longer
one says what it is doing after that second, then every
:data:`PROGRESS_INTERVAL_S`, with a count when it has one (``rendering
prompts: 120/480 (3 s)``), and how long it took when it ends.

:class:`StepProgress` is the pure core (time and counts are inputs; it only
says which line is due); :class:`StartupProgress` is the asyncio adapter: a
heartbeat task per step, owned and cancelled when the step ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "PROGRESS_INTERVAL_S",
    "SLOW_STEP_S",
    "Count",
    "StartupProgress",
    "StepProgress",
]

#: A step quicker than this is not reported: a second is not worth a line.
SLOW_STEP_S: Final = 1.0
#: At most one progress line per step this often: a 20 s step writes ~10
#: lines, readable on a terminal and in the journal.
PROGRESS_INTERVAL_S: Final = 2.0

#: Reads a step's count: (done, total); a total of 0 means "nothing to count".
Count = Callable[[], tuple[int, int]]


@dataclass
class StepProgress:
    """When one step's progress lines are due, and what they say (pure)."""

    what: str
    started: float
    slow_s: float = SLOW_STEP_S
    interval_s: float = PROGRESS_INTERVAL_S
    lines: int = 0
    next_due: float = field(init=False)

    def __post_init__(self) -> None:
        self.next_due = self.started + self.slow_s

    def due(self, now: float, count: tuple[int, int] = (0, 0)) -> str | None:
        """The line to log at ``now``, or None before it is due."""
        if now < self.next_due:
            return None
        self.next_due = now + self.interval_s
        self.lines += 1
        return f"{self.what}: {_count(count)}{now - self.started:.0f} s so far"

    def finished(self, now: float, count: tuple[int, int] = (0, 0)) -> str | None:
        """The closing line: only for a step that was slow (or said something)."""
        elapsed = now - self.started
        if elapsed < self.slow_s and not self.lines:
            return None
        return f"{self.what}: {_count(count)}done in {elapsed:.1f} s"


def _count(count: tuple[int, int]) -> str:
    done, total = count
    return f"{done}/{total}, " if total > 0 else ""


class StartupProgress:
    """Reports the steps of one start-up through ``emit`` (a logger's ``info``)."""

    def __init__(
        self,
        emit: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        slow_s: float = SLOW_STEP_S,
        interval_s: float = PROGRESS_INTERVAL_S,
    ) -> None:
        self._emit = emit
        self._clock = clock
        self._slow_s = slow_s
        self._interval_s = interval_s
        self.started = clock()

    @contextlib.asynccontextmanager
    async def step(self, what: str, count: Count | None = None) -> AsyncIterator[None]:
        """Run the body as the step ``what``; ``count`` is read for each line."""
        progress = StepProgress(what, self._clock(), self._slow_s, self._interval_s)
        read = count or _nothing
        beat = asyncio.get_running_loop().create_task(
            self._beat(progress, read), name=f"progress: {what}"
        )
        try:
            yield
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
        line = progress.finished(self._clock(), read())
        if line is not None:
            self._emit(line)

    def ready(self) -> str:
        """The closing line of the whole start-up: ``ready in N s``."""
        return f"ready in {self._clock() - self.started:.1f} s"

    async def _beat(self, progress: StepProgress, read: Count) -> None:
        while True:
            await asyncio.sleep(max(0.0, progress.next_due - self._clock()))
            line = progress.due(self._clock(), read())
            if line is not None:
                self._emit(line)


def _nothing() -> tuple[int, int]:
    return (0, 0)
