"""The wallboard's alert thresholds per queue, and their evaluation (pure).

The supervisors' wallboard (issue 21) colours a queue's row when one of
four live figures crosses its threshold, and the page beeps and blinks its
title on an alarm. Each threshold is a pair ``[warn, alarm]``:

=====================  ========  =========  ====================================
figure                 warn      alarm      worse when, and where the default is from
=====================  ========  =========  ====================================
``longest_wait_s``     30        60         higher: the 1414 plan's 30 s average
                                            wait; Appendix 1 item 1's 60 s maximum
``waiting``            5         10         higher: callers on the line now (a
                                            rule of thumb; size it per queue)
``service_level_pct``  80        70         lower: the industry's 80/20 service
                                            level; 70 % is a day already lost
``lost_pct``           5         10         higher: the 1414 plan's 5 % lost;
                                            Appendix 1 item 5's 10 % maximum
=====================  ========  =========  ====================================

In the queues file a ``[thresholds]`` table sets the defaults of every
queue (and of the totals and languages); a queue's own ``thresholds``
table overrides single figures::

    [thresholds]
    longest_wait_s = [30, 60]

    [queues.egov]
    thresholds = { longest_wait_s = [20, 40], waiting = [3, 6] }

A figure with no value (no caller answered yet, nobody waiting) is ``ok``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    """A figure against its threshold, in rising order of severity."""

    OK = "ok"
    WARN = "warn"
    ALARM = "alarm"


_RANK = {Level.OK: 0, Level.WARN: 1, Level.ALARM: 2}
#: Figures where a lower value is worse (the others: higher is worse).
LOWER_IS_WORSE = frozenset({"service_level_pct"})
#: The upper bound of each figure (a percentage; seconds in a day; callers).
_MAX = {"longest_wait_s": 86_400.0, "waiting": 100_000.0, "service_level_pct": 100.0,
        "lost_pct": 100.0}


@dataclass(frozen=True)
class Thresholds:
    """``(warn, alarm)`` per figure; see the module's table for the defaults."""

    longest_wait_s: tuple[float, float] = (30.0, 60.0)
    waiting: tuple[float, float] = (5.0, 10.0)
    service_level_pct: tuple[float, float] = (80.0, 70.0)
    lost_pct: tuple[float, float] = (5.0, 10.0)

    def to_json(self) -> dict[str, list[float]]:
        return {f.name: list(getattr(self, f.name)) for f in fields(self)}


#: The figures, in the order the page lists them.
FIGURES = tuple(f.name for f in fields(Thresholds))


def parse_thresholds(table: Any, key: str, base: Thresholds | None = None) -> Thresholds:
    """``base`` (default: :class:`Thresholds`) with the figures of a TOML
    table replaced; ``ValueError("<key>.<figure>: ...")`` on an unknown
    figure, a value that is not two numbers in range, or a warn level that
    is not before the alarm level."""
    out = base if base is not None else Thresholds()
    if not isinstance(table, Mapping):
        raise ValueError(f"{key}: expected a table of figure = [warn, alarm], got {table!r}")
    changes: dict[str, tuple[float, float]] = {}
    for name, value in table.items():
        where = f"{key}.{name}"
        if name not in FIGURES:
            raise ValueError(f"{where}: unknown figure (known: {', '.join(FIGURES)})")
        if (not isinstance(value, list | tuple) or len(value) != 2
                or not all(_is_number(v) for v in value)):
            raise ValueError(f"{where}: expected [warn, alarm], two numbers, got {value!r}")
        warn, alarm = float(value[0]), float(value[1])
        for v in (warn, alarm):
            if not 0 <= v <= _MAX[name]:
                raise ValueError(f"{where}: expected numbers between 0 and {_MAX[name]:g}, "
                                 f"got {v:g}")
        if name in LOWER_IS_WORSE and not warn >= alarm:
            raise ValueError(f"{where}: the warn level must be at or above the alarm level "
                             f"(lower is worse), got [{warn:g}, {alarm:g}]")
        if name not in LOWER_IS_WORSE and not warn <= alarm:
            raise ValueError(f"{where}: the warn level must be at or below the alarm level, "
                             f"got [{warn:g}, {alarm:g}]")
        changes[name] = (warn, alarm)
    return replace(out, **changes)


def _is_number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def level(figure: str, value: float | None, limits: Thresholds) -> Level:
    """``value`` of ``figure`` against ``limits`` (None: ok). A value at
    the threshold has crossed it (``>=``, or ``<=`` where lower is worse)."""
    if value is None:
        return Level.OK
    warn, alarm = getattr(limits, figure)
    if figure in LOWER_IS_WORSE:
        return Level.ALARM if value <= alarm else Level.WARN if value <= warn else Level.OK
    return Level.ALARM if value >= alarm else Level.WARN if value >= warn else Level.OK


def levels(values: Mapping[str, float | None], limits: Thresholds) -> dict[str, Level]:
    """The level of each figure in ``values`` (figures not in FIGURES ignored)."""
    return {name: level(name, values.get(name), limits) for name in FIGURES if name in values}


def worst(found: Mapping[str, Level] | list[Level]) -> Level:
    """The most severe level of several (ok when none)."""
    items = list(found.values()) if isinstance(found, Mapping) else list(found)
    return max(items, key=_RANK.__getitem__, default=Level.OK)
