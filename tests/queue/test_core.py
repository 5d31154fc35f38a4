"""The queue core: a call from join to wrap-up, failed rings, abandons,
dispositions, logouts, queries and misuse. Every test checks the events."""

from __future__ import annotations

import math

import pytest

from bailanys.errors import InputError
from bailanys.queue.agents import AgentState, AgentStateError
from bailanys.queue.core import (
    Announce,
    CancelRing,
    Connected,
    Emit,
    QueueCore,
    QueueError,
    Ring,
)
from bailanys.queue.estimator import AgentView
from bailanys.queue.settings import QueueSettings
from bailanys.queuestate import QueueState
from tests.queue.qhelpers import (
    FakeEstimator,
    commands,
    config,
    events,
    fields,
    logged_in,
    state,
    types,
)


def one_queue(**settings: object) -> QueueCore:
    queue = QueueSettings("q", **settings)  # type: ignore[arg-type]
    return QueueCore(config(queue, a={"kk": 5}, b={"kk": 5, "ru": 5}))


def test_join_without_agents_announces() -> None:
    core = one_queue()
    out = core.join("c1", "q", language="kk", priority=None, now=100.0)
    assert out == [
        Emit.of("queue.joined", "c1", {"queue": "q", "position": 1, "skills": ["kk"],
                                    "language": "kk", "priority": 0}),
        Emit.of("queue.announced", "c1", {"queue": "q", "position": 1, "estimate": None}),
        Announce("c1", 1, None, True),
    ]
    assert core.position("c1") == 1
    assert core.queue_state("q") == QueueState(agents_available=0, waiting=1)


def test_a_call_from_join_to_available_again() -> None:
    core = logged_in(one_queue(wrap_up_s=10.0), "a")
    out = core.join("c1", "q", now=5.0)
    assert out == [
        Emit.of("queue.joined", "c1", {"queue": "q", "position": 1, "skills": [],
                                    "language": None, "priority": 0}),
        Emit.of("agent.state", "c1", state("a", "ringing", "available")),
        Emit.of("agent.ringing", "c1", {"agent": "a", "queue": "q", "timeout": 15.0}),
        Ring("c1", "a", 15.0),
    ]  # an agent rung at once: no announcement
    out = core.ring_answered("c1", 8.25)
    assert out == [
        Emit.of("agent.state", "c1", state("a", "on_call", "ringing")),
        Emit.of("call.connected", "c1", {"queue": "q", "agent": "a", "waited": 3.25,
                                      "orig_position": 1}),
        Connected("c1", "a"),
    ]
    assert core.position("c1") is None
    assert core.queue_state("q") == QueueState(0, 0)
    out = core.call_ended("c1", 68.2504, by="agent")
    assert events(out) == [
        ("call.completed", "c1", {"queue": "q", "agent": "a", "waited": 3.25, "talk": 60.0,
                                  "by": "agent", "orig_position": 1}),
        ("agent.state", "c1", state("a", "wrap_up", "on_call")),
    ]
    assert commands(out) == []
    assert core.next_timer() == pytest.approx(78.2504)
    assert core.tick(78.0) == []
    assert core.tick(78.2504) == [Emit.of("agent.state", "c1", state("a", "available", "wrap_up"))]
    assert core.agent("a").calls_taken == 1
    assert core.next_timer() is None


def test_wrap_up_end_dispatches_the_next_caller() -> None:
    core = logged_in(one_queue(wrap_up_s=10.0), "a")
    core.join("c1", "q", now=0.0)
    core.ring_answered("c1", 1.0)
    core.join("c2", "q", now=2.0)
    core.call_ended("c1", 30.0, by="caller")
    out = core.tick(40.0)
    assert types(out) == ["agent.state", "agent.state", "agent.ringing"]
    assert events(out)[1] == ("agent.state", "c2", state("a", "ringing", "available"))
    assert commands(out) == [Ring("c2", "a", 15.0)]


def test_pause_during_wrap_up_stops_its_timer() -> None:
    core = logged_in(one_queue(wrap_up_s=10.0), "a")
    core.join("c1", "q", now=0.0)
    core.ring_answered("c1", 1.0)
    core.call_ended("c1", 2.0, by="caller")
    out = core.pause("a", "lunch", 3.0)
    assert out == [Emit.of("agent.state", "c1", state("a", "break", "wrap_up", "lunch"))]
    assert core.tick(20.0) == []
    assert core.unpause("a", 30.0) == [
        Emit.of("agent.state", None, state("a", "available", "break"))]


