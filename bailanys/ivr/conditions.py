"""Conditions of ``branch`` nodes, evaluated with time as an input.

A condition holds when every part it names holds: the local time of day
is in ``[start, end)`` (a range whose end is before its start spans
midnight, so ``21:00-09:00`` is the night), the weekday is listed, a
collected variable has a value, the caller chose a language, a queue has a
free agent or at most N callers waiting.  Queue parts are answered by the
queue manager; without one they do not hold (the flow takes its default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from datetime import time as dtime

from bailanys.ivr.model import Condition
from bailanys.queuestate import QueueState


def in_time_range(now: dtime, start: dtime, end: dtime) -> bool:
    """``start <= now < end``, wrapping past midnight when ``end <= start``."""
    if start < end:
        return start <= now < end
    return now >= start or now < end


def holds(
    cond: Condition,
    local: datetime,
    variables: Mapping[str, str],
    language: str | None,
    queue_state: Callable[[str], QueueState | None],
) -> bool:
    if cond.time is not None and not in_time_range(local.time(), *cond.time):
        return False
    if cond.weekdays is not None and local.weekday() not in cond.weekdays:
        return False
    if cond.var is not None:
        value = variables.get(cond.var)
        if value is None:
            return False
        if cond.equals is not None and value != cond.equals:
            return False
        if cond.one_of is not None and value not in cond.one_of:
            return False
    if cond.language is not None and language != cond.language:
        return False
    if cond.queue is not None:
        state = queue_state(cond.queue)
        if state is None:
            return False
        free = state.agents_available > 0
        if cond.agents_available is not None and free != cond.agents_available:
            return False
        if cond.waiting_at_most is not None and state.waiting > cond.waiting_at_most:
            return False
    return True
