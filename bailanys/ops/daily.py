"""Once a day at a local time: the pure schedule and the owned task.

:func:`next_run` is pure (time is an input): the next ``HH:MM`` in the zone
strictly after ``now``, in epoch seconds. A day that skips or repeats the
hour (a DST change; Asia/Almaty has none since 2024, but the database knows
the past) takes the zone's own answer for that wall time.

:class:`DailyJob` is the adapter: one task, owned by the service that
starts it (``stop()`` cancels and awaits it), sleeping until the next run
and then awaiting ``job()``. A job that fails is logged; the next day tries
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)


def next_run(now: float, hour: int, minute: int, tz: ZoneInfo) -> float:
    """Epoch seconds of the first ``hour:minute`` local time after ``now``."""
    local = datetime.fromtimestamp(now, tz)
    due = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if due.timestamp() <= now:
        due = (due.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=tz)
    return due.timestamp()


class DailyJob:
    """``job()`` every day at ``hour:minute`` in ``tz``."""

    def __init__(self, name: str, hour: int, minute: int, tz: ZoneInfo,
                 job: Callable[[], Awaitable[object]], *,
                 clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.hour = hour
        self.minute = minute
        self.tz = tz
        self.job = job
        self.clock = clock
        self.runs = 0
        self.next_at = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            now = self.clock()
            self.next_at = next_run(now, self.hour, self.minute, self.tz)
            log.info("%s: next run at %s", self.name,
                     datetime.fromtimestamp(self.next_at, self.tz).isoformat())
            await asyncio.sleep(max(0.0, self.next_at - now))
            await self.run_once()

    async def run_once(self) -> None:
        """Run the job now (the loop and tests); its failure is logged."""
        try:
            await self.job()
        except Exception:
            log.exception("%s failed; the next run is tomorrow", self.name)
        self.runs += 1
