"""The agents of one engine: their states, wrap-up timers, callback
reservations and last calls. Used by :class:`~bailanys.queue.core.QueueCore`.

Every state change goes through :meth:`AgentPool.change`, which applies the
table of :mod:`bailanys.queue.agents` and emits ``agent.state`` (agent,
state, previous, reason), so no change goes unreported.

An agent is *free* when ``available`` and not reserved. A reservation holds
a free agent for a caller being called back (Asterisk has no callbacks; the
agent stays ``available`` in the table because their phone is idle); any
change of state drops it. Wrap-up lasts the queue's ``wrap_up_s`` (Asterisk
``wrapuptime``) and ends in :meth:`AgentPool.end_wrap_ups`, called by tick.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bailanys import events as ev
from bailanys.queue.actions import Action, Emit, emit
from bailanys.queue.agents import (
    Agent,
    AgentEvent,
    AgentState,
    QueueError,
    StateChange,
    transition,
)
from bailanys.queue.callers import AgentSnapshot
from bailanys.queue.estimator import AgentView
from bailanys.queue.outcome import Outcome
from bailanys.queue.routing import qualifies
from bailanys.queue.settings import AgentSettings


@dataclass(slots=True)
class _Handled:
    """An agent's current or last call: what ``disposition`` may name."""

    call_id: str
    queue: str
    disposed: bool = False


class AgentPool:
    def __init__(self, agents: Mapping[str, AgentSettings], now: float = 0.0) -> None:
        """``now``: when the engine started; an agent who never logged in has
        been logged out since then (not since the host booted, monotonic 0)."""
        self.agents = {user: Agent(settings, since=now) for user, settings in agents.items()}
        #: Each user's place in the config (round robin's order, the last tie-break).
        self.order = {user: i for i, user in enumerate(agents)}
        self._reserved: dict[str, str] = {}  # agent -> call being called back
        self._wrap_until: dict[str, float] = {}  # agent -> end of wrap-up
        self._last_call: dict[str, _Handled] = {}  # agent -> current or last call

    def get(self, user: str) -> Agent:
        agent = self.agents.get(user)
        if agent is None:
            raise QueueError(f"unknown agent {user!r}")
        return agent

    def change(
        self,
        out: list[Action],
        agent: Agent,
        event: AgentEvent,
        now: float,
        *,
        call_id: str | None = None,
        reason: str = "",
        max_no_answers: int = 0,
    ) -> StateChange | None:
        """One transition, its ``agent.state`` event and the bookkeeping;
        None when only a logout was deferred. Raises ``AgentStateError``."""
        change = transition(
            agent, event, now, reason=reason, call_id=call_id, max_no_answers=max_no_answers
        )
        if change is None:
            return None
        emit(out, ev.AgentState(
            call_id=call_id, agent=agent.user, state=change.state.value,
            previous=change.previous.value, reason=change.reason,
        ))
        if change.state is not AgentState.AVAILABLE:
            self._reserved.pop(agent.user, None)
        if change.state is not AgentState.WRAP_UP:
            self._wrap_until.pop(agent.user, None)
        return change

    # --- free agents and reservations -------------------------------------------

    def free(self) -> list[Agent]:
        """Agents who may be offered a call now, in config order."""
        return [
            a for a in self.agents.values()
            if a.state is AgentState.AVAILABLE and a.user not in self._reserved
        ]

    def view(self, required: frozenset[str], now: float) -> tuple[AgentView, ...]:
        """What each agent qualified for ``required`` is doing and since when
        (the wait estimator's input; logged-out agents too: one may be due).
        A reserved agent counts as being rung: its next caller is taken."""
        seen: list[AgentView] = []
        for agent in self.agents.values():
            if not qualifies(agent, required):
                continue
            state = agent.state
            if state is AgentState.AVAILABLE and agent.user in self._reserved:
                state = AgentState.RINGING
            seen.append(AgentView(state, max(0.0, now - agent.since), agent.reason,
                                  agent.logout_pending, agent.pause_pending, agent.user))
        return tuple(seen)

    def reserve(self, user: str, call_id: str) -> None:
        self._reserved[user] = call_id

    def release(self, user: str | None, call_id: str) -> bool:
        """Drop ``user``'s reservation for ``call_id``; False if it had none
        (it paused or logged out meanwhile)."""
        if user is None or self._reserved.get(user) != call_id:
            return False
        del self._reserved[user]
        return True

    # --- calls ---------------------------------------------------------------------

    def connected(self, agent: Agent, call_id: str, queue: str) -> None:
        """``agent`` took ``call_id``: it may now give a disposition for it."""
        self._last_call[agent.user] = _Handled(call_id, queue)

    def wrap_up(self, out: list[Action], agent: Agent, wrap_up_s: float, call_id: str,
                now: float) -> None:
        """After hang-up: wrap up for ``wrap_up_s`` (0: available at once)."""
        if agent.state is not AgentState.WRAP_UP:
            return  # a deferred logout was applied instead
        if wrap_up_s > 0:
            self._wrap_until[agent.user] = now + wrap_up_s
        else:
            self.change(out, agent, AgentEvent.WRAP_UP_DONE, now, call_id=call_id)

    def end_wrap_ups(self, out: list[Action], now: float) -> None:
        for user, until in list(self._wrap_until.items()):
            if until <= now:
                agent = self.agents[user]
                self.change(out, agent, AgentEvent.WRAP_UP_DONE, now, call_id=agent.current_call)

    def next_timer(self) -> float | None:
        return min(self._wrap_until.values(), default=None)

    def wrap_up_until(self, user: str) -> float | None:
        """When ``user``'s wrap-up ends (``now``'s clock); None when not wrapping up."""
        return self._wrap_until.get(user)

    def undisposed(self, user: str) -> str | None:
        """The call id of ``user``'s current or last call when it has no
        disposition yet (None: none, or given)."""
        handled = self._last_call.get(user)
        return None if handled is None or handled.disposed else handled.call_id

    def disposition(self, call_id: str, user: str, resolved: bool, topic: str | None, *,
                    outcome: str | None = None, notes: str | None = None,
                    case: str | None = None) -> Emit:
        """``call.disposition``, once, for the agent's current or last call;
        ``outcome`` (an :class:`Outcome` value) must agree with ``resolved``."""
        self.get(user)
        if outcome is not None:
            try:
                known = Outcome(outcome)
            except ValueError:
                raise QueueError(f"unknown outcome {outcome!r} (one of "
                                 f"{', '.join(o.value for o in Outcome)})") from None
            if known.resolved != resolved:
                raise QueueError(f"outcome {outcome!r} is not resolved={resolved}")
        handled = self._last_call.get(user)
        if handled is None or handled.call_id != call_id:
            raise QueueError(f"agent {user} has no call {call_id!r} to give a disposition for")
        if handled.disposed:
            raise QueueError(f"call {call_id!r} already has a disposition")
        handled.disposed = True
        return Emit(ev.CallDisposition(call_id=call_id, queue=handled.queue, agent=user,
                                       resolved=resolved, topic=topic, outcome=outcome,
                                       case=case, notes=notes))

    def snapshot(self) -> tuple[AgentSnapshot, ...]:
        return tuple(
            AgentSnapshot(
                a.user, a.settings.name, a.state.value, a.since, a.reason, a.current_call,
                a.logout_pending, a.pause_pending,
            )
            for a in self.agents.values()
        )
