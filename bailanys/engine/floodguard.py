"""Flood guard: at most N new calls per second from one source address.

A token bucket per source IP (capacity N, refilled at N per second).  The
table is bounded: idle sources are forgotten, so a spoofed-address flood
cannot grow memory without limit.  Pure: time is an argument.
"""

from __future__ import annotations

from collections import OrderedDict

MAX_SOURCES = 10_000  # distinct sources remembered at once


class FloodGuard:
    def __init__(self, per_second: int, *, max_sources: int = MAX_SOURCES,
                 trusted: frozenset[str] = frozenset()) -> None:
        self.rate = float(per_second)
        #: Sources never limited: the proxy every call comes through (``[cluster] proxy``).
        self.trusted = trusted
        self.capacity = float(max(per_second, 1))
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max = max_sources
        self.refused = 0

    def allow(self, source: str, now: float) -> bool:
        """Take one token for ``source``; False when its bucket is empty."""
        if self.rate <= 0 or source in self.trusted:
            return True
        tokens, last = self._buckets.pop(source, (self.capacity, now))
        now = max(now, last)  # a clock stepping back must not drain the bucket
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        ok = tokens >= 1.0
        if ok:
            tokens -= 1.0
        else:
            self.refused += 1
        self._buckets[source] = (tokens, now)
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return ok
