"""KPI windows: live, the current 15-minute interval, today, any stored period.

:class:`KpiWindows` holds one :class:`~bailanys.metrics.fold.KpiFold` with
three windows sharing its context (docs/kpi.md, "Windows"):

* ``live``: everything folded since the fold began (the engine starts it
  by replaying the day's stored events, then feeds it live);
* ``interval``: the current 15-minute interval, aligned to the wall clock
  in Asia/Almaty (:00, :15, :30, :45);
* ``today``: since Almaty midnight.

Roll-over happens when an event's ``ts`` (or ``advance(now)``) reaches the
end of the interval or the day: the window's snapshot at its end is kept
(``previous_interval``, ``previous_day``) and its counters start afresh;
context (calls in progress, agents, FCR contacts) carries over. If whole
intervals passed without an event, the previous interval is the empty one
just before the current, as a recomputation would give.

:func:`recompute` folds stored events from scratch: those before ``start``
only build context, those in [start, end) count. Given the same events
the live windows saw, it returns the same snapshot as the live window
(tests check this on random streams). Given only the period's own events,
calls and agents that were already busy at ``start`` lose their earlier
context (language, caller number, the agent's state), so pass events from
an earlier point (e.g. the Almaty midnight before ``start``) when it matters.

Time is an input: nothing here reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, time, timedelta, tzinfo

from bailanys.metrics.fold import MAIN, KpiConfig, KpiFold
from bailanys.metrics.snapshot import KpiSnapshot
from bailanys.store.events import Event
from bailanys.timezone import ALMATY

#: The reporting interval: 15 minutes, the usual contact-centre grid.
INTERVAL_S = 900
LIVE, INTERVAL, TODAY = "live", "interval", "today"
PREVIOUS_INTERVAL, PREVIOUS_DAY = "previous_interval", "previous_day"


def interval_start(ts: float, tz: tzinfo = ALMATY, interval_s: int = INTERVAL_S) -> float:
    """Start of the ``interval_s`` interval holding ``ts``, on the local wall clock."""
    delta = datetime.fromtimestamp(ts, tz).utcoffset()
    offset = delta.total_seconds() if delta is not None else 0.0
    return float(math.floor((ts + offset) / interval_s) * interval_s - offset)


def day_start(ts: float, tz: tzinfo = ALMATY) -> float:
    """The local midnight that began the day holding ``ts``."""
    day = datetime.fromtimestamp(ts, tz).date()
    return datetime.combine(day, time(0), tz).timestamp()


def next_day_start(ts: float, tz: tzinfo = ALMATY) -> float:
    day = datetime.fromtimestamp(ts, tz).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tz).timestamp()


def recompute(
    events: Iterable[Event], start: float, end: float, config: KpiConfig | None = None
) -> KpiSnapshot:
    """The KPIs of [start, end) from stored events, folded from scratch.

    ``events`` in the order they were appended (the store's id order);
    those at or after ``end`` are skipped, those before ``start`` only build
    context. The snapshot is taken at ``now = end``.
    """
    if end < start:
        raise ValueError(f"period ends ({end}) before it starts ({start})")
    fold = KpiFold(config, start=start)
    for event in events:
        if event.ts < end:
            fold.apply(event)
    return fold.snapshot(end)


class KpiWindows:
    """The live windows; feed it every event in order, read it with ``snapshots(now)``."""

    def __init__(
        self,
        config: KpiConfig | None = None,
        *,
        tz: tzinfo = ALMATY,
        interval_s: int = INTERVAL_S,
    ) -> None:
        if interval_s <= 0 or 86_400 % interval_s:
            raise ValueError(f"interval_s must divide a day, got {interval_s!r}")
        self.fold = KpiFold(config)
        self.tz = tz
        self.interval_s = interval_s
        self._interval: tuple[float, float] | None = None
        self._day: tuple[float, float] | None = None
        #: The last closed interval and day, as snapshots at their ends.
        self.previous_interval: KpiSnapshot | None = None
        self.previous_day: KpiSnapshot | None = None

    @property
    def interval(self) -> tuple[float, float] | None:
        """[start, end) of the current interval; None before the first event."""
        return self._interval

    @property
    def day(self) -> tuple[float, float] | None:
        return self._day

    def apply(self, event: Event) -> None:
        """Roll over if ``event.ts`` starts a new interval or day, then fold it."""
        self.advance(event.ts)
        self.fold.apply(event)

    def advance(self, now: float) -> None:
        """Roll the interval and the day over if ``now`` is past their ends."""
        interval, day = self._interval, self._day
        if interval is not None and day is not None and now < interval[1] and now < day[1]:
            return  # nothing to roll (every event but one per interval: issue 20)
        start = interval_start(now, self.tz, self.interval_s)
        if self._interval is None:
            self._interval = (start, start + self.interval_s)
            self.fold.open_window(INTERVAL, start)
        elif now >= self._interval[1]:
            before = interval_start(start - 1.0, self.tz, self.interval_s)
            self.previous_interval = self._close(INTERVAL, self._interval, before, start)
            self._interval = (start, start + self.interval_s)
            self.fold.open_window(INTERVAL, start)
        midnight = day_start(now, self.tz)
        if self._day is None:
            self._day = (midnight, next_day_start(now, self.tz))
            self.fold.open_window(TODAY, midnight)
        elif now >= self._day[1]:
            before = day_start(midnight - 1.0, self.tz)
            self.previous_day = self._close(TODAY, self._day, before, midnight)
            self._day = (midnight, next_day_start(now, self.tz))
            self.fold.open_window(TODAY, midnight)

    def _close(
        self, window: str, current: tuple[float, float], before: float, start: float
    ) -> KpiSnapshot:
        """The snapshot of [before, start): the current window if it is that
        one, else an eventless one opened on it now (nothing happened since)."""
        if current[0] != before:
            self.fold.open_window(window, before)
        return self.fold.snapshot(start, window)

    def snapshot(self, window: str, now: float) -> KpiSnapshot | None:
        """``live``, ``interval`` or ``today`` at ``now`` (rolling over first),
        or the kept ``previous_interval`` / ``previous_day``; None if none yet."""
        if window == PREVIOUS_INTERVAL:
            return self.previous_interval
        if window == PREVIOUS_DAY:
            return self.previous_day
        if window not in (LIVE, INTERVAL, TODAY):
            raise KeyError(window)
        self.advance(now)
        return self.fold.snapshot(now, MAIN if window == LIVE else window)

    def snapshots(self, now: float) -> dict[str, KpiSnapshot]:
        """Every window that exists, by name (what the console and /metrics read)."""
        self.advance(now)
        out = {
            LIVE: self.fold.snapshot(now, MAIN),
            INTERVAL: self.fold.snapshot(now, INTERVAL),
            TODAY: self.fold.snapshot(now, TODAY),
        }
        if self.previous_interval is not None:
            out[PREVIOUS_INTERVAL] = self.previous_interval
        if self.previous_day is not None:
            out[PREVIOUS_DAY] = self.previous_day
        return out
