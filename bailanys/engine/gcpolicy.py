"""The engine's garbage-collection policy: no surprise stalls of the media tick.

CPython's cyclic collector stops the whole process while it scans.  With a
thousand calls a full (generation 2) pass over ~90,000 live objects took
~80 ms here: four media ticks, every call's audio late at once.  Most of
the engine's garbage is acyclic (RTP packets, SIP messages) and is freed by
reference counting the moment it is dropped, so the policy is:

* at start-up, collect once and freeze what exists (modules, prompts): no
  later pass scans them;
* while serving, a large generation 0 (packets die before any pass looks at
  them) and no automatic generation-2 passes;
* one full collection every ``FULL_INTERVAL`` seconds, timed and logged, so
  cyclic garbage (a call's tasks, exceptions with tracebacks) is still
  reclaimed and the stall is rare and visible.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger(__name__)

# Generation thresholds while serving: (allocations before a gen-0 pass,
# gen-0 passes before a gen-1 pass, gen-1 passes before a gen-2 pass).
SERVING_THRESHOLDS = (50_000, 20, 1_000_000_000)  # gen 2 only by FULL_INTERVAL
FULL_INTERVAL = 600.0  # seconds between full collections (a ~80 ms stall each)


class GcPolicy:
    """Owns the periodic full collection; ``stop`` restores the defaults."""

    def __init__(self, interval: float = FULL_INTERVAL) -> None:
        self.interval = interval
        self._timer: asyncio.TimerHandle | None = None
        self._saved = gc.get_threshold()
        self.collections = 0
        self.last_pause = 0.0

    def start(self) -> None:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*SERVING_THRESHOLDS)
        self._schedule()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        gc.set_threshold(*self._saved)
        gc.unfreeze()

    def _schedule(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self.interval, self._collect)

    def _collect(self) -> None:
        started = time.perf_counter()
        found = gc.collect()
        self.last_pause = time.perf_counter() - started
        self.collections += 1
        log.info("full garbage collection: %d unreachable, %.1f ms", found,
                 1000 * self.last_pause)
        self._schedule()