def test_ring_failed_tries_the_next_agent_and_counts() -> None:
    core = logged_in(one_queue(), "a", "b")
    core.join("c1", "q", now=10.0)  # a: idle longest (both since 0; config order)
    out = core.ring_failed("c1", 25.0)
    assert out == [
        Emit.of("agent.no_answer", "c1", {"agent": "a", "queue": "q", "rang": 15.0}),
        Emit.of("agent.state", "c1", state("a", "available", "ringing")),
        Emit.of("agent.state", "c1", state("b", "ringing", "available")),
        Emit.of("agent.ringing", "c1", {"agent": "b", "queue": "q", "timeout": 15.0}),
        Ring("c1", "b", 15.0),
    ]
    assert core.agent("a").consecutive_no_answers == 1
    assert core.position("c1") == 1


def test_failed_agent_is_not_rung_again_before_retry_s_when_alone() -> None:
    core = logged_in(one_queue(retry_s=5.0, max_no_answers=0), "a")
    core.join("c1", "q", now=0.0)
    out = core.ring_failed("c1", 15.0)
    assert types(out) == ["agent.no_answer", "agent.state"]  # no re-ring yet
    assert core.next_timer() == 0.0  # overdue: the announcement skipped while ringing
    out = core.tick(15.0)
    assert out == [
        Emit.of("queue.announced", "c1", {"queue": "q", "position": 1, "estimate": None}),
        Announce("c1", 1, None, True),
    ]
    assert core.next_timer() == 20.0
    assert core.tick(19.9) == []
    out = core.tick(20.0)
    assert commands(out) == [Ring("c1", "a", 15.0)]


def test_a_newly_free_agent_is_tried_before_the_one_who_failed() -> None:
    core = logged_in(one_queue(retry_s=5.0), "a")
    core.join("c1", "q", now=0.0)
    core.ring_failed("c1", 15.0)
    out = core.login("b", 15.5)
    assert out == [
        Emit.of("agent.state", None, state("b", "available", "logged_out")),
        Emit.of("agent.state", "c1", state("b", "ringing", "available")),
        Emit.of("agent.ringing", "c1", {"agent": "b", "queue": "q", "timeout": 15.0}),
        Ring("c1", "b", 15.0),
    ]
    # Both failed c1 now: a's retry_s has passed, b's has not.
    assert commands(core.ring_failed("c1", 30.5)) == [Ring("c1", "a", 15.0)]


def test_auto_pause_after_max_no_answers() -> None:
    core = logged_in(one_queue(max_no_answers=2, retry_s=0.0), "a")
    core.join("c1", "q", now=0.0)
    out = core.ring_failed("c1", 15.0)
    assert commands(out) == [Ring("c1", "a", 15.0)]  # retry_s = 0: again at once
    out = core.ring_failed("c1", 30.0)
    assert events(out) == [
        ("agent.no_answer", "c1", {"agent": "a", "queue": "q", "rang": 15.0}),
        ("agent.state", "c1", state("a", "break", "ringing", "auto_pause")),
    ]
    assert core.agent("a").reason == "auto_pause"
    out = core.unpause("a", 40.0)
    assert types(out) == ["agent.state", "agent.state", "agent.ringing"]
    assert core.agent("a").consecutive_no_answers == 0


def test_connected_names_the_agents_leg_for_the_queue_log() -> None:
    core = logged_in(one_queue(), "a")
    core.join("c1", "q", now=0.0)
    out = core.ring_answered("c1", 2.0, leg="agent-leg-1")
    assert events(out)[1] == ("call.connected", "c1", {
        "queue": "q", "agent": "a", "waited": 2.0, "orig_position": 1, "leg": "agent-leg-1"})


def test_no_grace_period_by_default_an_early_hang_up_is_not_short() -> None:
    core = one_queue()
    core.join("c1", "q", now=0.0)
    (out,) = core.abandon("c1", 0.5)
    assert isinstance(out, Emit) and out.fields["short"] is False


