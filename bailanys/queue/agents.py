"""The agent (operator) state machine: a table plus one transition function.

::

    state        event          next state
    -----------  -------------  ------------------------------------------------
    logged_out   login          available
    available    ring           ringing
    available    pause(reason)  break
    available    logout         logged_out
    ringing      answer         on_call
    ringing      no_answer      available, or break("auto_pause") after
                                max_no_answers in a row (Asterisk ``autopause``)
    ringing      cancel         available (the caller left: not the agent's fault)
    on_call      hang_up        wrap_up (Asterisk ``wrapuptime``)
    wrap_up      wrap_up_done   available
    wrap_up      pause(reason)  break
    wrap_up      logout         logged_out
    break        unpause        available
    break        logout         logged_out

Logout while ``ringing`` or ``on_call`` is *deferred*, not refused: the
agent's wish is recorded (``logout_pending``) and applied when the phone
stops ringing (no_answer, cancel) or the call ends (hang_up): the agent goes
straight to ``logged_out`` and is offered no further call. An operator
ending a shift mid-call should not have to click again after it.

A pause while ``ringing`` or ``on_call`` is deferred the same way ("not
ready after this call"): the reason is kept (``pause_pending``) and the
agent goes to ``break`` instead of ``available`` when the phone stops
ringing or the wrap-up ends (the call still gets its wrap-up). ``unpause``
before then takes the wish back. The wait estimator counts on it: that
agent's next free moment is after the break.

Every other pair raises :class:`AgentStateError`. ``cancel`` is not one of
the operator's actions: the queue core sends it when a caller abandons while
the agent's phone rings, so the miss does not count against the agent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bailanys.errors import BailanysError
from bailanys.queue.settings import AgentSettings

log = logging.getLogger(__name__)

#: The break reason given when an agent misses ``max_no_answers`` rings in a row.
AUTO_PAUSE = "auto_pause"


class QueueError(BailanysError):
    """The queue core was driven in a way it does not allow: an unknown
    queue or agent, a call in the wrong state for the request."""


class AgentStateError(QueueError):
    """An agent event that the state table does not allow in this state."""

    def __init__(self, user: str, state: AgentState, event: AgentEvent) -> None:
        super().__init__(f"agent {user}: {event.value!r} is not allowed in state {state.value!r}")
        self.user = user
        self.state = state
        self.event = event


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    BREAK = "break"


class AgentEvent(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    RING = "ring"
    ANSWER = "answer"
    NO_ANSWER = "no_answer"
    CANCEL = "cancel"
    HANG_UP = "hang_up"
    WRAP_UP_DONE = "wrap_up_done"
    PAUSE = "pause"
    UNPAUSE = "unpause"


S, E = AgentState, AgentEvent

#: (state, event) -> next state. Guards (auto-pause, deferred logout) are in
#: :func:`transition`; a pair not listed here is an error.
TRANSITIONS: Mapping[tuple[AgentState, AgentEvent], AgentState] = {
    (S.LOGGED_OUT, E.LOGIN): S.AVAILABLE,
    (S.AVAILABLE, E.RING): S.RINGING,
    (S.AVAILABLE, E.PAUSE): S.BREAK,
    (S.AVAILABLE, E.LOGOUT): S.LOGGED_OUT,
    (S.RINGING, E.ANSWER): S.ON_CALL,
    (S.RINGING, E.NO_ANSWER): S.AVAILABLE,
    (S.RINGING, E.CANCEL): S.AVAILABLE,
    (S.ON_CALL, E.HANG_UP): S.WRAP_UP,
    (S.WRAP_UP, E.WRAP_UP_DONE): S.AVAILABLE,
    (S.WRAP_UP, E.PAUSE): S.BREAK,
    (S.WRAP_UP, E.LOGOUT): S.LOGGED_OUT,
    (S.BREAK, E.UNPAUSE): S.AVAILABLE,
    (S.BREAK, E.LOGOUT): S.LOGGED_OUT,
}

#: Logout and pause in these states are recorded and applied when the call ends.
DEFERRED = frozenset({S.RINGING, S.ON_CALL})


@dataclass(slots=True)
class Agent:
    """One operator's live state. The queue core owns and mutates it."""

    settings: AgentSettings
    state: AgentState = AgentState.LOGGED_OUT
    #: The break reason while in ``break``; empty otherwise.
    reason: str = ""
    #: When the state last changed.
    since: float = 0.0
    #: End of the last call, or the login: what "longest idle" compares.
    idle_since: float = 0.0
    #: Calls answered since the engine started (what "fewest calls" compares).
    calls_taken: int = 0
    #: Rings missed in a row; reset by an answer, a login or an unpause.
    consecutive_no_answers: int = 0
    #: The call ringing, talking or being wrapped up; None otherwise.
    current_call: str | None = None
    #: Logout asked while ringing or on a call: applied when that ends.
    logout_pending: bool = False
    #: Break reason asked while ringing or on a call: taken when that (and
    #: its wrap-up) ends; empty if none.
    pause_pending: str = ""

    @property
    def user(self) -> str:
        return self.settings.user


