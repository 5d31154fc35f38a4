"""What the queue core returns, and what it needs from a wait estimator.

The core (:mod:`bailanys.queue.core`, which re-exports every name here)
answers each input with a list of actions for the engine to execute in
order. :class:`Emit` carries an event of the catalogue
(:mod:`bailanys.events`, docs/events.md) for the event log; its types and
fields are fixed, because the Asterisk ``queue_log`` export
(:mod:`bailanys.queue.queuelog`) and the KPI folds read them:

=========================  ====================================================
type                       fields (``call_id`` is the caller's call id)
=========================  ====================================================
queue.joined               queue, position, skills, language, priority
queue.announced            queue, position, estimate
queue.abandoned            queue, position, orig_position, waited, short, cause
queue.timeout              queue, position, orig_position, waited, overflow
queue.callback_requested   queue, position, waited, number
queue.callback             queue, agent, waited  (the callback is being placed)
agent.state                agent, state, previous, reason  (every change)
agent.ringing              agent, queue, timeout
agent.no_answer            agent, queue, rang
call.connected             queue, agent, waited, orig_position, leg
call.completed             queue, agent, waited, talk, by, orig_position
call.disposition           queue, agent, resolved, topic
=========================  ====================================================

Durations (``waited``, ``talk``, ``rang``, ``estimate``) are seconds rounded
to the millisecond; ``waited`` counts from the caller's first join, so an
overflowed caller's wait includes the first queue (DOMAIN.md KPI 1 is the
wait after the voice menu). ``orig_position`` is the position on entering
the queue named. ``leg`` is the call id of the agent's leg (when the
engine passes it). A failed callback is reported as ``queue.abandoned``: the
citizen was not served. ``cause`` of ``queue.abandoned`` is who ended the
call (:mod:`bailanys.engine.causes`): ``caller`` for a hang-up while
waiting (or a callback not answered), otherwise the engine's cause
(engine_shutdown, engine_restart, rtp_timeout, max_duration, error); only
``caller`` is a lost call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bailanys.events import Emit as Emit
from bailanys.events import EventBase
from bailanys.queue.estimator import QueueView


class WaitEstimator(Protocol):
    """Expected-wait model (``bailanys.queue.estimator``). ``waited`` is the
    time in the queue named; ``view`` is the queue as the announced caller
    sees it (its place, the waits up to it, the qualified agents' states)."""

    def on_join(self, queue: str, call_id: str, now: float) -> None: ...
    def on_answer(self, queue: str, call_id: str, waited: float, now: float) -> None: ...
    def on_abandon(self, queue: str, call_id: str, waited: float, now: float) -> None: ...
    def on_complete(
        self, queue: str, call_id: str, talk: float, wrap_up: float, now: float
    ) -> None: ...
    def on_break(self, reason: str, duration: float, now: float) -> None: ...
    def on_login(self, user: str, now: float) -> None: ...
    def estimate(self, queue: str, view: QueueView, now: float) -> float: ...


# --- actions ------------------------------------------------------------------


@dataclass(frozen=True)
class Ring:
    """Ring ``agent``'s phone for ``call_id``; report ring_answered or
    ring_failed (no answer within ``timeout_s``, busy, unreachable)."""

    call_id: str
    agent: str
    timeout_s: float


@dataclass(frozen=True)
class CancelRing:
    """Stop ringing ``agent``'s phone: the caller left."""

    call_id: str
    agent: str


@dataclass(frozen=True)
class Announce:
    """Tell the caller its position, expected wait (None: unknown), that the
    call is free, and (``callback_offered``) the callback key.

    ``limit_s``: seconds left before the queue's ``max_wait_s`` (None: no
    limit), when ``at_limit`` happens: "overflow" (another queue) or
    "hang_up" (told the operators are busy). A wait past it is never
    announced (``voice.phrases.queue.expected_wait_announcement``)."""

    call_id: str
    position: int
    estimate_s: float | None
    callback_offered: bool
    limit_s: float | None = None
    at_limit: str | None = None


@dataclass(frozen=True)
class Connected:
    """The agent answered and the engine bridged: nothing more to do."""

    call_id: str
    agent: str


@dataclass(frozen=True)
class Overflow:
    """The caller waited ``max_wait_s``. ``target`` is the queue it is now in
    (the core moved it); None: it was dropped, say all operators are busy
    and hang up."""

    call_id: str
    target: str | None


@dataclass(frozen=True)
class CallBack:
    """Dial ``number`` for ``call_id``; ``agent`` is reserved. Report
    callback_answered or callback_failed."""

    call_id: str
    agent: str
    number: str


Action = Ring | CancelRing | Announce | Connected | Overflow | CallBack | Emit


def emit(out: list[Action], event: EventBase) -> None:
    """Append ``Emit(event)`` to ``out``."""
    out.append(Emit(event))


def seconds(value: float) -> float:
    """A duration for an event: seconds rounded to the millisecond."""
    return round(value, 3)
