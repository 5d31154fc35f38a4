"""The agent state table, exhaustively: every state x every event."""

from __future__ import annotations

import itertools

import pytest

from bailanys.errors import BailanysError
from bailanys.queue.agents import (
    AUTO_PAUSE,
    TRANSITIONS,
    Agent,
    AgentEvent,
    AgentState,
    AgentStateError,
    QueueError,
    StateChange,
    transition,
)
from bailanys.queue.core import QueueCore
from bailanys.queue.settings import AgentSettings, QueueSettings
from tests.queue.qhelpers import config as make_config

S, E = AgentState, AgentEvent

#: Written out again here, independently of the module's table.
ALLOWED = {
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
DEFERRED = {(S.RINGING, E.LOGOUT), (S.ON_CALL, E.LOGOUT)}
DEFERRED_PAUSE = {(S.RINGING, E.PAUSE), (S.ON_CALL, E.PAUSE)}


def agent_in(state: AgentState) -> Agent:
    agent = Agent(AgentSettings("1001"), state=state, since=1.0, idle_since=1.0)
    if state in (S.RINGING, S.ON_CALL, S.WRAP_UP):
        agent.current_call = "c1"
    if state is S.BREAK:
        agent.reason = "lunch"
    return agent


def test_module_table_is_the_documented_one() -> None:
    assert dict(TRANSITIONS) == ALLOWED


def test_error_is_a_queue_error() -> None:
    assert issubclass(AgentStateError, QueueError)
    assert issubclass(QueueError, BailanysError)


@pytest.mark.parametrize(("state", "event"), list(itertools.product(S, E)))
def test_every_state_and_event(state: AgentState, event: AgentEvent) -> None:
    agent = agent_in(state)
    if (state, event) in DEFERRED:
        assert transition(agent, event, 5.0) is None
        assert (agent.state, agent.since, agent.logout_pending) == (state, 1.0, True)
        assert agent.current_call == "c1"
    elif (state, event) in DEFERRED_PAUSE:
        assert transition(agent, event, 5.0, reason="lunch") is None
        assert (agent.state, agent.since, agent.pause_pending) == (state, 1.0, "lunch")
        assert agent.current_call == "c1"
    elif (state, event) in ALLOWED:
        change = transition(agent, event, 5.0, reason="lunch", call_id="c2")
        new = ALLOWED[state, event]
        reason = "lunch" if new is S.BREAK else ""
        assert change == StateChange("1001", state, new, reason)
        assert (agent.state, agent.since, agent.reason) == (new, 5.0, reason)
        if new not in (S.RINGING, S.ON_CALL, S.WRAP_UP):
            assert agent.current_call is None
    else:
        with pytest.raises(AgentStateError) as info:
            transition(agent, event, 5.0)
        assert (info.value.user, info.value.state, info.value.event) == ("1001", state, event)
        assert str(info.value) == (
            f"agent 1001: {event.value!r} is not allowed in state {state.value!r}"
        )
        assert (agent.state, agent.since) == (state, 1.0)  # unchanged


def test_call_fields_through_a_call() -> None:
    agent = Agent(AgentSettings("1001"))
    transition(agent, E.LOGIN, 10.0)
    assert (agent.idle_since, agent.calls_taken) == (10.0, 0)
    transition(agent, E.RING, 20.0, call_id="c1")
    assert agent.current_call == "c1"
    transition(agent, E.ANSWER, 25.0)
    assert (agent.calls_taken, agent.current_call, agent.idle_since) == (1, "c1", 10.0)
    transition(agent, E.HANG_UP, 90.0)
    assert (agent.state, agent.current_call, agent.idle_since) == (S.WRAP_UP, "c1", 90.0)
    transition(agent, E.WRAP_UP_DONE, 100.0)
    assert (agent.state, agent.current_call, agent.idle_since) == (S.AVAILABLE, None, 90.0)


def test_pause_without_reason_says_break() -> None:
    agent = agent_in(S.AVAILABLE)
    assert transition(agent, E.PAUSE, 2.0) == StateChange("1001", S.AVAILABLE, S.BREAK, "break")


def test_auto_pause_after_max_no_answers_in_a_row() -> None:
    agent = agent_in(S.AVAILABLE)
    for n in (1, 2):
        transition(agent, E.RING, n, call_id="c")
        change = transition(agent, E.NO_ANSWER, n + 0.5, max_no_answers=3)
        assert change is not None and change.state is S.AVAILABLE
        assert agent.consecutive_no_answers == n
    transition(agent, E.RING, 3.0, call_id="c")
    change = transition(agent, E.NO_ANSWER, 3.5, max_no_answers=3)
    assert change == StateChange("1001", S.RINGING, S.BREAK, AUTO_PAUSE)
    assert (agent.reason, agent.consecutive_no_answers) == ("auto_pause", 3)
    transition(agent, E.UNPAUSE, 4.0)
    assert agent.consecutive_no_answers == 0


def test_answer_and_cancel_do_not_count_as_misses() -> None:
    agent = agent_in(S.AVAILABLE)
    transition(agent, E.RING, 1.0, call_id="c")
    transition(agent, E.NO_ANSWER, 2.0, max_no_answers=2)
    transition(agent, E.RING, 3.0, call_id="c")
    transition(agent, E.CANCEL, 4.0, max_no_answers=2)  # the caller left
    assert (agent.state, agent.consecutive_no_answers) == (S.AVAILABLE, 1)
    transition(agent, E.RING, 5.0, call_id="c")
    transition(agent, E.ANSWER, 6.0)
    assert agent.consecutive_no_answers == 0


def test_zero_max_no_answers_never_pauses() -> None:
    agent = agent_in(S.AVAILABLE)
    for n in range(10):
        transition(agent, E.RING, n, call_id="c")
        transition(agent, E.NO_ANSWER, n + 0.5, max_no_answers=0)
    assert (agent.state, agent.consecutive_no_answers) == (S.AVAILABLE, 10)


@pytest.mark.parametrize(
    ("state", "event"),
    [(S.ON_CALL, E.HANG_UP), (S.RINGING, E.NO_ANSWER), (S.RINGING, E.CANCEL)],
)
def test_deferred_logout_applies_when_the_call_or_ring_ends(
    state: AgentState, event: AgentEvent
) -> None:
    agent = agent_in(state)
    assert transition(agent, E.LOGOUT, 2.0) is None
    change = transition(agent, event, 3.0, max_no_answers=1)  # logout beats auto-pause
    assert change == StateChange("1001", state, S.LOGGED_OUT, "")
    assert (agent.logout_pending, agent.current_call) == (False, None)


def test_deferred_logout_survives_an_answer() -> None:
    agent = agent_in(S.RINGING)
    transition(agent, E.LOGOUT, 2.0)
    assert transition(agent, E.ANSWER, 3.0) == StateChange("1001", S.RINGING, S.ON_CALL, "")
    assert agent.logout_pending
    change = transition(agent, E.HANG_UP, 4.0)
    assert change is not None and change.state is S.LOGGED_OUT


# -- a break asked for during a call ---------------------------------------------


def test_pause_during_a_call_is_taken_after_the_wrap_up() -> None:
    agent = agent_in(S.ON_CALL)
    assert transition(agent, E.PAUSE, 2.0, reason="lunch") is None
    change = transition(agent, E.HANG_UP, 3.0)
    assert change == StateChange("1001", S.ON_CALL, S.WRAP_UP, "")  # the call is wrapped up
    assert agent.pause_pending == "lunch"
    change = transition(agent, E.WRAP_UP_DONE, 4.0)
    assert change == StateChange("1001", S.WRAP_UP, S.BREAK, "lunch")
    assert (agent.reason, agent.pause_pending, agent.current_call) == ("lunch", "", None)
    assert transition(agent, E.UNPAUSE, 9.0) == StateChange("1001", S.BREAK, S.AVAILABLE, "")


def test_pause_while_ringing_is_taken_when_the_ring_ends() -> None:
    for event in (E.NO_ANSWER, E.CANCEL):
        agent = agent_in(S.RINGING)
        assert transition(agent, E.PAUSE, 2.0) is None
        assert agent.pause_pending == "break"  # no reason given
        assert transition(agent, event, 3.0) == StateChange("1001", S.RINGING, S.BREAK, "break")
    agent = agent_in(S.RINGING)
    transition(agent, E.PAUSE, 2.0, reason="tea")
    transition(agent, E.ANSWER, 3.0)  # answered: the break waits for the call's end
    assert (agent.state, agent.pause_pending) == (S.ON_CALL, "tea")


def test_unpause_before_the_call_ends_takes_the_break_back() -> None:
    agent = agent_in(S.ON_CALL)
    transition(agent, E.PAUSE, 2.0, reason="lunch")
    assert transition(agent, E.UNPAUSE, 3.0) is None
    assert agent.pause_pending == ""
    transition(agent, E.HANG_UP, 4.0)
    change = transition(agent, E.WRAP_UP_DONE, 5.0)
    assert change is not None and change.state is S.AVAILABLE
    # Without a deferred break, unpause on a call is still refused.
    with pytest.raises(AgentStateError):
        transition(agent_in(S.ON_CALL), E.UNPAUSE, 1.0)


def test_logout_wins_over_a_deferred_break() -> None:
    agent = agent_in(S.ON_CALL)
    transition(agent, E.PAUSE, 2.0, reason="lunch")
    transition(agent, E.LOGOUT, 2.5)
    change = transition(agent, E.HANG_UP, 3.0)
    assert change == StateChange("1001", S.ON_CALL, S.LOGGED_OUT, "")
    assert (agent.pause_pending, agent.logout_pending) == ("", False)


def test_a_pause_in_wrap_up_clears_the_deferred_one() -> None:
    agent = agent_in(S.ON_CALL)
    transition(agent, E.PAUSE, 2.0, reason="lunch")
    transition(agent, E.HANG_UP, 3.0)
    assert transition(agent, E.PAUSE, 4.0, reason="tea") == StateChange(
        "1001", S.WRAP_UP, S.BREAK, "tea")
    assert agent.pause_pending == ""


def test_an_agent_who_never_logged_in_is_logged_out_since_the_start() -> None:
    """Issue 13: "time in state" of an agent who never logged in was the
    host's uptime (since = monotonic 0); it counts from the engine's start."""
    core = QueueCore(make_config(QueueSettings("q"), a={"kk": 5}), None, 5000.0)
    (agent,) = core.snapshot(5003.0).agents
    assert (agent.state, agent.since) == ("logged_out", 5000.0)
    view = core.pool.view(frozenset(), 5003.0)
    assert view[0].elapsed == 3.0