def test_abandon_while_ringing_cancels_without_a_miss() -> None:
    core = logged_in(one_queue(short_abandon_s=5.0), "a")
    core.join("c1", "q", now=0.0)
    out = core.abandon("c1", 3.0)
    assert out == [
        Emit.of("queue.abandoned", "c1", {"queue": "q", "position": 1, "orig_position": 1,
                                       "waited": 3.0, "short": True, "cause": "caller"}),
        Emit.of("agent.state", "c1", state("a", "available", "ringing")),
        CancelRing("c1", "a"),
    ]
    assert core.agent("a").consecutive_no_answers == 0
    assert core.position("c1") is None and core.abandon("c1", 4.0) == []


def test_abandon_while_waiting_frees_the_place() -> None:
    core = one_queue(short_abandon_s=5.0)
    for n in range(3):
        core.join(f"c{n}", "q", now=float(n))
    out = core.abandon("c1", 6.0)
    assert out == [Emit.of("queue.abandoned", "c1", {"queue": "q", "position": 2,
                                                   "orig_position": 2, "waited": 5.0,
                                                   "short": False, "cause": "caller"})]
    assert [core.position(c) for c in ("c0", "c1", "c2")] == [1, None, 2]


def test_disposition_only_by_the_agent_who_took_the_call() -> None:
    core = logged_in(one_queue(wrap_up_s=0.0), "a", "b")
    core.join("c1", "q", now=0.0)
    with pytest.raises(QueueError, match="agent a has no call 'c1'"):
        core.disposition("c1", "a", True, None, 0.5)  # still ringing
    core.ring_answered("c1", 1.0)
    with pytest.raises(QueueError, match="agent b has no call 'c1'"):
        core.disposition("c1", "b", True, None, 2.0)
    core.call_ended("c1", 60.0, by="caller")
    out = core.disposition("c1", "a", False, "pension", 61.0)
    assert out == [Emit.of("call.disposition", "c1", {"queue": "q", "agent": "a",
                                                    "resolved": False, "topic": "pension"})]
    with pytest.raises(QueueError, match="already has a disposition"):
        core.disposition("c1", "a", True, None, 62.0)
    with pytest.raises(QueueError, match="unknown agent 'z'"):
        core.disposition("c1", "z", True, None, 62.0)


def test_disposition_during_the_call() -> None:
    core = logged_in(one_queue(), "a")
    core.join("c1", "q", now=0.0)
    core.ring_answered("c1", 1.0)
    out = core.disposition("c1", "a", True, None, 2.0)
    assert events(out) == [("call.disposition", "c1", {"queue": "q", "agent": "a",
                                                       "resolved": True, "topic": None})]


def test_logout_on_a_call_is_applied_at_hang_up() -> None:
    core = logged_in(one_queue(), "a")
    core.join("c1", "q", now=0.0)
    core.ring_answered("c1", 1.0)
    assert core.logout("a", 2.0) == []
    assert core.snapshot(2.0).agents[0].logout_pending
    out = core.call_ended("c1", 3.0, by="caller")
    assert events(out)[1:] == [("agent.state", "c1", state("a", "logged_out", "on_call"))]
    assert core.next_timer() is None  # no wrap-up


def test_login_twice_is_refused() -> None:
    core = logged_in(one_queue(), "a")
    with pytest.raises(AgentStateError, match="'login' is not allowed in state 'available'"):
        core.login("a", 1.0)


def test_agents_out_of_service_are_not_rung() -> None:
    core = logged_in(one_queue(), "a", "b")
    core.pause("a", "meeting", 1.0)
    out = core.logout("b", 1.0)
    assert out == [Emit.of("agent.state", None, state("b", "logged_out", "available"))]
    assert types(core.join("c1", "q", now=2.0)) == ["queue.joined", "queue.announced"]


def test_estimator_is_told_and_asked() -> None:
    est = FakeEstimator(per_position=42.0)
    core = QueueCore(config(QueueSettings("q", wrap_up_s=7.0), a={"kk": 1}, b={"kk": 1},
                            c={"ru": 1}), est)
    core.login("a", 0.0)
    core.login("b", 0.0)
    core.pause("b", "tea", 0.0)
    core.login("c", 0.0)
    core.join("c1", "q", language="kk", now=1.0)  # a rung
    out = core.join("c2", "q", language="kk", now=2.0)
    assert fields(out, "queue.announced") == [{"queue": "q", "position": 2, "estimate": 84.0}]
    core.ring_answered("c1", 3.0)
    core.call_ended("c1", 10.0, by="agent")
    core.abandon("c2", 11.0)
    assert est.calls == [
        ("login", "a", 0.0),
        ("login", "b", 0.0),
        ("login", "c", 0.0),
        ("join", "q", "c1", 1.0),
        ("join", "q", "c2", 2.0),
        ("estimate", "q", 2, 1, 0, 2.0),  # a staffed (ringing), b on break, c no kk
        ("answer", "q", "c1", 2.0, 3.0),
        ("complete", "q", "c1", 7.0, 7.0, 10.0),
        ("abandon", "q", "c2", 9.0, 11.0),
    ]


