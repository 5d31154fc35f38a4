"""LoopTimers: many keyed timers on one loop timer (issue 20), on a real loop.

A hypothesis walk of starts, restarts, cancels and cancel-alls (delays of a
few milliseconds) against a naive model: exactly the timers left running
fire, each once, in deadline order (ties in start order); a firing that
raises is logged and the others still fire; a timer started by a firing
fires later, never in the same wake-up.
"""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from bailanys.sip.loop_timers import LoopTimers

KEYS = ["a", "b", "c"]
NAMES = ["2xx-retransmit", "2xx-no-ack", "max-duration"]

op = st.one_of(
    st.tuples(st.just("start"), st.sampled_from(KEYS), st.sampled_from(NAMES),
              st.integers(0, 12)),
    st.tuples(st.just("cancel"), st.sampled_from(KEYS), st.sampled_from(NAMES), st.just(0)),
    st.tuples(st.just("cancel_all"), st.sampled_from(KEYS), st.just(""), st.just(0)),
)


async def _drained(timers: LoopTimers[str]) -> None:
    """Until no timer runs (each fired or cancelled), however late the loop is
    (a loaded machine: a re-armed wake-up may come after a plain sleep's end)."""
    for _ in range(400):
        if not len(timers):
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{len(timers)} timers never fired")


async def _walk(ops: list[tuple[str, str, str, int]]) -> tuple[list[tuple[str, str]],
                                                                 list[tuple[str, str]]]:
    fired: list[tuple[str, str]] = []
    timers: LoopTimers[str] = LoopTimers(lambda k, n: fired.append((k, n)))
    model: dict[tuple[str, str], tuple[float, int]] = {}
    seq = itertools.count()
    for kind, key, name, ms in ops:
        if kind == "start":
            timers.start(key, name, ms / 1000)
            deadline = timers.queue.deadline(key, name)  # the loop's clock + the delay
            assert deadline is not None
            model[(key, name)] = (deadline, next(seq))
        elif kind == "cancel":
            assert timers.cancel(key, name) == ((key, name) in model)
            model.pop((key, name), None)
        else:
            gone = [k for k in model if k[0] == key]
            assert timers.cancel_all(key) == len(gone)
            for k in gone:
                del model[k]
        assert len(timers) == len(model)
    await _drained(timers)
    timers.close()
    return fired, sorted(model, key=lambda k: model[k])


@settings(max_examples=60, deadline=None, database=None)  # no .hypothesis/ files
@given(st.lists(op, max_size=14))
def test_the_running_timers_fire_once_in_deadline_order(
        ops: list[tuple[str, str, str, int]]) -> None:
    fired, expected = asyncio.run(_walk(ops))
    assert fired == expected


async def test_a_raising_timer_does_not_stop_the_others_and_a_firing_starts_later() -> None:
    fired: list[tuple[str, str]] = []
    timers: LoopTimers[str] = LoopTimers(lambda k, n: on_fire(k, n))

    def on_fire(key: str, name: str) -> None:
        fired.append((key, name))
        if key == "bad":
            raise RuntimeError("boom")
        if name == "first":
            timers.start(key, "again", 0.0)  # due at once, but fires on the next wake-up

    timers.start("bad", "x", 0.001)
    timers.start("good", "first", 0.001)
    timers.start("good", "later", 0.003)
    await _drained(timers)
    assert fired[:2] == [("bad", "x"), ("good", "first")]
    assert sorted(fired[2:]) == [("good", "again"), ("good", "later")]
    assert len(timers) == 0
    timers.close()
