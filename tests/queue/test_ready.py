"""``QueueCore.ready`` (the desktop's "ready", issue 19) from every agent state,
and the disposition's ``outcome``/``notes``/``case``."""

from __future__ import annotations

import pytest

from bailanys.queue.core import QueueCore, QueueError, Ring
from bailanys.queue.settings import QueueSettings
from tests.queue.qhelpers import commands, config, events, fields, logged_in, state


def _core(wrap_up_s: float = 30.0) -> QueueCore:
    return QueueCore(config(QueueSettings("q", wrap_up_s=wrap_up_s), a={}, b={}))


def _wrapping_up(core: QueueCore) -> None:
    core.join("c1", "q", now=0.0)
    core.ring_answered("c1", 1.0)
    core.call_ended("c1", 10.0, by="caller")
    assert core.agent("a").state == "wrap_up"


def test_ready_ends_wrap_up_early_and_offers_the_next_caller() -> None:
    core = logged_in(_core(), "a")
    _wrapping_up(core)
    core.join("c2", "q", now=11.0)  # waits: the only agent wraps up
    assert core.pool.wrap_up_until("a") == 40.0
    out = core.ready("a", 12.0)
    assert events(out)[0] == ("agent.state", "c1", state("a", "available", "wrap_up"))
    assert [type(c) for c in commands(out)] == [Ring]  # c2 is offered at once
    assert core.agent("a").state == "ringing"
    assert core.pool.wrap_up_until("a") is None
    assert core.next_timer() != 40.0  # the wrap-up timer is gone


def test_ready_ends_a_break_and_logs_in() -> None:
    core = _core()
    out = core.ready("a", 1.0)  # logged out: logs in
    assert fields(out, "agent.state") == [state("a", "available", "logged_out")]
    core.pause("a", "lunch", 2.0)
    out = core.ready("a", 3.0)
    assert fields(out, "agent.state") == [state("a", "available", "break")]
    assert core.ready("a", 4.0) == []  # already ready: nothing, no error


def test_ready_on_a_call_takes_back_a_deferred_break_or_logout() -> None:
    core = logged_in(_core(wrap_up_s=0.0), "a")
    core.join("c1", "q", now=0.0)
    core.ring_answered("c1", 1.0)
    with pytest.raises(QueueError, match="on_call: ready once the call ends"):
        core.ready("a", 2.0)
    core.pause("a", "lunch", 2.0)
    core.logout("a", 2.5)
    assert core.ready("a", 3.0) == []
    agent = core.agent("a")
    assert (agent.pause_pending, agent.logout_pending) == ("", False)
    out = core.call_ended("c1", 5.0, by="agent")
    assert fields(out, "agent.state")[-1] == state("a", "available", "wrap_up")


def test_ready_in_wrap_up_takes_back_a_break_asked_during_the_call() -> None:
    core = logged_in(_core(), "a")
    core.join("c1", "q", now=0.0)
    core.ring_answered("c1", 1.0)
    core.pause("a", "lunch", 2.0)
    core.call_ended("c1", 3.0, by="caller")
    out = core.ready("a", 4.0)
    assert fields(out, "agent.state") == [state("a", "available", "wrap_up")]


def test_disposition_carries_outcome_notes_and_case() -> None:
    core = logged_in(_core(), "a")
    _wrapping_up(core)
    with pytest.raises(QueueError, match="unknown outcome 'maybe'"):
        core.disposition("c1", "a", False, None, 11.0, outcome="maybe")
    with pytest.raises(QueueError, match="is not resolved=True"):
        core.disposition("c1", "a", True, None, 11.0, outcome="request_created")
    out = core.disposition("c1", "a", False, "passport", 11.0, outcome="request_created",
                           notes="called about ***", case="1414-000001")
    assert fields(out, "call.disposition") == [{
        "queue": "q", "agent": "a", "resolved": False, "topic": "passport",
        "outcome": "request_created", "case": "1414-000001", "notes": "called about ***"}]
