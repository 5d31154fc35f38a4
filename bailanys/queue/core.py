"""The ACD core: queues of callers, agents, dispatch. Sans-IO.

The engine calls a method when something happens (a caller joins, a phone
answers, a call ends, time passes) and executes the actions returned, in
order (:mod:`bailanys.queue.actions`, re-exported here: Ring, CancelRing,
Announce, Connected, Overflow, CallBack, and Emit for the event log). Time
is an input (``now``, monotonic seconds); nothing here sleeps, awaits or
speaks SIP (``docs/architecture.md``: "it decides, the engine bridges"). Agents
live in :mod:`~bailanys.queue.pool`, callers in :mod:`~bailanys.queue.waiting`.

A caller moves through these states::

    waiting --dispatch--> ringing --ring_answered--> connected --call_ended--> gone
       |  ^                  | ring_failed: back to waiting, same place
       |  +-------------------------------------+ callback_answered: ring the reserved
       +--request_callback--> callback --dispatch--> calling_back   agent, or wait again

Decisions:

- Order within a queue is ``(-priority, counter)``: higher caller priority
  first, FIFO within a priority (a global counter: keys never tie).
- Dispatch serves queue priority tiers from the highest; within a tier the
  callers of all its queues in ``(-priority, counter)`` order. A caller no
  free agent can serve is skipped and keeps its place: a Russian speaker
  at the head must not keep a free Kazakh-only agent idle.
- An announcement at join (unless an agent is rung at once), then every
  ``announce_interval_s`` (DOMAIN.md item 12); see ``waiting``.
- After ``max_wait_s`` in a queue (callers being rung or waiting for a
  callback are exempt) the caller overflows. It keeps its join time and its
  counter: ``waited`` counts from the first join, and in the new queue it
  stands ahead of callers who joined after it (its wait is not reset).
- A failed ring counts a no-answer; the caller keeps its place; that agent
  is rung for it again only when no other free qualified agent is untried,
  after ``retry_s`` (Asterisk ``retry``). The engine times the ring
  (``Ring.timeout_s``) and reports ``ring_failed``.
- A callback keeps the caller's place; at its turn an agent is reserved
  (``available`` but offered nothing else) while the engine dials.
- ``disposition`` is accepted once, from the agent who took the call, for
  their current or last call.
- ``abandon`` of an unknown call returns no actions (a caller may leave at
  any moment); every other misuse raises :class:`QueueError`, and an agent
  event the table refuses raises its subclass ``AgentStateError``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bailanys import events as ev
from bailanys.errors import InputError
from bailanys.queue import routing
from bailanys.queue.actions import (
    Action,
    Announce,
    CallBack,
    CancelRing,
    Connected,
    Emit,
    Overflow,
    Ring,
    WaitEstimator,
    emit,
    seconds,
)
from bailanys.queue.agents import Agent, AgentEvent, AgentState, QueueError
from bailanys.queue.callers import (
    Caller,
    CallerSnapshot,
    CallerState,
    QueueSnapshot,
    Snapshot,
)
from bailanys.queue.pool import AgentPool
from bailanys.queue.settings import QueueConfig, QueueSettings
from bailanys.queue.waiting import Waiting
from bailanys.queuestate import QueueState

__all__ = [
    "Action",
    "Announce",
    "CallBack",
    "CancelRing",
    "Connected",
    "Emit",
    "Overflow",
    "QueueCore",
    "QueueError",
    "Ring",
    "Snapshot",
    "WaitEstimator",
]

log = logging.getLogger(__name__)

_LIVE = (CallerState.WAITING, CallerState.CALLBACK)  # those dispatch offers an agent
_S = seconds


class QueueCore:
    """All queues and agents of one engine; see the module docs."""

    def __init__(self, config: QueueConfig, estimator: WaitEstimator | None = None,
                 now: float = 0.0) -> None:
        """``now``: the engine's start (the agents' states count from it)."""
        self.config = config
        self.estimator = estimator
        self.pool = AgentPool(config.agents, now)
        self.waiting = Waiting(config, estimator, self.pool)
        priorities = sorted({q.priority for q in config.queues.values()}, reverse=True)
        self._tiers = [[n for n, q in config.queues.items() if q.priority == p] for p in priorities]
        self._rr: dict[str, int] = {}  # queue -> config index of the agent rung last

    # --- callers ------------------------------------------------------------------

    def join(
        self,
        call_id: str,
        queue: str,
        *,
        skills: Sequence[str] = (),
        language: str | None = None,
        priority: int | None = None,
        now: float,
        prior_wait: float | None = None,
    ) -> list[Action]:
        """A caller enters ``queue`` (``priority`` None: 0); ring or announce.
        ``prior_wait``: a call moved here from the engine that answered it,
        the seconds since it reached the queue node there (issue 22): its
        place and wait count from then."""
        settings = self._queue(queue)
        prio = 0 if priority is None else priority
        caller = self.waiting.new(call_id, queue, skills, language, prio, now, prior_wait)
        out: list[Action] = []
        self.waiting.enter(out, caller, settings, now)
        out += self._dispatch(now)
        if caller.state is CallerState.WAITING:
            self.waiting.announce(out, caller, now)
        return out

    def abandon(self, call_id: str, now: float, cause: str = "caller") -> list[Action]:
        """The caller left before an agent answered (a ring is cancelled).
        ``cause`` (``queue.abandoned``'s field, :mod:`bailanys.engine.causes`)
        says who ended the call: ``caller`` when the caller hung up, else what
        did (engine_shutdown, rtp_timeout...). An unknown call (already gone)
        gives no actions."""
        caller = self.waiting.callers.get(call_id)
        if caller is None:
            return []
        if caller.state is CallerState.CONNECTED:
            raise QueueError(f"call {call_id!r} is connected: report call_ended")
        out: list[Action] = []
        self.waiting.drop(out, caller, now, cause)
        if caller.state is CallerState.RINGING:
            agent = self.pool.get(str(caller.agent))
            self.pool.change(out, agent, AgentEvent.CANCEL, now, call_id=call_id)
            out.append(CancelRing(call_id, agent.user))
        out += self._dispatch(now)
        return out

    def drop_all(self, now: float, cause: str) -> list[Action]:
        """Every caller not yet connected leaves (the engine stops: ``cause``
        engine_shutdown): ``queue.abandoned`` each, rings cancelled, callbacks
        forgotten. Nobody is offered to an agent after this (no dispatch)."""
        out: list[Action] = []
        for call_id, caller in list(self.waiting.callers.items()):
            if caller.state is CallerState.CONNECTED:
                continue
            self.waiting.drop(out, caller, now, cause)
            if caller.state is CallerState.RINGING:
                agent = self.pool.get(str(caller.agent))
                self.pool.change(out, agent, AgentEvent.CANCEL, now, call_id=call_id)
                out.append(CancelRing(call_id, agent.user))
        return out

    def request_callback(self, call_id: str, number: str, now: float) -> list[Action]:
        """The caller leaves the line, keeping its place, to be called on ``number``."""
        caller = self.waiting.get(call_id, CallerState.WAITING)
        if not self.config.queues[caller.queue].callback:
            raise QueueError(f"queue {caller.queue!r} offers no callback")
        if not number.strip():
            raise InputError(f"call {call_id!r}: no number to call back")
        caller.state, caller.number, caller.deadline = CallerState.CALLBACK, number, None
        out: list[Action] = []
        emit(out, ev.QueueCallbackRequested(
            call_id=call_id, queue=caller.queue, position=self.waiting.position(caller),
            waited=_S(now - caller.joined), number=number))
        out += self._dispatch(now)
        return out

    def callback_answered(self, call_id: str, now: float) -> list[Action]:
        """The caller picked up our callback: ring the reserved agent, or, if
        that agent paused or left meanwhile, wait on the line at its place."""
        caller = self.waiting.get(call_id, CallerState.CALLING_BACK)
        out: list[Action] = []
        if self.pool.release(caller.agent, call_id):
            self._ring(out, caller, self.pool.get(str(caller.agent)), now)
            return out
        caller.state, caller.agent = CallerState.WAITING, None
        out += self._dispatch(now)
        if caller.state is CallerState.WAITING:
            caller.next_announce = now
            self.waiting.announce(out, caller, now)
        return out

    def callback_failed(self, call_id: str, now: float, cause: str = "caller") -> list[Action]:
        """Our callback was not answered: the caller is dropped, the agent
        freed. ``cause``: ``caller`` when the citizen did not answer (counted
        as before, a lost call), else what failed (``error``: no address)."""
        caller = self.waiting.get(call_id, CallerState.CALLING_BACK)
        out: list[Action] = []
        self.waiting.drop(out, caller, now, cause)
        out += self._dispatch(now)
        return out

    def ring_answered(self, call_id: str, now: float, leg: str | None = None) -> list[Action]:
        """The agent answered and the engine bridged the two legs; ``leg``:
        the agent leg's call id (queue_log's bridged channel)."""
        caller = self.waiting.get(call_id, CallerState.RINGING)
        agent = self.pool.get(str(caller.agent))
        out: list[Action] = []
        self.pool.change(out, agent, AgentEvent.ANSWER, now, call_id=call_id)
        self.pool.connected(agent, call_id, caller.queue)
        self.waiting.lines[caller.queue].remove(caller)
        caller.state, caller.connected_at = CallerState.CONNECTED, now
        emit(out, ev.CallConnected(
            call_id=call_id, queue=caller.queue, agent=agent.user,
            waited=_S(now - caller.joined), orig_position=caller.orig_position,
            leg=leg or None))
        out.append(Connected(call_id, agent.user))
        if self.estimator is not None:
            self.estimator.on_answer(caller.queue, call_id, now - caller.entered, now)
        return out

    def ring_failed(self, call_id: str, now: float) -> list[Action]:
        """No answer, refused or unreachable: a no-answer for the agent (maybe
        an auto-pause); the caller keeps its place and the next agent is tried."""
        caller = self.waiting.get(call_id, CallerState.RINGING)
        agent = self.pool.get(str(caller.agent))
        out: list[Action] = []
        emit(out, ev.AgentNoAnswer(call_id=call_id, agent=agent.user, queue=caller.queue,
                                   rang=_S(now - caller.rang_at)))
        limit = self.config.queues[caller.queue].max_no_answers
        self.pool.change(out, agent, AgentEvent.NO_ANSWER, now, call_id=call_id,
                         max_no_answers=limit)
        caller.tried[agent.user] = now
        caller.state, caller.agent = CallerState.WAITING, None
        out += self._dispatch(now)
        return out

    def call_ended(self, call_id: str, now: float, by: str) -> list[Action]:
        """A bridged call ended (``by`` "caller" or "agent"): the agent wraps up."""
        if by not in ("caller", "agent"):
            raise QueueError(f"call {call_id!r}: ended by 'caller' or 'agent', not {by!r}")
        caller = self.waiting.get(call_id, CallerState.CONNECTED)
        agent = self.pool.get(str(caller.agent))
        settings = self.config.queues[caller.queue]
        del self.waiting.callers[call_id]
        talk = now - caller.connected_at
        out: list[Action] = []
        emit(out, ev.CallCompleted(
            call_id=call_id, queue=caller.queue, agent=agent.user,
            waited=_S(caller.connected_at - caller.joined), talk=_S(talk), by=by,
            orig_position=caller.orig_position))
        self.pool.change(out, agent, AgentEvent.HANG_UP, now, call_id=call_id)
        self.pool.wrap_up(out, agent, settings.wrap_up_s, call_id, now)
        if self.estimator is not None:
            self.estimator.on_complete(caller.queue, call_id, talk, settings.wrap_up_s, now)
        out += self._dispatch(now)
        return out

    # --- agents -------------------------------------------------------------------

    def login(self, user: str, now: float) -> list[Action]:
        out: list[Action] = []
        change = self.pool.change(out, self.pool.get(user), AgentEvent.LOGIN, now)
        if change is not None and self.estimator is not None:
            self.estimator.on_login(user, now)
        out += self._dispatch(now)
        return out

    def logout(self, user: str, now: float) -> list[Action]:
        """Log out; while ringing or on a call, deferred until that ends."""
        agent = self.pool.get(user)
        out: list[Action] = []
        on_break = agent.state is AgentState.BREAK
        reason, since = agent.reason, agent.since
        self.pool.change(out, agent, AgentEvent.LOGOUT, now, call_id=agent.current_call)
        if on_break:
            self._break_ended(reason, since, now)
        return out

    def pause(self, user: str, reason: str, now: float) -> list[Action]:
        """A break with ``reason``, e.g. "lunch": now from available or
        wrap-up, after the call while ringing or on a call."""
        agent = self.pool.get(user)
        out: list[Action] = []
        self.pool.change(out, agent, AgentEvent.PAUSE, now, reason=reason,
                         call_id=agent.current_call)
        return out

    def unpause(self, user: str, now: float) -> list[Action]:
        """Back from a break; before a deferred one began, taken back."""
        agent = self.pool.get(user)
        reason, since = agent.reason, agent.since
        out: list[Action] = []
        change = self.pool.change(out, agent, AgentEvent.UNPAUSE, now)
        if change is not None:
            self._break_ended(reason, since, now)
        out += self._dispatch(now)
        return out

    def resume_break(self, user: str, reason: str, since: float, now: float) -> list[Action]:
        """After a restart, put a logged-in available agent back on the break
        (``reason``) it was on since ``since``: the console's pause survives
        a restart. Any other state: nothing."""
        agent = self.pool.get(user)
        out: list[Action] = []
        if agent.state is not AgentState.AVAILABLE:
            return out
        self.pool.change(out, agent, AgentEvent.PAUSE, now, reason=reason)
        agent.since = min(since, now)
        return out

    def _break_ended(self, reason: str, since: float, now: float) -> None:
        """Tell the estimator how long a break of ``reason`` lasted."""
        if self.estimator is not None:
            self.estimator.on_break(reason, max(0.0, now - since), now)

    def ready(self, user: str, now: float) -> list[Action]:
        """The operator says "ready" (issue 19, the desktop's button): a
        wrap-up ends early, a break ends, a logged-out agent logs in; ringing
        or on a call, a break or logout asked for after the call is taken
        back. Already available: nothing. Raises :class:`QueueError` when
        there is nothing to take back during a call."""
        agent = self.pool.get(user)
        state = agent.state
        if state is AgentState.AVAILABLE:
            return []
        if state is AgentState.LOGGED_OUT:
            return self.login(user, now)
        if state is AgentState.BREAK:
            return self.unpause(user, now)
        out: list[Action] = []
        pending = agent.pause_pending or agent.logout_pending
        if agent.pause_pending:  # taken back: the table's unpause before the break began
            self.pool.change(out, agent, AgentEvent.UNPAUSE, now)
        if agent.logout_pending and state is not AgentState.WRAP_UP:
            agent.logout_pending = False
            log.info("agent %s: deferred logout taken back", user)
        if state is AgentState.WRAP_UP:
            self.pool.change(out, agent, AgentEvent.WRAP_UP_DONE, now, call_id=agent.current_call)
            out += self._dispatch(now)
        elif not pending:
            raise QueueError(f"agent {user} is {state.value}: ready once the call ends")
        return out

    def disposition(
        self, call_id: str, agent_user: str, resolved: bool, topic: str | None, now: float,
        *, outcome: str | None = None, notes: str | None = None, case: str | None = None,
    ) -> list[Action]:
        """The verdict of the agent who took the call (current or last), once.
        ``outcome`` (issue 19) is a :class:`~bailanys.queue.outcome.Outcome`
        value and must agree with ``resolved``; ``notes`` arrive masked."""
        return [self.pool.disposition(call_id, agent_user, resolved, topic,
                                      outcome=outcome, notes=notes, case=case)]

    # --- time ---------------------------------------------------------------------

    def tick(self, now: float) -> list[Action]:
        """Wrap-ups that ended, maximum waits, dispatch, due announcements."""
        out: list[Action] = []
        self.pool.end_wrap_ups(out, now)
        for line in list(self.waiting.lines.values()):
            for caller in line:  # a copy: overflow moves callers between lines
                if caller.state is CallerState.WAITING and caller.deadline is not None:
                    if caller.deadline <= now:
                        self.waiting.overflow(out, caller, now)
        out += self._dispatch(now)
        for line in self.waiting.lines.values():
            for position, caller in enumerate(line, 1):
                if caller.state is CallerState.WAITING and caller.next_announce <= now:
                    self.waiting.announce(out, caller, now, position)
        return out

    def next_timer(self) -> float | None:
        """The earliest ``now`` at which :meth:`tick` has work; None: none."""
        times = [t for t in (self.pool.next_timer(),) if t is not None]
        for caller in self.waiting.callers.values():
            if caller.state is CallerState.WAITING:
                times.append(caller.next_announce)
                times += [t for t in (caller.deadline, caller.retry_at) if t is not None]
        return min(times, default=None)

    # --- queries ------------------------------------------------------------------

    def position(self, call_id: str) -> int | None:
        """1-based place in its queue; None when unknown or connected."""
        caller = self.waiting.callers.get(call_id)
        if caller is None or caller.state is CallerState.CONNECTED:
            return None
        return self.waiting.position(caller)

    def queue_state(self, name: str) -> QueueState | None:
        """Free agents with the queue's own skills, and callers in it; None
        for an unknown queue (so the IVR's ``QueueStates`` protocol fits)."""
        settings = self.config.queues.get(name)
        if settings is None:
            return None
        required = frozenset(settings.skills)
        free = sum(1 for a in self.pool.free() if routing.qualifies(a, required))
        return QueueState(agents_available=free, waiting=len(self.waiting.lines[name]))

    def agent(self, user: str) -> Agent:
        """The live agent record: read it, do not change it."""
        return self.pool.get(user)

    def snapshot(self, now: float) -> Snapshot:
        """Plain data for the console: every queue's callers, every agent."""
        queues = []
        for name, line in self.waiting.lines.items():
            callers = tuple(
                CallerSnapshot(c.call_id, position, _S(now - c.joined), c.language,
                               c.number is not None, c.state.value, c.agent)
                for position, c in enumerate(line, 1)
            )
            state = self.queue_state(name)
            queues.append(QueueSnapshot(name, callers, state.agents_available if state else 0))
        return Snapshot(tuple(queues), self.pool.snapshot())

    # --- internals ----------------------------------------------------------------

    def _queue(self, name: str) -> QueueSettings:
        settings = self.config.queues.get(name)
        if settings is None:
            raise QueueError(f"unknown queue {name!r}")
        return settings

    def _dispatch(self, now: float) -> list[Action]:
        """Offer free agents to callers: queue priority tiers, then caller order."""
        out: list[Action] = []
        free, lines = self.pool.free(), self.waiting.lines
        for tier in self._tiers:
            if not free:
                break
            live = sorted((c for n in tier for c in lines[n] if c.state in _LIVE), key=Caller.key)
            pairs = routing.assign(live, free, self.config.queues, self.pool.order, self._rr, now)
            for caller, agent in pairs:
                self._offer(out, caller, agent, now)
        return out

    def _offer(self, out: list[Action], caller: Caller, agent: Agent, now: float) -> None:
        """Ring ``agent`` for a caller on the line; for one waiting for a
        callback, reserve the agent and have the engine dial the caller."""
        if caller.state is CallerState.CALLBACK and caller.number is not None:
            self.pool.reserve(agent.user, caller.call_id)
            caller.state, caller.agent = CallerState.CALLING_BACK, agent.user
            emit(out, ev.QueueCallback(call_id=caller.call_id, queue=caller.queue,
                                       agent=agent.user, waited=_S(now - caller.joined)))
            out.append(CallBack(caller.call_id, agent.user, caller.number))
        else:
            self._ring(out, caller, agent, now)

    def _ring(self, out: list[Action], caller: Caller, agent: Agent, now: float) -> None:
        timeout = self.config.queues[caller.queue].ring_timeout_s
        self.pool.change(out, agent, AgentEvent.RING, now, call_id=caller.call_id)
        caller.state, caller.agent, caller.rang_at = CallerState.RINGING, agent.user, now
        emit(out, ev.AgentRinging(call_id=caller.call_id, agent=agent.user, queue=caller.queue,
                                  timeout=timeout))
        out.append(Ring(caller.call_id, agent.user, timeout))
