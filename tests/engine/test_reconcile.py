"""Closing what a crash left open (issue 13 defects 6, 7, 9; contract 3).

The lifecycles below are cut at every event (a ``kill -9`` after each): the
reconciliation must leave every call ended exactly once with the right
cause, nobody on a line, no agent in a state, and must find nothing more
to do when run again on its own output.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import pytest

from bailanys.engine.reconcile import Break, Closing, reconcile
from bailanys.metrics.fold import KpiFold
from bailanys.store.events import Event

_ids = itertools.count(1)


def ev(ts: float, type_: str, call_id: str | None = None, **data: object) -> Event:
    return Event(next(_ids), ts, type_, call_id, data)


def agent(ts: float, user: str, state: str, previous: str, reason: str = "",
          call_id: str | None = None) -> Event:
    return ev(ts, "agent.state", call_id, agent=user, state=state, previous=previous,
              reason=reason)


# --- lifecycles -------------------------------------------------------------------------

DEMO = [
    ev(0.0, "call.offered", "d", **{"from": "sip:7701@x"}),
    ev(0.1, "call.answered", "d"),
    ev(2.0, "dtmf", "d", digit="1", source="rfc4733"),
    ev(3.0, "call.ended", "d", cause="caller", reason="remote_bye", duration=2.9),
]

ABANDON = [
    ev(0.0, "call.offered", "a"),
    ev(0.1, "call.answered", "a"),
    ev(4.0, "queue.joined", "a", queue="q", position=1, language="ru"),
    ev(4.0, "queue.announced", "a", queue="q", position=1, estimate=None),
    ev(9.0, "queue.announced", "a", queue="q", position=1, estimate=30.0),
    ev(12.0, "queue.abandoned", "a", queue="q", position=1, orig_position=1, waited=8.0,
       short=False, cause="caller"),
    ev(12.0, "call.ended", "a", cause="caller", reason="remote_bye", duration=11.9),
]

BRIDGED = [
    agent(0.0, "1001", "available", "logged_out"),
    ev(1.0, "call.offered", "b"),
    ev(1.1, "call.answered", "b"),
    ev(3.0, "queue.joined", "b", queue="q", position=2, language="kk"),
    ev(6.0, "queue.announced", "b", queue="q", position=1, estimate=10.0),
    agent(7.0, "1001", "ringing", "available", call_id="b"),
    ev(7.0, "agent.ringing", "b", agent="1001", queue="q", timeout=15.0),
    ev(7.0, "call.originated", "leg", to="sip:1001@x"),
    ev(7.5, "call.ringing", "leg", status=180),
    ev(9.0, "call.answered", "leg"),
    agent(9.0, "1001", "on_call", "ringing", call_id="b"),
    ev(9.0, "call.connected", "b", queue="q", agent="1001", waited=6.0, orig_position=2),
    ev(40.0, "call.completed", "b", queue="q", agent="1001", waited=6.0, talk=31.0,
       by="agent", orig_position=2),
    agent(40.0, "1001", "wrap_up", "on_call", call_id="b"),
    ev(40.0, "call.ended", "leg", cause="agent", reason="remote_bye", duration=31.0),
    ev(52.0, "survey.answered", "b", question="satisfaction", score=5),
    ev(52.5, "call.ended", "b", cause="flow", reason="survey_done", duration=51.4),
    agent(55.0, "1001", "available", "wrap_up", call_id="b"),
]

CALLBACK = [
    ev(0.0, "call.offered", "c"),
    ev(0.1, "call.answered", "c"),
    ev(2.0, "queue.joined", "c", queue="q", position=3),
    ev(20.0, "queue.callback_requested", "c", queue="q", position=2, waited=18.0,
       number="sip:7702@x"),
    ev(25.0, "call.ended", "c", cause="flow", reason="callback_requested", duration=24.9),
    ev(90.0, "queue.callback", "c", queue="q", agent="1002", waited=88.0),
    ev(90.0, "call.originated", "cleg", to="sip:7702@x"),
    ev(95.0, "call.answered", "cleg"),
    ev(95.0, "queue.callback_answered", "c", leg="cleg", agent="1002"),
    ev(99.0, "call.connected", "c", queue="q", agent="1002", waited=97.0, orig_position=3),
    ev(150.0, "call.completed", "c", queue="q", agent="1002", waited=97.0, talk=51.0,
       by="caller", orig_position=3),
    ev(150.0, "call.ended", "cleg", cause="caller", reason="remote_bye", duration=55.0),
]

OVERFLOW = [
    ev(0.0, "call.offered", "o"),
    ev(0.1, "call.answered", "o"),
    ev(1.0, "queue.joined", "o", queue="q1", position=1),
    ev(61.0, "queue.timeout", "o", queue="q1", position=1, orig_position=1, waited=60.0,
       overflow="q2"),
    ev(61.0, "queue.joined", "o", queue="q2", position=4),
    ev(121.0, "queue.timeout", "o", queue="q2", position=2, orig_position=4, waited=120.0,
       overflow=None),
    ev(130.0, "call.ended", "o", cause="flow", reason="queue_timeout", duration=129.9),
]

LIFECYCLES = {"demo": DEMO, "abandon": ABANDON, "bridged": BRIDGED, "callback": CALLBACK,
              "overflow": OVERFLOW}


# --- helpers ---------------------------------------------------------------------------


def run(events: Sequence[Event]) -> list[Closing]:
    """Reconcile as the adapter would: every call's events, each agent's last state."""
    calls: dict[str, list[Event]] = {}
    last: dict[str, Event] = {}
    for e in events:
        if e.call_id is not None:  # all of a call's events, as events_of reads them
            calls.setdefault(e.call_id, []).append(e)
        if e.type == "agent.state":
            last[str(e.data["agent"])] = e
    crash = max((e.ts for e in events), default=0.0)
    return list(reconcile(calls, last, last, crash).closings)


def as_events(closings: Iterable[Closing]) -> list[Event]:
    return [ev(c.ts, c.type, c.call_id, **c.fields) for c in closings]


def opened(events: Iterable[Event]) -> set[str]:
    return {str(e.call_id) for e in events if e.type in ("call.offered", "call.originated")}


# --- every crash point of every lifecycle -----------------------------------------------


@pytest.mark.parametrize("name", sorted(LIFECYCLES))
def test_every_crash_point_is_closed_once(name: str) -> None:
    life = LIFECYCLES[name]
    for cut in range(1, len(life) + 1):
        before = life[:cut]
        closings = run(before)
        after = [*before, *as_events(closings)]
        where = f"{name} cut after {before[-1].type}@{before[-1].ts}"
        # Every call opened ends exactly once; the ones added say engine_restart.
        for call in opened(before):
            ends = [e for e in after if e.type == "call.ended" and e.call_id == call]
            assert len(ends) == 1, where
        for c in closings:
            who = {"call.completed": "by", "agent.state": "reason"}.get(c.type, "cause")
            assert c.fields[who] == "engine_restart", where
            mine = [e.ts for e in before if c.call_id is None or e.call_id == c.call_id]
            assert c.ts >= max(mine), where  # at its last known time, never before
        # The fold that replays it all sees nobody waiting and no growing wait.
        fold = KpiFold()
        for e in sorted(after, key=lambda e: e.ts):
            fold.apply(e)
        total = fold.snapshot(10_000.0).scopes[0]
        assert (total.waiting, total.longest_wait) == (0, None), where
        # Nobody waits for a callback that no engine will place.
        assert fold.snapshot(10_000.0).callbacks_pending == 0, where
        # Idempotent: nothing left to close.
        assert run(after) == [], where


def test_a_call_up_at_the_crash_ends_at_its_last_event() -> None:
    closings = run(DEMO[:3])
    assert closings == [Closing("call.ended", "d", 2.0, {
        "cause": "engine_restart", "reason": "engine_restart", "duration": 1.9})]


def test_a_caller_waiting_is_abandoned_then_ended_at_its_last_event() -> None:
    closings = run(ABANDON[:5])
    assert closings == [
        Closing("queue.abandoned", "a", 9.0, {
            "queue": "q", "position": 1, "orig_position": 1, "waited": 5.0,
            "short": False, "cause": "engine_restart"}),
        Closing("call.ended", "a", 9.0, {
            "cause": "engine_restart", "reason": "engine_restart", "duration": 8.9}),
    ]


def test_a_ringing_agent_and_its_leg() -> None:
    closings = run(BRIDGED[:9])  # the agent's phone rings (180)
    assert [(c.type, c.call_id) for c in closings] == [
        ("queue.abandoned", "b"), ("call.ended", "b"), ("call.ended", "leg"),
        ("agent.state", None)]
    assert closings[2].fields["duration"] == 0.0
    assert closings[3].fields == {"agent": "1001", "state": "logged_out",
                                  "previous": "ringing", "reason": "engine_restart"}


def test_a_bridged_call_is_completed_with_its_talk() -> None:
    closings = run(BRIDGED[:12])  # connected, talking
    completed = next(c for c in closings if c.type == "call.completed")
    assert completed.fields == {"queue": "q", "agent": "1001", "waited": 6.0, "talk": 0.0,
                                "by": "engine_restart", "orig_position": 2}
    assert not [c for c in closings if c.type == "queue.abandoned"]


def test_a_pending_callback_is_abandoned_at_the_crash() -> None:
    before = [*CALLBACK[:5], ev(70.0, "dtmf", "other", digit="5")]
    closings = run(before)
    assert [(c.type, c.call_id, c.ts) for c in closings] == [("queue.abandoned", "c", 70.0)]
    assert closings[0].fields["waited"] == 68.0  # from the join to the crash


def test_an_overflowed_caller_is_abandoned_in_its_second_queue() -> None:
    closings = run(OVERFLOW[:5])
    assert closings[0].fields["queue"] == "q2"
    assert closings[0].fields["waited"] == 60.0  # counted from the first join
    assert closings[0].fields["orig_position"] == 4


def test_agents_are_logged_out_and_their_breaks_kept() -> None:
    last = {
        "1001": agent(10.0, "1001", "break", "available", "lunch"),
        "1002": agent(11.0, "1002", "logged_out", "available"),
        "1003": agent(12.0, "1003", "wrap_up", "on_call"),
    }
    chosen = dict(last)
    result = reconcile({}, last, chosen, 50.0)
    assert [(c.fields["agent"], c.fields["previous"], c.ts) for c in result.closings] == [
        ("1001", "break", 50.0), ("1003", "wrap_up", 50.0)]
    assert result.breaks == {"1001": Break("lunch", 10.0)}


def test_a_break_survives_several_restarts() -> None:
    """The engine's own logged_out (restart) is not the agent's choice: the
    break chosen before it is still restored, and no second logged_out."""
    lunch = agent(10.0, "1001", "break", "available", "lunch")
    restart = agent(50.0, "1001", "logged_out", "break", "engine_restart")
    result = reconcile({}, {"1001": restart}, {"1001": lunch}, 80.0)
    assert result.closings == ()
    assert result.breaks == {"1001": Break("lunch", 10.0)}
    engine_break = agent(10.0, "1001", "break", "available", "engine_shutdown")
    assert reconcile({}, {}, {"1001": engine_break}, 80.0).breaks == {}


def test_nothing_open_nothing_done() -> None:
    assert reconcile({}, {}, {}, 0.0).closings == ()
    closed = run([*DEMO, *ABANDON, *BRIDGED, *CALLBACK, *OVERFLOW])
    assert [(c.type, c.fields["agent"]) for c in closed] == [("agent.state", "1001")]
    assert reconcile({"x": []}, {}, {}, 5.0).closings == ()
