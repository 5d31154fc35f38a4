"""Callers in their queues: joining, leaving, overflowing, announcements.

:class:`Waiting` holds every queue's :class:`~bailanys.queue.callers.Line`
and emits the queue events of callers entering and leaving them (the event
table is in :mod:`bailanys.queue.actions`). It tells the wait estimator of
each: ``on_join`` on entering a queue, ``on_abandon`` on leaving it
unanswered (hang-up, failed callback, overflow); the core reports answers.

Announcements follow a grid from entering the queue: at ``entered``, then
every ``announce_interval_s`` (DOMAIN.md item 12: the expected wait and
that the call is free, at least every minute; Asterisk's
``announce-frequency``). One that falls due while the caller is not on the
line (being rung, waiting for a callback) is made when it is back.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from bailanys import events as ev
from bailanys.queue import routing
from bailanys.queue.actions import Action, Announce, Overflow, WaitEstimator, emit, seconds
from bailanys.queue.agents import QueueError
from bailanys.queue.callers import Caller, CallerState, Line
from bailanys.queue.estimator import QueueView
from bailanys.queue.pool import AgentPool
from bailanys.queue.settings import QueueConfig, QueueSettings


class Waiting:
    """Every queue's callers, in service order."""

    def __init__(
        self, config: QueueConfig, estimator: WaitEstimator | None, pool: AgentPool
    ) -> None:
        self.config = config
        self.estimator = estimator
        self.pool = pool
        self.lines = {name: Line() for name in config.queues}
        #: Every caller known, on the line, called back or connected.
        self.callers: dict[str, Caller] = {}
        self._counter = itertools.count()

    def new(
        self,
        call_id: str,
        queue: str,
        skills: Sequence[str],
        language: str | None,
        priority: int,
        now: float,
        prior_wait: float | None = None,
    ) -> Caller:
        """A new caller (not yet in a line: :meth:`enter` puts it there);
        ``prior_wait``: a call moved from another engine, the seconds since it
        reached a queue node there (its place and ``waited`` count from then)."""
        if call_id in self.callers:
            raise QueueError(f"call {call_id!r} is already queued")
        if prior_wait is not None:
            prior_wait = max(0.0, prior_wait)
        caller = Caller(call_id, queue, tuple(skills), frozenset(), language, priority,
                        next(self._counter), joined=now - (prior_wait or 0.0),
                        entered=now, prior_wait=prior_wait)
        self.callers[call_id] = caller
        return caller

    def position(self, caller: Caller) -> int:
        return self.lines[caller.queue].position(caller)

    def get(self, call_id: str, state: CallerState) -> Caller:
        caller = self.callers.get(call_id)
        if caller is None:
            raise QueueError(f"unknown call {call_id!r}")
        if caller.state is not state:
            raise QueueError(f"call {call_id!r} is {caller.state.value}, not {state.value}")
        return caller

    def enter(
        self, out: list[Action], caller: Caller, settings: QueueSettings, now: float
    ) -> None:
        """Put ``caller`` in the line of ``settings`` (a join or an overflow)."""
        caller.queue = settings.name
        caller.required = routing.required_skills(settings.skills, caller.skills, caller.language)
        caller.entered = caller.next_announce = now
        caller.deadline = None if settings.max_wait_s is None else now + settings.max_wait_s
        caller.tried.clear()
        caller.retry_at = None
        caller.orig_position = self.lines[settings.name].add(caller)
        emit(out, ev.QueueJoined(call_id=caller.call_id, queue=settings.name,
                                 position=caller.orig_position,
                                 skills=tuple(sorted(caller.required)),
                                 language=caller.language, priority=caller.priority,
                                 prior_wait=None if caller.prior_wait is None
                                 else seconds(caller.prior_wait)))
        if self.estimator is not None:
            self.estimator.on_join(settings.name, caller.call_id, now)

    def drop(self, out: list[Action], caller: Caller, now: float, cause: str) -> None:
        """Take an unanswered caller out: it hung up, or its callback failed;
        ``cause`` says who ended it (:mod:`bailanys.engine.causes`)."""
        self.pool.release(caller.agent, caller.call_id)
        position = self.lines[caller.queue].remove(caller)
        del self.callers[caller.call_id]
        waited = now - caller.joined
        short = waited < self.config.queues[caller.queue].short_abandon_s
        emit(out, ev.QueueAbandoned(call_id=caller.call_id, queue=caller.queue,
                                    position=position, orig_position=caller.orig_position,
                                    waited=seconds(waited), short=short, cause=cause))
        if self.estimator is not None:
            self.estimator.on_abandon(caller.queue, caller.call_id, now - caller.entered, now)

    def overflow(self, out: list[Action], caller: Caller, now: float) -> None:
        """``max_wait_s`` passed: move the caller to the overflow queue, or drop it."""
        target = self.config.queues[caller.queue].overflow
        position = self.lines[caller.queue].remove(caller)
        emit(out, ev.QueueTimeout(call_id=caller.call_id, queue=caller.queue,
                                  position=position, orig_position=caller.orig_position,
                                  waited=seconds(now - caller.joined), overflow=target))
        if self.estimator is not None:
            self.estimator.on_abandon(caller.queue, caller.call_id, now - caller.entered, now)
        out.append(Overflow(caller.call_id, target))
        if target is None:
            del self.callers[caller.call_id]
        else:
            self.enter(out, caller, self.config.queues[target], now)

    def view(self, caller: Caller, position: int, now: float) -> QueueView:
        """The queue as ``caller`` at ``position`` sees it (the estimator's input)."""
        ahead = self.lines[caller.queue].head(position)
        waited = tuple(max(0.0, now - c.entered) for c in ahead)
        return QueueView(position, waited, self.pool.view(caller.required, now))

    def announce(
        self, out: list[Action], caller: Caller, now: float, position: int | None = None
    ) -> None:
        """Position, estimate (None without an estimator or if not finite),
        the callback offer; the next one on the ``announce_interval_s`` grid."""
        settings = self.config.queues[caller.queue]
        if position is None:
            position = self.lines[caller.queue].position(caller)
        estimate: float | None = None
        if self.estimator is not None:
            value = self.estimator.estimate(caller.queue, self.view(caller, position, now), now)
            estimate = seconds(value) if math.isfinite(value) else None
        emit(out, ev.QueueAnnounced(call_id=caller.call_id, queue=caller.queue,
                                    position=position, estimate=estimate))
        offered = settings.callback and caller.number is None
        limit = None if caller.deadline is None else seconds(max(0.0, caller.deadline - now))
        at_limit = None if limit is None else ("overflow" if settings.overflow else "hang_up")
        out.append(Announce(caller.call_id, position, estimate, offered, limit, at_limit))
        caller.advance_announce(now, settings.announce_interval_s)
