"""The set-up bench's loop watch (issue 20): lags per second, the engine's
own share of them, the collector's passes, and the summary over a window."""

from __future__ import annotations

import asyncio
import gc
import math
import time

from bench.loopwatch import LoopWatch, window


async def test_watch_sees_a_stall_and_a_collection() -> None:
    watch = LoopWatch()
    watch.start()
    try:
        await asyncio.sleep(0.05)
        t0 = time.monotonic()
        end = time.perf_counter() + 0.08
        while time.perf_counter() < end:  # the loop busy for 80 ms: its own stall
            pass
        gc.collect()
        await asyncio.sleep(1.1)  # the second closes
        report = watch.report()
    finally:
        watch.stop()
    assert gc.callbacks.count(watch._on_gc) == 0
    summary = window(report, int(t0) - 1, time.monotonic() + 1)
    assert summary["lag_max_ms"] >= 70
    # busy, not only waiting for a core (a shared machine may take some of it)
    assert 0 < summary["own_max_ms"] <= summary["lag_max_ms"]
    assert summary["lag_s_over_50"] >= 1
    assert summary["gc_ms"] > 0 and summary["gc_max_ms"] > 0
    assert any(p[1] == 2 for p in report["gc_passes"])  # type: ignore[union-attr]
    assert summary["gc_cpu_max_ms"] > 0


def test_window_of_an_engine_without_the_watch() -> None:
    summary = window({}, 0.0, 10.0)
    assert all(math.isnan(v) for v in summary.values())


def test_window_counts_seconds_inside_it() -> None:
    report = {"lag_per_s": [(9, 80.0, 70.0), (10, 60.0, 10.0), (11, 25.0, 25.0), (20, 500.0, 1.0)],
              "gc_passes": [(10.5, 0, 3.0, 2.0), (11.2, 1, 12.0, 9.0), (30.0, 2, 90.0, 80.0)]}
    s = window(report, 10.0, 12.0)
    assert s["lag_max_ms"] == 60.0 and s["lag_s_over_50"] == 1 and s["lag_s_over_20"] == 2
    assert s["own_max_ms"] == 25.0 and s["own_s_over_20"] == 1
    assert s["gc_ms"] == 15.0 and s["gc_max_ms"] == 12.0 and s["gc_cpu_max_ms"] == 9.0