@dataclass(frozen=True)
class StateChange:
    """What :func:`transition` did: the agent went ``previous -> state``."""

    user: str
    previous: AgentState
    state: AgentState
    reason: str


def transition(
    agent: Agent,
    event: AgentEvent,
    now: float,
    *,
    reason: str = "",
    call_id: str | None = None,
    max_no_answers: int = 0,
) -> StateChange | None:
    """Apply ``event`` to ``agent`` at ``now``; None if only a logout was deferred.

    ``reason`` is the break reason for ``pause``; ``call_id`` the call for
    ``ring``; ``max_no_answers`` the ringing queue's auto-pause threshold
    for ``no_answer`` (0: never). Raises :class:`AgentStateError`.
    """
    previous = agent.state
    if event is E.LOGOUT and previous in DEFERRED:
        agent.logout_pending = True
        log.info("agent %s: logout deferred until the call ends", agent.user)
        return None
    if event is E.PAUSE and previous in DEFERRED:
        agent.pause_pending = reason or "break"
        log.info("agent %s: break deferred until the call ends", agent.user)
        return None
    if event is E.UNPAUSE and agent.pause_pending and previous is not S.BREAK:
        agent.pause_pending = ""
        log.info("agent %s: deferred break taken back", agent.user)
        return None
    target = TRANSITIONS.get((previous, event))
    if target is None:
        raise AgentStateError(agent.user, previous, event)
    new_reason = ""
    if event is E.LOGIN:
        agent.idle_since = now
        agent.consecutive_no_answers = 0
    elif event is E.RING:
        agent.current_call = call_id
    elif event is E.ANSWER:
        agent.calls_taken += 1
        agent.consecutive_no_answers = 0
    elif event is E.NO_ANSWER:
        agent.consecutive_no_answers += 1
        if max_no_answers and agent.consecutive_no_answers >= max_no_answers:
            target, new_reason = S.BREAK, AUTO_PAUSE
    elif event is E.HANG_UP:
        agent.idle_since = now
    elif event is E.PAUSE:
        new_reason = reason or "break"
    elif event is E.UNPAUSE:
        agent.consecutive_no_answers = 0
    if agent.pause_pending and target is S.AVAILABLE and event is not E.UNPAUSE:
        target, new_reason = S.BREAK, agent.pause_pending
    if agent.logout_pending and event in (E.NO_ANSWER, E.CANCEL, E.HANG_UP):
        target, new_reason = S.LOGGED_OUT, ""
    if target is S.LOGGED_OUT:
        agent.logout_pending = False
    if target in (S.BREAK, S.LOGGED_OUT):
        agent.pause_pending = ""
    if target not in (S.RINGING, S.ON_CALL, S.WRAP_UP):
        agent.current_call = None
    agent.state, agent.reason, agent.since = target, new_reason, now
    log.info("agent %s: %s -> %s", agent.user, previous.value, target.value)
    return StateChange(agent.user, previous, target, new_reason)
