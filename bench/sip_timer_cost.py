"""Cost of one SIP transaction's timers against the number pending (issue 20).

    python bench/sip_timer_cost.py [--pending 0,1000,12800,100000] [--ops 20000]

Per transaction: start one timer, then end the transaction (cancel its
timers), with ``--pending`` other timers running meanwhile (12,800 is 400
call setups/s x Timer J's 32 s).  Three ways, in one uvloop loop (asyncio
when uvloop is missing):

- ``scan``: a loop timer per SIP timer in one dict keyed (transaction,
  name), the end of a transaction scanning every key (the endpoint before
  commit ff4edf0: the 30 % of issue 20);
- ``per-key``: a loop timer per SIP timer, kept per transaction (main before
  issue 20);
- ``queue``: :class:`bailanys.sip.timer_queue.TimerQueue` (one heap, lazy
  deletion; the endpoint keeps one loop timer for all).

Prints microseconds per transaction (median of 5 passes).  Figures for
humans, never a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bailanys.sip.timer_queue import TimerQueue  # noqa: E402

J_DELAY = 32.0  # Timer J, 64*T1 (RFC 3261 §17.2.2)


def _noop(*_: object) -> None:
    return None


def scan(loop: asyncio.AbstractEventLoop, pending: int, ops: int) -> float:
    timers: dict[tuple[int, str], asyncio.TimerHandle] = {}
    for i in range(pending):
        timers[(i, "J")] = loop.call_later(J_DELAY, _noop)
    start = time.perf_counter()
    for i in range(pending, pending + ops):
        timers[(i, "J")] = loop.call_later(J_DELAY, _noop)
        for k in [k for k in timers if k[0] == i]:
            timers.pop(k).cancel()
    took = time.perf_counter() - start
    for h in timers.values():
        h.cancel()
    return took


def per_key(loop: asyncio.AbstractEventLoop, pending: int, ops: int) -> float:
    timers: dict[int, dict[str, asyncio.TimerHandle]] = {}
    for i in range(pending):
        timers[i] = {"J": loop.call_later(J_DELAY, _noop)}
    start = time.perf_counter()
    for i in range(pending, pending + ops):
        timers.setdefault(i, {})["J"] = loop.call_later(J_DELAY, _noop)
        for h in timers.pop(i, {}).values():
            h.cancel()
    took = time.perf_counter() - start
    for d in timers.values():
        for h in d.values():
            h.cancel()
    return took


def queue(loop: asyncio.AbstractEventLoop, pending: int, ops: int) -> float:
    q: TimerQueue[int] = TimerQueue()
    now = loop.time()
    for i in range(pending):
        q.start(i, "J", now + J_DELAY)
    start = time.perf_counter()
    for i in range(pending, pending + ops):
        q.start(i, "J", loop.time() + J_DELAY)
        q.cancel_all(i)
    return time.perf_counter() - start


WAYS: dict[str, Callable[[asyncio.AbstractEventLoop, int, int], float]] = {
    "scan": scan, "per-key": per_key, "queue": queue,
}


async def measure(pendings: list[int], ops: int) -> None:
    loop = asyncio.get_running_loop()
    print(f"loop {type(loop).__module__}; us per transaction (start J, end); "
          f"median of 5 passes of {ops}")
    print(f"{'pending':>8} " + " ".join(f"{w:>9}" for w in WAYS))
    for pending in pendings:
        row = []
        for fn in WAYS.values():
            n = ops if fn is not scan else max(50, min(ops, 2_000_000 // max(pending, 1)))
            row.append(1e6 * statistics.median(fn(loop, pending, n) / n for _ in range(5)))
        print(f"{pending:>8} " + " ".join(f"{v:>9.2f}" for v in row), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pending", default="0,1000,12800,100000")
    ap.add_argument("--ops", type=int, default=20000)
    args = ap.parse_args()
    pendings = [int(x) for x in args.pending.split(",") if x]
    try:
        import uvloop

        uvloop.run(measure(pendings, args.ops))
    except ImportError:
        asyncio.run(measure(pendings, args.ops))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
