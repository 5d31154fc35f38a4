"""Pending SIP transaction timers, indexed by transaction (RFC 3261 §17; issue 20).

Pure code: time is an input (``now``, ``deadline``), nothing sleeps.  The
endpoint's asyncio adapter keeps one loop timer armed at
:meth:`TimerQueue.next_deadline` and, when it fires, takes the due timers
one by one with :meth:`TimerQueue.pop_due`.

Why: a loop timer per SIP timer costs a loop handle per start and per
cancel, and ending a transaction used to scan every pending timer (issue
20: 30 % of the loop at 400 call setups/s).  Here

- ``start`` is O(log n) (a heap push),
- ``cancel`` is O(1) and ``cancel_all(key)`` O(timers of that transaction):
  an entry is marked dead and dropped from the index (lazy deletion); the
  heap drops dead entries when they reach its top, and is rebuilt from the
  live ones when dead entries outnumber them (amortised O(1) per cancel),
- ``pop_due`` is O(log n) per timer that fires.

Semantics are those of one loop timer per SIP timer: starting a running
timer replaces it (``StartTimer``, :mod:`bailanys.sip.transaction_tables`);
timers fire in deadline order, ties in the order they were started (as
libuv, under uvloop, fires them); a timer cancelled by the firing of an
earlier one in the same batch never fires, because ``pop_due`` hands out
one timer at a time.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

COMPACT_MIN = 64
"""Heaps smaller than this are never rebuilt: dead entries are popped soon enough."""


class _Entry(Generic[K]):
    """One started timer.  The heap holds ``(deadline, seq, entry)`` tuples:
    compared in C, never down to the entry (``seq`` is unique)."""

    __slots__ = ("deadline", "seq", "key", "name", "alive")

    def __init__(self, deadline: float, seq: int, key: K, name: str) -> None:
        self.deadline = deadline
        self.seq = seq
        self.key = key
        self.name = name
        self.alive = True


_Item = tuple[float, int, _Entry[K]]


class TimerQueue(Generic[K]):
    """Running timers by transaction key and timer name, with their deadlines."""

    def __init__(self) -> None:
        self._heap: list[_Item[K]] = []
        self._index: dict[K, dict[str, _Entry[K]]] = {}
        self._seq = itertools.count()
        self._live = 0

    def __len__(self) -> int:
        """Timers running now (not fired, not cancelled)."""
        return self._live

    @property
    def heap_size(self) -> int:
        """Entries held, dead ones included (bounded by 2x live + COMPACT_MIN)."""
        return len(self._heap)

    def start(self, key: K, name: str, deadline: float) -> None:
        """(Re)start timer ``name`` of transaction ``key`` to fire at ``deadline``."""
        timers = self._index.get(key)
        if timers is None:
            timers = self._index[key] = {}
        else:
            old = timers.get(name)
            if old is not None:
                old.alive = False
                self._live -= 1
        entry = _Entry(deadline, next(self._seq), key, name)
        timers[name] = entry
        self._live += 1
        heapq.heappush(self._heap, (deadline, entry.seq, entry))
        self._maybe_compact()

    def cancel(self, key: K, name: str) -> bool:
        """Stop timer ``name`` of ``key``; False when it was not running.  O(1)."""
        timers = self._index.get(key)
        if timers is None:
            return False
        entry = timers.pop(name, None)
        if entry is None:
            return False
        if not timers:
            del self._index[key]
        entry.alive = False
        self._live -= 1
        self._maybe_compact()
        return True

    def cancel_all(self, key: K) -> int:
        """Stop every timer of ``key`` (the transaction ended); how many ran."""
        timers = self._index.pop(key, None)
        if not timers:
            return 0
        for entry in timers.values():
            entry.alive = False
        self._live -= len(timers)
        self._maybe_compact()
        return len(timers)

    def clear(self) -> None:
        """Forget every timer (the endpoint is closing)."""
        self._heap.clear()
        self._index.clear()
        self._live = 0

    def running(self, key: K) -> frozenset[str]:
        """The names of ``key``'s running timers."""
        return frozenset(self._index.get(key, ()))

    def deadline(self, key: K, name: str) -> float | None:
        """When timer ``name`` of ``key`` fires; None when it is not running."""
        entry = self._index.get(key, {}).get(name)
        return None if entry is None else entry.deadline

    def keys(self) -> frozenset[K]:
        """The transactions with a running timer."""
        return frozenset(self._index)

    def next_deadline(self) -> float | None:
        """The earliest deadline of a running timer; None when none runs."""
        heap = self._heap
        while heap and not heap[0][2].alive:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def mark(self) -> int:
        """A bound for ``pop_due(started_before=...)``: timers started from now on are above it."""
        return next(self._seq)

    def pop_due(self, now: float, started_before: int | None = None) -> tuple[K, str] | None:
        """The next timer due at ``now`` (deadline <= now), removed; None when none is.

        Call it again after acting on each one: acting may cancel or start
        timers, and a timer cancelled meanwhile is not handed out.  With
        ``started_before`` (a :meth:`mark`), a timer started after the mark
        is not handed out either: a wake-up never fires a timer its own
        firings started, however short its delay.
        """
        heap = self._heap
        while heap:
            entry = heap[0][2]
            if not entry.alive:
                heapq.heappop(heap)
                continue
            if entry.deadline > now:
                return None
            if started_before is not None and entry.seq >= started_before:
                return None
            heapq.heappop(heap)
            entry.alive = False
            self._live -= 1
            timers = self._index[entry.key]
            del timers[entry.name]
            if not timers:
                del self._index[entry.key]
            return entry.key, entry.name
        return None

    def _maybe_compact(self) -> None:
        """Rebuild the heap from live entries when dead ones outnumber them."""
        heap = self._heap
        if len(heap) >= COMPACT_MIN and len(heap) > 2 * self._live:
            self._heap = [item for item in heap if item[2].alive]
            heapq.heapify(self._heap)