def test_a_non_finite_estimate_is_announced_as_unknown() -> None:
    est = FakeEstimator(per_position=math.inf)
    core = QueueCore(config(QueueSettings("q")), est)
    assert core.join("c1", "q", now=0.0)[-1] == Announce("c1", 1, None, True)


def test_queue_state_and_snapshot() -> None:
    core = QueueCore(config(QueueSettings("q", skills=("x",)), QueueSettings("r"),
                            a={"x": 1, "kk": 2}, b={"kk": 1}))
    logged_in(core, "a", "b", now=1.0)
    assert core.queue_state("q") == QueueState(1, 0)
    assert core.queue_state("r") == QueueState(2, 0)
    assert core.queue_state("nope") is None
    core.join("c1", "r", language="kk", now=2.0)  # a rung (idle since 1, config order)
    core.join("c2", "r", language="ru", now=3.0)
    core.pause("b", "lunch", 4.0)
    snap = core.snapshot(5.5)
    assert [(q.name, q.agents_available) for q in snap.queues] == [("q", 0), ("r", 0)]
    callers = snap.queues[1].callers
    assert [(c.call_id, c.position, c.waited, c.language, c.callback, c.state, c.agent)
            for c in callers] == [("c1", 1, 3.5, "kk", False, "ringing", "a"),
                                  ("c2", 2, 2.5, "ru", False, "waiting", None)]
    assert [(a.user, a.name, a.state, a.since, a.reason, a.current_call) for a in snap.agents] \
        == [("a", "A", "ringing", 2.0, "", "c1"), ("b", "B", "break", 4.0, "lunch", None)]
    assert core.queue_state("r") == QueueState(0, 2)


def test_misuse_raises_queue_error() -> None:
    core = logged_in(one_queue(), "a")
    with pytest.raises(QueueError, match="unknown queue 'x'"):
        core.join("c1", "x", now=0.0)
    core.join("c1", "q", now=0.0)
    with pytest.raises(QueueError, match="already queued"):
        core.join("c1", "q", now=0.0)
    with pytest.raises(QueueError, match="unknown agent 'z'"):
        core.login("z", 0.0)
    with pytest.raises(QueueError, match="unknown call 'c9'"):
        core.ring_answered("c9", 0.0)
    with pytest.raises(QueueError, match="'c1' is ringing, not connected"):
        core.call_ended("c1", 0.0, by="caller")
    with pytest.raises(QueueError, match="ended by 'caller' or 'agent'"):
        core.call_ended("c1", 0.0, by="nobody")
    with pytest.raises(QueueError, match="is ringing, not waiting"):
        core.request_callback("c1", "87010000000", 0.0)
    core.ring_answered("c1", 1.0)
    with pytest.raises(QueueError, match="connected: report call_ended"):
        core.abandon("c1", 2.0)
    core.join("c2", "q", now=3.0)
    with pytest.raises(InputError, match="no number"):
        core.request_callback("c2", " ", 3.0)


