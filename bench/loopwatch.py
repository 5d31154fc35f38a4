"""The event loop's lag and the collector's pauses, seen from inside the engine (issue 20).

``bench/engine_runner.py`` starts a :class:`LoopWatch` next to the engine: a
task that asks to wake every :data:`PERIOD` seconds and records how late it
woke (the loop was busy, or the process had no CPU), the worst lag per
second, and, through ``gc.callbacks``, every collector pass with its
generation, duration and CPU time (the pause it makes on a core of its
own). On a shared machine a lag is often the process
waiting for a core: each wake-up also counts the engine's own share of the
lag, at most the CPU time the process used meanwhile (``own``).
``bench/sip_setup.py`` reads both for the seconds SIPp ran: a retransmission
or a p99 spike then shows whether the loop stalled and whether a collection
was the stall.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

PERIOD = 0.01  # seconds between wake-ups (cost: ~100 short callbacks per second)


class LoopWatch:
    """Worst lag per second and the collector's passes, kept for the whole run."""

    def __init__(self) -> None:
        self.per_second: list[tuple[int, float, float]] = []  # (second, worst lag, worst own)
        #: (end, generation, seconds, CPU seconds: the pause on a core of its own)
        self.passes: list[tuple[float, int, float, float]] = []
        self._gc_started = 0.0
        self._gc_cpu = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="loopwatch")

    def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if phase == "start":
            self._gc_started, self._gc_cpu = now, cpu
        else:
            self.passes.append((time.monotonic(), int(info["generation"]),
                                now - self._gc_started, cpu - self._gc_cpu))

    async def _run(self) -> None:
        second, worst, worst_own = int(time.monotonic()), 0.0, 0.0
        while True:
            due = time.monotonic() + PERIOD
            cpu = time.process_time()
            await asyncio.sleep(PERIOD)
            now = time.monotonic()
            lag = max(0.0, now - due)
            own = min(lag, time.process_time() - cpu)  # busy, not waiting for a core
            if int(now) != second:
                self.per_second.append((second, worst, worst_own))
                second, worst, worst_own = int(now), 0.0, 0.0
            worst = max(worst, lag)
            worst_own = max(worst_own, own)

    def report(self) -> dict[str, object]:
        """What ``stats`` prints: the per-second worst lags and the passes, in ms."""
        return {
            "lag_per_s": [(s, round(1000 * lag, 2), round(1000 * own, 2))
                          for s, lag, own in self.per_second],
            "gc_passes": [(round(t, 3), g, round(1000 * d, 3), round(1000 * c, 3))
                          for t, g, d, c in self.passes],
        }


def window(report: dict[str, Any], start: float, end: float) -> dict[str, float]:
    """Summary of ``report`` between two monotonic times: worst lag, seconds
    with a lag over 20 / 50 ms, the worst own lag, collector time and worst
    pause (all ms)."""
    rows = [row for row in report.get("lag_per_s", []) if start <= row[0] < end]
    lags = [row[1] for row in rows]
    owns = [row[2] for row in rows if len(row) > 2]
    passes = [p for p in report.get("gc_passes", []) if start <= p[0] <= end]
    pauses = [p[2] for p in passes]
    cpu = [p[3] for p in passes if len(p) > 3]
    nan = float("nan")
    return {
        "lag_max_ms": max(lags, default=nan) if "lag_per_s" in report else nan,
        "lag_s_over_20": float(sum(1 for x in lags if x > 20)) if lags else nan,
        "lag_s_over_50": float(sum(1 for x in lags if x > 50)) if lags else nan,
        "own_max_ms": max(owns, default=nan),
        "own_s_over_20": float(sum(1 for x in owns if x > 20)) if owns else nan,
        "gc_ms": sum(pauses) if "gc_passes" in report else nan,
        "gc_max_ms": max(pauses, default=0.0) if "gc_passes" in report else nan,
        "gc_cpu_max_ms": max(cpu, default=0.0) if "gc_passes" in report else nan,
    }
