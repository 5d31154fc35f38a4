"""Many keyed timers on one asyncio loop timer (issue 20).

:class:`LoopTimers` is the asyncio adapter of a
:class:`~bailanys.sip.timer_queue.TimerQueue`: it keeps one loop timer armed
at the queue's earliest deadline and, when it fires, hands every timer due
to ``fire(key, name)`` one at a time (one that raises is logged and the
others still fire; a timer cancelled by an earlier one's
firing never fires; a timer started by a firing waits for the next wake-up).

The SIP endpoint keeps every transaction's timers in one of these
(:mod:`bailanys.sip.endpoint`); the engine's calls keep theirs in another,
one queue for every call (2xx retransmission and no-ACK, RFC 3261
§13.3.1.4; the longest call): a call
set-up no longer creates and cancels loop timers of its own, and ending a
call cancels its timers in O(its timers).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from bailanys.sip.timer_queue import TimerQueue

K = TypeVar("K", bound=Hashable)

log = logging.getLogger(__name__)

TIMER_SLACK_S = 0.001
"""Timers due within this much of the loop's clock fire in the same wake-up
(libuv schedules in whole milliseconds; as the endpoint's own timers)."""


class LoopTimers(Generic[K]):
    """Timers by (key, name) with deadlines on the running loop's clock."""

    def __init__(self, fire: Callable[[K, str], None]) -> None:
        self._fire = fire
        self.queue: TimerQueue[K] = TimerQueue()
        self._wake: asyncio.TimerHandle | None = None
        self._wake_at = 0.0

    def __len__(self) -> int:
        return len(self.queue)

    def start(self, key: K, name: str, delay: float) -> None:
        """(Re)start timer ``name`` of ``key``: ``fire(key, name)`` in ``delay`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        self.queue.start(key, name, deadline)
        if self._wake is None or deadline < self._wake_at:
            self._arm(loop, deadline)

    def cancel(self, key: K, name: str) -> bool:
        """Stop one timer; False when it was not running.  The loop timer stays armed."""
        return self.queue.cancel(key, name)

    def cancel_all(self, key: K) -> int:
        """Stop every timer of ``key``; how many ran."""
        return self.queue.cancel_all(key)

    def running(self, key: K) -> frozenset[str]:
        return self.queue.running(key)

    def close(self) -> None:
        """Forget every timer and disarm the loop timer."""
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None
        self.queue.clear()

    def _arm(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        if self._wake is not None:
            self._wake.cancel()
        self._wake_at = deadline
        self._wake = loop.call_at(deadline, self._on_wake)

    def _on_wake(self) -> None:
        self._wake = None
        loop = asyncio.get_running_loop()
        now = loop.time() + TIMER_SLACK_S
        queue = self.queue
        mark = queue.mark()
        while (due := queue.pop_due(now, mark)) is not None:
            try:
                self._fire(*due)
            except Exception:  # one timer's failure must not stop the others
                log.exception("timer %s of %r failed", due[1], due[0])
        nxt = queue.next_deadline()
        if nxt is not None and (self._wake is None or nxt < self._wake_at):
            self._arm(loop, nxt)
