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

Prints microseconds per transaction (median of 5 passes).  Then the
firing path: ``--fire`` timers spread over half a second, each firing once
(Timer J ending a BYE's transaction), CPU microseconds per timer with a
loop timer each (``per-key``) and through the endpoint's own adapter
(``Endpoint._start_timer``: the queue and one loop timer).  Figures for
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

from bailanys.sip.endpoint import Endpoint  # noqa: E402
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


class _NoSender:
    def send(self, data: bytes, addr: tuple[str, int], transport: str = "UDP") -> None:
        return None


async def fire_per_key(n: int) -> float:
    loop = asyncio.get_running_loop()
    timers: dict[tuple[str, ...], dict[str, asyncio.TimerHandle]] = {}
    done = loop.create_future()

    def fire(key: tuple[str, ...], name: str) -> None:
        timers.get(key, {}).pop(name, None)
        timers.pop(key, None)
        if not timers and not done.done():
            done.set_result(None)

    start = time.process_time()
    for i in range(n):
        key = (str(i),)
        timers.setdefault(key, {})["J"] = loop.call_later(0.5 * i / n, fire, key, "J")
    await done
    return time.process_time() - start


async def fire_endpoint(n: int) -> float:
    endpoint = Endpoint(_NoSender(), "127.0.0.1", 5060)
    start = time.process_time()
    for i in range(n):
        endpoint._start_timer((str(i),), "J", 0.5 * i / n)  # no transaction: a no-op fire
    await asyncio.sleep(0.6)  # every deadline is within 0.5 s
    assert len(endpoint.timer_queue) == 0
    took = time.process_time() - start
    endpoint.close()
    return took


async def measure(pendings: list[int], ops: int, fire: int) -> None:
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
    if fire:
        per_key_s = statistics.median([await fire_per_key(fire) for _ in range(3)])
        queue_s = statistics.median([await fire_endpoint(fire) for _ in range(3)])
        print(f"firing {fire} timers: CPU us per timer: per-key {1e6 * per_key_s / fire:.2f}, "
              f"endpoint queue {1e6 * queue_s / fire:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pending", default="0,1000,12800,100000")
    ap.add_argument("--ops", type=int, default=20000)
    ap.add_argument("--fire", type=int, default=20000)
    args = ap.parse_args()
    pendings = [int(x) for x in args.pending.split(",") if x]
    try:
        import uvloop

        uvloop.run(measure(pendings, args.ops, args.fire))
    except ImportError:
        asyncio.run(measure(pendings, args.ops, args.fire))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