def test_the_estimator_sees_each_qualified_agent_and_the_waits_ahead() -> None:
    est = FakeEstimator()
    core = QueueCore(config(QueueSettings("q", wrap_up_s=30.0), a={"kk": 1}, b={"kk": 1},
                            c={"kk": 1}, d={"ru": 1}, e={"kk": 1}), est)
    for user in ("a", "b", "c", "d", "e"):
        core.login(user, 0.0)
    core.logout("e", 8.0)
    core.pause("c", "lunch", 5.0)
    core.join("c1", "q", language="kk", now=10.0)  # a rung
    core.ring_answered("c1", 12.0)
    core.join("c2", "q", language="kk", now=20.0)  # b rung
    core.ring_answered("c2", 21.0)
    core.logout("b", 40.0)  # deferred: b leaves after this call
    core.call_ended("c1", 50.0, by="agent")  # a wraps up for 30 s
    core.join("c3", "q", language="kk", now=60.0)
    core.join("c4", "q", language="kk", now=70.0)
    v = est.views[-1]
    assert (v.position, v.waited) == (2, (10.0, 0.0))
    assert v.agents == (  # d speaks no Kazakh: not in the view
        AgentView(AgentState.WRAP_UP, 20.0, user="a"),
        AgentView(AgentState.ON_CALL, 49.0, leaving=True, user="b"),
        AgentView(AgentState.BREAK, 65.0, reason="lunch", user="c"),
        AgentView(AgentState.LOGGED_OUT, 62.0, user="e"),  # its login may be due
    )
    assert (v.staffed, v.available) == (2, 0)
    assert [c for c in est.calls if c[0] == "login"] == [
        ("login", u, 0.0) for u in ("a", "b", "c", "d", "e")]


def test_a_break_asked_for_on_a_call_follows_its_wrap_up_and_is_learnt() -> None:
    est = FakeEstimator()
    core = QueueCore(config(QueueSettings("q", wrap_up_s=10.0), a={}), est)
    core.login("a", 0.0)
    core.join("c1", "q", now=1.0)
    core.ring_answered("c1", 2.0)
    assert core.pause("a", "lunch", 3.0) == []  # deferred: nothing changes yet
    core.join("c2", "q", now=4.0)
    assert est.views[-1].agents[0].pause_after == "lunch"
    out = core.call_ended("c1", 20.0, by="agent")
    assert fields(out, "agent.state") == [state("a", "wrap_up", "on_call")]
    out = core.tick(30.0)  # wrap-up over: the break, not c2
    assert fields(out, "agent.state") == [state("a", "break", "wrap_up", "lunch")]
    assert commands(out) == []
    out = core.unpause("a", 930.0)
    assert fields(out, "agent.state")[0] == state("a", "available", "break")
    assert ("break", "lunch", 900.0, 930.0) in est.calls
    assert types(out)[-1] == "agent.ringing"  # c2 at last


def test_unpause_on_a_call_takes_back_the_deferred_break() -> None:
    est = FakeEstimator()
    core = QueueCore(config(QueueSettings("q"), a={}), est)
    core.login("a", 0.0)
    core.join("c1", "q", now=1.0)
    core.ring_answered("c1", 2.0)
    core.pause("a", "tea", 3.0)
    assert core.unpause("a", 4.0) == []
    assert not [c for c in est.calls if c[0] == "break"]  # no break happened
    with pytest.raises(AgentStateError):
        core.unpause("a", 5.0)  # nothing left to take back


def test_abandon_carries_the_cause_of_the_end() -> None:
    """Issue 13 defect 8: the engine's hang-ups are not the caller's abandons."""
    core = one_queue()
    core.join("c1", "q", now=0.0)
    out = core.abandon("c1", 30.0, "rtp_timeout")
    assert fields(out, "queue.abandoned")[0]["cause"] == "rtp_timeout"


def test_drop_all_lets_every_caller_not_talking_go_without_dispatch() -> None:
    """The engine stops: waiting, ringing and callback callers leave with the
    cause given; the connected one stays; no agent is offered anyone."""
    core = logged_in(one_queue(callback=True), "a")
    core.join("talking", "q", now=0.0)
    core.ring_answered("talking", 1.0)
    core.login("b", 1.0)
    core.join("ringing", "q", now=2.0)  # b is rung
    core.join("waiting", "q", now=3.0)
    core.join("cb", "q", now=4.0)
    core.request_callback("cb", "sip:7701@example", 5.0)
    out = core.drop_all(10.0, "engine_shutdown")
    assert [(c, f["cause"]) for t, c, f in events(out) if t == "queue.abandoned"] == [
        ("ringing", "engine_shutdown"), ("waiting", "engine_shutdown"),
        ("cb", "engine_shutdown")]
    assert commands(out) == [CancelRing("ringing", "b")]
    assert core.agent("b").state is AgentState.AVAILABLE
    assert core.agent("a").state is AgentState.ON_CALL
    assert [core.position(c) for c in ("ringing", "waiting", "cb")] == [None] * 3
    assert core.queue_state("q") == QueueState(agents_available=1, waiting=0)
    assert core.tick(11.0) == []  # nobody left to offer b
