"""Media clock: absolute-time pacing, stall catch-up and skipping, handler errors, stop.

Most tests give the clock a fake ``now`` that only the tick handler moves
(the handler "takes" that long).  While the clock is on time or behind it
never waits for real (timers of zero delay only), so lateness and skip accounting
are exact.  One test checks real pacing on the loop with ptime = 5 ms.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from bailanys.media import clock as clock_module
from bailanys.media.clock import LATE_THRESHOLD, MAX_CATCH_UP, ClockStats, MediaClock

P = 1 / 16  # a binary fraction: multiples of it are exact floats
assert P > LATE_THRESHOLD


class Scripted:
    """A tick handler on fake time: tick ``i`` takes ``cost.get(i, P)`` seconds."""

    def __init__(self, cost: dict[int, float], stop_at: int,
                 fail: Callable[[int], bool] = lambda i: False) -> None:
        self.t = 0.0
        self.cost = cost
        self.stop_at = stop_at
        self.fail = fail
        self.ticks: list[int] = []
        self.stats: ClockStats | None = None
        self.reached = asyncio.Event()

    def now(self) -> float:
        return self.t

    def __call__(self, index: int) -> None:
        self.ticks.append(index)
        self.t += self.cost.get(index, P)
        if index >= self.stop_at and not self.reached.is_set():
            self.reached.set()
        if self.fail(index):
            raise RuntimeError(f"tick {index} failed")


async def run(script: Scripted) -> MediaClock:
    clock = MediaClock(script, ptime=P, now=script.now)
    clock.start()
    await asyncio.wait_for(script.reached.wait(), 2.0)
    await clock.stop()
    return clock


async def test_on_time_ticks_are_consecutive_and_not_late() -> None:
    script = Scripted({}, stop_at=20)
    clock = await run(script)
    assert script.ticks[:21] == list(range(21))
    assert clock.stats.late_ticks == 0
    assert clock.stats.skipped_ticks == 0
    assert clock.stats.max_lateness == 0.0
    assert clock.due(3) == 3 * P


async def test_short_stall_is_caught_up_back_to_back() -> None:
    # tick 3 takes 4 ptimes: ticks 4, 5, 6 run late (3, 2, 1 ptimes) with no work
    script = Scripted({3: 4 * P, 4: 0.0, 5: 0.0, 6: 0.0}, stop_at=9)
    clock = await run(script)
    assert script.ticks[:10] == list(range(10))
    assert clock.stats.skipped_ticks == 0
    assert clock.stats.late_ticks == 3
    assert clock.stats.max_lateness == 3 * P


async def test_long_stall_skips_ahead_and_counts_the_skipped_ticks() -> None:
    # tick 3 takes 10 ptimes: tick 4 would run 9 ptimes late, more than MAX_CATCH_UP
    script = Scripted({3: 10 * P}, stop_at=15)
    clock = await run(script)
    assert script.ticks[:6] == [0, 1, 2, 3, 13, 14]
    assert clock.stats.skipped_ticks == 9
    assert clock.stats.late_ticks == 0  # tick 13 ran on its own due time
    assert clock.last_lateness == 0.0


@pytest.mark.parametrize(("behind", "skips"), [(MAX_CATCH_UP, False), (MAX_CATCH_UP + 1, True)])
async def test_catch_up_limit(behind: int, skips: bool) -> None:
    cost = {3: (behind + 1) * P} | {i: 0.0 for i in range(4, 4 + behind)}
    script = Scripted(cost, stop_at=4 + behind + 2)
    clock = await run(script)
    if skips:
        assert script.ticks[4] == 4 + behind
        assert clock.stats.skipped_ticks == behind
    else:
        assert script.ticks[: 4 + behind + 2] == list(range(4 + behind + 2))
        assert clock.stats.skipped_ticks == 0
        assert clock.stats.late_ticks == behind


async def test_handler_exception_does_not_stop_the_clock(
    caplog: pytest.LogCaptureFixture,
) -> None:
    script = Scripted({}, stop_at=6, fail=lambda i: i in (2, 4))
    with caplog.at_level(logging.ERROR, logger=clock_module.__name__):
        await run(script)
    assert script.ticks[:7] == list(range(7))
    failed = [r.getMessage() for r in caplog.records]
    assert failed == ["media tick 2 failed", "media tick 4 failed"]


async def test_stop_cancels_and_no_tick_follows() -> None:
    script = Scripted({}, stop_at=3)
    clock = await run(script)
    assert not clock.running
    count = len(script.ticks)
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(script.ticks) == count
    await clock.stop()  # again: nothing to do


async def test_stop_before_start_and_start_twice() -> None:
    script = Scripted({}, stop_at=2)
    clock = MediaClock(script, ptime=P, now=script.now)
    await clock.stop()
    clock.start()
    clock.start()  # already running: no second timer chain
    await asyncio.wait_for(script.reached.wait(), 2.0)
    await clock.stop()
    assert not clock.running
    ticks = len(script.ticks)
    assert script.ticks == list(range(ticks))  # one chain: no index seen twice


async def test_real_time_pacing_with_5_ms_ptime() -> None:
    ticks: list[int] = []
    loop = asyncio.get_running_loop()
    clock = MediaClock(ticks.append, ptime=0.005)
    started = loop.time()
    clock.start()
    await asyncio.sleep(0.1)
    await clock.stop()
    elapsed = loop.time() - started
    # never ahead of schedule: at most one tick per ptime elapsed (plus tick 0)
    assert clock.stats.ticks + clock.stats.skipped_ticks <= int(elapsed / 0.005) + 1
    assert clock.stats.ticks >= 5  # and it does run (loose bound: busy CI machines)
    assert ticks == sorted(set(ticks))
    assert ticks[0] == 0
