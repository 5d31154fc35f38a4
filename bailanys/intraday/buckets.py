"""A day in 15-minute intervals of the centre's local time: pure, time is an input.

What counts where (docs/kpi.md, "Counts go to the window in which their
event happens"): a caller is *offered* in the interval of its
``queue.joined``, *answered* (with its wait) in that of its
``call.connected``, *lost* in that of its ``queue.abandoned`` when the caller
hung up (``cause`` caller) and the abandon was not short (KPI 5). A call
joined at 23:59:50 and answered at 00:00:10 is offered on one day and
answered on the next, as the KPI windows count it.

Agents are time-weighted: an interval's *logged in* is the agents' seconds
in any state but ``logged_out`` over the interval's seconds (so two agents
logged in for the whole interval and one for half of it give 2.5), and
*available* the same over ``available``. A state that spans several
intervals (or midnight) is split at their edges (:func:`split_span`). An
interval of today that has not ended yet is divided by the seconds elapsed.

The day is the local calendar day in ``tz`` (``bailanys.timezone``: Asia/
Almaty, UTC+5 with no daylight saving time since 1 March 2024); a day whose
offset changed (29 Feb 2024 had 25 hours) simply has more intervals.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from typing import Any, Final, Literal

INTERVAL_S: Final = 900
#: What a queue fact counts as.
FactKind = Literal["offered", "answered", "lost"]
LOGGED_OUT: Final = "logged_out"
AVAILABLE: Final = "available"


def day_bounds(day: dt.date, tz: dt.tzinfo) -> tuple[float, float]:
    """Epoch seconds of the local midnight that starts ``day`` and of the next one."""
    start = dt.datetime.combine(day, dt.time(0), tz).timestamp()
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz).timestamp()
    return start, end


def slot_count(start: float, end: float, interval_s: int = INTERVAL_S) -> int:
    return max(0, math.ceil((end - start) / interval_s))


def slot_of(ts: float, start: float, interval_s: int = INTERVAL_S) -> int:
    """The interval index of ``ts`` in a day starting at ``start`` (may be out of range)."""
    return math.floor((ts - start) / interval_s)


def labels(start: float, end: float, tz: dt.tzinfo, interval_s: int = INTERVAL_S) -> list[str]:
    """Each interval's local start, ``HH:MM``."""
    return [dt.datetime.fromtimestamp(start + i * interval_s, tz).strftime("%H:%M")
            for i in range(slot_count(start, end, interval_s))]


def split_span(begin: float, end: float, start: float, slots: int,
               interval_s: int = INTERVAL_S) -> Iterator[tuple[int, float]]:
    """``(slot, seconds)`` of the span [begin, end) inside the day's ``slots``
    intervals from ``start``; the parts outside the day are dropped."""
    lo = max(begin, start)
    hi = min(end, start + slots * interval_s)
    while lo < hi:
        slot = slot_of(lo, start, interval_s)
        edge = min(hi, start + (slot + 1) * interval_s)
        yield slot, edge - lo
        lo = edge


@dataclass(frozen=True, slots=True)
class QueueFact:
    """One counted moment of a caller in a queue (read from its event)."""

    ts: float
    kind: FactKind
    queue: str
    waited: float = 0.0


@dataclass(frozen=True, slots=True)
class StateChange:
    """An agent entered ``state`` at ``ts`` (``agent.state``)."""

    ts: float
    agent: str
    state: str


@dataclass(slots=True)
class Slot:
    """One interval's counts and agent seconds."""

    offered: int = 0
    answered: int = 0
    lost: int = 0
    answered_wait_total: float = 0.0
    logged_in_s: float = 0.0
    available_s: float = 0.0

    def average_wait(self) -> float | None:
        return self.answered_wait_total / self.answered if self.answered else None


@dataclass(slots=True)
class DaySeries:
    """A day's intervals: ``slots[i]`` starts at ``start + i * interval_s``."""

    start: float
    end: float
    slots: list[Slot]
    #: Seconds of each interval that have passed (``interval_s`` for a past day).
    elapsed: list[float] = field(default_factory=list)
    interval_s: int = INTERVAL_S
    #: Each agent's state at the end of what was counted (the next day's ``initial``).
    states: dict[str, str] = field(default_factory=dict)

    def agents(self, i: int, seconds: float) -> float | None:
        span = self.elapsed[i]
        return seconds / span if span > 0 else None

    def to_json(self) -> dict[str, list[Any]]:
        """Parallel lists, one value per interval (null: nothing to average, or
        the interval has not begun)."""
        begun = [(s, e > 0) for s, e in zip(self.slots, self.elapsed, strict=True)]
        return {
            "offered": [s.offered if ok else None for s, ok in begun],
            "answered": [s.answered if ok else None for s, ok in begun],
            "lost": [s.lost if ok else None for s, ok in begun],
            "avg_wait": [_round(s.average_wait()) for s in self.slots],
            "agents_logged_in": [_round(self.agents(i, s.logged_in_s))
                                 for i, s in enumerate(self.slots)],
            "agents_available": [_round(self.agents(i, s.available_s))
                                 for i, s in enumerate(self.slots)],
        }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def bucket_day(start: float, end: float, facts: Iterable[QueueFact],
               changes: Iterable[StateChange], *, until: float | None = None,
               initial: Mapping[str, str] | None = None, queue: str | None = None,
               agents: Set[str] | None = None, interval_s: int = INTERVAL_S) -> DaySeries:
    """The day [start, end) in intervals, counted up to ``until`` (default: its end).

    ``facts`` and ``changes`` in time order; those outside the day are
    skipped. ``initial``: each agent's state at ``start`` (the last change
    before it). ``queue``: count only that queue's facts; ``agents``: count
    only those agents (the ones who serve the queue; None: every agent).
    """
    n = slot_count(start, end, interval_s)
    stop = end if until is None else max(start, min(end, until))
    slots = [Slot() for _ in range(n)]
    elapsed = [max(0.0, min(stop, start + (i + 1) * interval_s) - (start + i * interval_s))
               for i in range(n)]
    for fact in facts:
        if queue is not None and fact.queue != queue:
            continue
        if not start <= fact.ts < stop:
            continue
        slot = slots[slot_of(fact.ts, start, interval_s)]
        if fact.kind == "offered":
            slot.offered += 1
        elif fact.kind == "answered":
            slot.answered += 1
            slot.answered_wait_total += fact.waited
        else:
            slot.lost += 1
    state: dict[str, tuple[str, float]] = {a: (s, start) for a, s in (initial or {}).items()
                                           if agents is None or a in agents}

    def close(agent: str, now: float) -> None:
        was, since = state[agent]
        if was == LOGGED_OUT or now <= since:
            return
        for i, seconds in split_span(since, now, start, n, interval_s):
            slots[i].logged_in_s += seconds
            if was == AVAILABLE:
                slots[i].available_s += seconds

    for change in changes:
        if change.ts >= stop:
            break
        if agents is not None and change.agent not in agents:
            continue
        if change.agent in state:
            close(change.agent, change.ts)
        state[change.agent] = (change.state, max(change.ts, start))
    for agent in state:
        close(agent, stop)
    return DaySeries(start, end, slots, elapsed, interval_s,
                     {agent: was for agent, (was, _) in state.items()})
