"""Callbacks: the caller leaves the line and keeps its place."""

from __future__ import annotations

import pytest

from bailanys.queue.core import Announce, CallBack, Emit, QueueCore, QueueError, Ring
from bailanys.queue.settings import QueueSettings
from bailanys.queuestate import QueueState
from tests.queue.qhelpers import FakeEstimator, commands, config, events, state, types

NUMBER = "+77011234567"


def make(**settings: object) -> QueueCore:
    queue = QueueSettings("q", wrap_up_s=0, **settings)  # type: ignore[arg-type]
    return QueueCore(config(queue, a={}, b={}))


def test_a_callback_keeps_its_place_and_is_served_first() -> None:
    core = make()
    core.join("early", "q", now=0.0)
    core.join("late", "q", now=10.0)
    out = core.request_callback("early", NUMBER, 20.0)
    assert out == [Emit.of("queue.callback_requested", "early", {
        "queue": "q", "position": 1, "waited": 20.0, "number": NUMBER})]
    assert core.position("early") == 1 and core.position("late") == 2
    snap = core.snapshot(20.0).queues[0].callers
    assert [(c.call_id, c.callback, c.state) for c in snap] == [
        ("early", True, "callback"), ("late", False, "waiting")]
    # Off the line: no announcements.
    heard = [a.call_id for t in (60.0, 70.0, 129.0) for a in core.tick(t)
             if isinstance(a, Announce)]
    assert heard == ["late"]

    out = core.login("a", 130.0)
    assert out == [
        Emit.of("agent.state", None, state("a", "available", "logged_out")),
        Emit.of("queue.callback", "early", {"queue": "q", "agent": "a", "waited": 130.0}),
        CallBack("early", "a", NUMBER),
    ]
    # The reserved agent is not offered to the next caller.
    assert core.queue_state("q") == QueueState(agents_available=0, waiting=2)
    assert commands(core.tick(131.0)) == [Announce("late", 2, None, True)]  # due at 130
    out = core.callback_answered("early", 140.0)
    assert out == [
        Emit.of("agent.state", "early", state("a", "ringing", "available")),
        Emit.of("agent.ringing", "early", {"agent": "a", "queue": "q", "timeout": 15.0}),
        Ring("early", "a", 15.0),
    ]
    out = core.ring_answered("early", 142.0)
    assert events(out)[1] == ("call.connected", "early", {"queue": "q", "agent": "a",
                                                          "waited": 142.0, "orig_position": 1})
    assert core.position("late") == 1


def test_a_failed_callback_drops_the_caller_and_frees_the_agent() -> None:
    est = FakeEstimator()
    core = QueueCore(config(QueueSettings("q"), a={}), est)
    core.join("cb", "q", now=0.0)
    core.join("next", "q", now=5.0)
    core.request_callback("cb", NUMBER, 10.0)
    assert commands(core.login("a", 20.0)) == [CallBack("cb", "a", NUMBER)]
    out = core.callback_failed("cb", 50.0)
    assert out == [
        Emit.of("queue.abandoned", "cb", {"queue": "q", "position": 1, "orig_position": 1,
                                       "waited": 50.0, "short": False, "cause": "caller"}),
        Emit.of("agent.state", "next", state("a", "ringing", "available")),
        Emit.of("agent.ringing", "next", {"agent": "a", "queue": "q", "timeout": 15.0}),
        Ring("next", "a", 15.0),
    ]
    assert ("abandon", "q", "cb", 50.0, 50.0) in est.calls


def test_reserved_agent_who_pauses_leaves_the_caller_waiting_on_the_line() -> None:
    core = make()
    core.join("cb", "q", now=0.0)
    core.request_callback("cb", NUMBER, 1.0)
    core.login("a", 2.0)
    core.pause("a", "urgent", 3.0)  # drops the reservation
    out = core.callback_answered("cb", 30.0)
    assert out == [
        Emit.of("queue.announced", "cb", {"queue": "q", "position": 1, "estimate": None}),
        Announce("cb", 1, None, False),  # no second callback offer
    ]
    assert types(core.login("b", 31.0)) == ["agent.state", "agent.state", "agent.ringing"]


def test_abandon_while_calling_back_releases_the_agent() -> None:
    core = make()
    core.join("cb", "q", now=0.0)
    core.join("next", "q", now=0.5)
    core.request_callback("cb", NUMBER, 1.0)
    core.login("a", 2.0)
    out = core.abandon("cb", 3.0)
    assert types(out) == ["queue.abandoned", "agent.state", "agent.ringing"]
    assert commands(out) == [Ring("next", "a", 15.0)]


def test_callback_refused_where_not_offered_or_not_waiting() -> None:
    core = make(callback=False)
    core.join("c1", "q", now=0.0)
    announce = [a for a in core.tick(60.0) if isinstance(a, Announce)]
    assert announce == [Announce("c1", 1, None, False)]
    with pytest.raises(QueueError, match="offers no callback"):
        core.request_callback("c1", NUMBER, 1.0)
    core = make()
    core.join("c1", "q", now=0.0)
    core.request_callback("c1", NUMBER, 1.0)
    with pytest.raises(QueueError, match="is callback, not waiting"):
        core.request_callback("c1", NUMBER, 2.0)
    with pytest.raises(QueueError, match="is callback, not calling_back"):
        core.callback_answered("c1", 2.0)


def test_a_callback_does_not_time_out() -> None:
    core = make(max_wait_s=60)
    core.join("cb", "q", now=0.0)
    core.request_callback("cb", NUMBER, 1.0)
    assert core.next_timer() is None
    assert core.tick(1000.0) == []
    assert core.position("cb") == 1
