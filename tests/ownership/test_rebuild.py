"""A queue group rebuilt from events after its owner died (``bailanys/ownership/rebuild.py``),
and what the KPI fold makes of the ``engine_failure`` closings (not lost).

The streams are written as two engines write them into the shared log:
``call.offered``/``call.ended`` by the engine that answered (the anchor),
``queue.*`` by the group's owner, a moved caller's ``queue.joined``
carrying its ``prior_wait``.
"""

from __future__ import annotations

from typing import Any

from pytest import approx

from bailanys import events as ev
from bailanys.metrics.fold import KpiFold
from bailanys.ownership.rebuild import Place, close_dead_anchor, close_unreached, rebuild
from bailanys.store.events import Event
from tests.metrics.mhelpers import T0, Log

GROUP = ("egov", "egov_ru")


def joined(log: Log, t: float, call: str, queue: str = "egov", *, arrived: float | None = None,
           priority: int = 0, position: int = 1, number: str = "+77011234567") -> None:
    log.ev(t - 5, "call.offered", call, **{"from": f"sip:{number}@trunk", "to": "sip:1414@b"})
    extra: dict[str, Any] = {} if arrived is None else {"prior_wait": t - arrived}
    log.ev(t, "queue.joined", call, queue=queue, position=position, skills=["kk"],
           language="kk", priority=priority, **extra)


def stored(log: Log) -> list[Event]:
    """Ids in writing order, as the store gives them back."""
    return [Event(i, e.ts, e.type, e.call_id, e.data) for i, e in enumerate(log.events, 1)]


def ids(places: tuple[Place, ...]) -> list[str]:
    return [p.call_id for p in places]


def test_order_is_by_priority_then_first_arrival_whatever_engine_answered() -> None:
    log = Log()
    joined(log, 10, "direct")  # answered by the owner itself at 10
    joined(log, 12, "moved", arrived=9)  # reached a queue node at 9 on another engine
    joined(log, 13, "later", arrived=11)
    joined(log, 14, "vip", priority=5)
    joined(log, 10, "same-a", queue="egov_ru")
    joined(log, 10, "same-b", queue="egov_ru")
    rebuilt = rebuild(reversed(stored(log)), GROUP)  # any order in
    assert ids(rebuilt.lines["egov"]) == ["vip", "moved", "direct", "later"]
    assert ids(rebuilt.lines["egov_ru"]) == ["same-a", "same-b"]  # a tie: by call id
    moved = rebuilt.place("moved")
    assert moved is not None and moved.arrived == approx(T0 + 9) and moved.skills == ("kk",)
    assert rebuilt.waiting == 6 and rebuilt.place("nobody") is None


def test_exits_overflows_callbacks_and_talking_calls() -> None:
    log = Log()
    joined(log, 0, "gone")
    log.ev(20, "queue.abandoned", "gone", queue="egov", position=1, orig_position=1,
           waited=20, short=False, cause="caller")
    joined(log, 1, "served")
    log.ev(30, "call.connected", "served", queue="egov", agent="a1", waited=29, orig_position=1)
    log.ev(90, "call.completed", "served", queue="egov", agent="a1", waited=29, talk=60,
           by="agent", orig_position=1)
    joined(log, 2, "timed")
    log.ev(300, "queue.timeout", "timed", queue="egov", position=1, orig_position=1,
           waited=298, overflow=None)
    joined(log, 3, "over")
    log.ev(303, "queue.timeout", "over", queue="egov", position=1, orig_position=1,
           waited=300, overflow="egov_ru")
    log.ev(303, "queue.joined", "over", queue="egov_ru", position=2, skills=[], language="kk",
           priority=0)
    joined(log, 4, "away")
    log.ev(304, "queue.timeout", "away", queue="egov", position=1, orig_position=1,
           waited=300, overflow="pensions")
    log.ev(304, "queue.joined", "away", queue="pensions", position=1, skills=[],
           language="kk", priority=0)
    joined(log, 5, "cb")
    log.ev(40, "queue.callback_requested", "cb", queue="egov", position=2, waited=35,
           number="+77017654321")
    log.ev(41, "call.ended", "cb", cause="caller", reason="remote_bye", duration=41)
    joined(log, 6, "talk")
    log.ev(50, "call.connected", "talk", queue="egov", agent="a2", waited=44, orig_position=3)
    joined(log, 7, "hung")
    log.ev(60, "call.ended", "hung", cause="caller", reason="remote_bye", duration=53)
    joined(log, 8, "waiting")
    rebuilt = rebuild(stored(log), GROUP)
    assert ids(rebuilt.lines["egov"]) == ["cb", "waiting"]
    assert ids(rebuilt.lines["egov_ru"]) == ["over"]
    over = rebuilt.place("over")
    assert over is not None and over.arrived == approx(T0 + 3)  # the first join's time
    cb = rebuilt.place("cb")
    assert cb is not None and cb.callback and cb.number == "+77017654321"
    assert [t.call_id for t in rebuilt.talking] == ["talk"]
    assert [(x.place.call_id, x.cause.value) for x in rebuilt.ended] == [("hung", "caller")]
    assert "pensions" not in rebuilt.lines  # another group's


def take_over() -> tuple[Log, list[ev.EventBase]]:
    """A dead owner's group: one caller re-homed, one unreached, one callback,
    one talking, one who hung up while the owner was dying; the successor
    closes at 400 what it could not reach (the owner last alive at 390)."""
    log = Log()
    log.login(0, "a1")
    log.answered(0, "before", number="+77010000001", resolved=True, topic="egov")
    joined(log, 300, "rehomed", arrived=298)
    joined(log, 301, "unreached", number="+77010000001")
    joined(log, 302, "cb")
    log.ev(310, "queue.callback_requested", "cb", queue="egov", position=3, waited=8,
           number="+77017654321")
    joined(log, 303, "talk")
    log.ev(320, "call.connected", "talk", queue="egov", agent="a2", waited=17, orig_position=4)
    joined(log, 304, "hung")
    log.ev(395, "call.ended", "hung", cause="caller", reason="remote_bye", duration=91)
    rebuilt = rebuild(stored(log), GROUP)
    return log, close_unreached(rebuilt, {"rehomed"}, T0 + 400, T0 + 390, {"egov": 5.0})


def test_the_unreached_are_closed_as_engine_failures() -> None:
    _, closings = take_over()
    got = {(type(e).__name__, e.call_id): e for e in closings}
    assert set(got) == {("QueueAbandoned", "unreached"), ("QueueAbandoned", "hung"),
                        ("CallCompleted", "talk")}
    unreached = got["QueueAbandoned", "unreached"]
    assert isinstance(unreached, ev.QueueAbandoned)
    assert (unreached.cause, unreached.short, unreached.waited) == ("engine_failure", False, 99.0)
    assert unreached.position == 2  # behind the re-homed caller who arrived first
    hung = got["QueueAbandoned", "hung"]
    assert isinstance(hung, ev.QueueAbandoned) and hung.cause == "caller"
    assert hung.waited == approx(91.0)
    talk = got["CallCompleted", "talk"]
    assert isinstance(talk, ev.CallCompleted)
    assert (talk.by, talk.talk, talk.agent) == ("engine_failure", 70.0, "a2")


def test_the_kpi_fold_counts_engine_failures_dropped_never_lost() -> None:
    log, closings = take_over()
    events = list(log.events)
    for event in closings:
        type_, call_id, data = ev.encode(event)
        events.append(Event(None, T0 + 400, type_, call_id, data))
    fold = KpiFold()
    for event in sorted(events, key=lambda e: e.ts):
        fold.apply(event)
    counts = fold.snapshot(T0 + 500).total.counts
    # before + 5 callers offered; only "hung" (a caller's own hang-up) is lost
    assert (counts.offered, counts.abandoned, counts.dropped) == (6, 1, 1)
    assert counts.answered == 2 and counts.handled == 2  # before; talk closed by the failure
    # the unreached caller was the number of a resolved contact on the same topic:
    # an engine failure is no repeat contact, so first-contact resolution stands
    assert (counts.requests, counts.fcr, counts.repeats) == (1, 1, 0)
    queue = fold.snapshot(T0 + 500).scope("queue", "egov")
    assert queue is not None and queue.waiting == 1  # the re-homed (a callback is off the line)


def test_the_dead_owners_own_calls_get_their_call_ended() -> None:
    """The owner was also the anchor of some callers: the successor ends
    those calls (``call.ended`` engine_failure); a call anchored elsewhere,
    or already ended, is left to its anchor."""
    def at(t: float, type_: str, call: str, engine: str, **data: Any) -> Event:
        return Event(None, T0 + t, type_, call, data, engine)

    history = [
        at(0, "call.offered", "own", "A"), at(1, "call.answered", "own", "A"),
        at(2, "queue.joined", "own", "A", queue="egov", position=1),
        at(0, "call.offered", "other", "B"), at(1, "call.answered", "other", "B"),
        at(3, "queue.joined", "other", "A", queue="egov", position=2, prior_wait=1.0),
        at(0, "call.offered", "gone", "A"), at(1, "call.answered", "gone", "A"),
        at(4, "queue.joined", "gone", "A", queue="egov_ru", position=1),
        at(5, "call.ended", "gone", "A", cause="caller", reason="bye", duration=4.0),
    ]
    found = rebuild(list(reversed(history)), GROUP)
    assert found.owner == "A"
    closings = close_unreached(found, set(), T0 + 20, T0 + 10)
    closed = {c.call_id for c in closings if c.call_id is not None}
    assert closed == {"own", "other", "gone"}
    ended = [ev.encode(e) for e in close_dead_anchor(found, closed, T0 + 10)]
    assert ended == [("call.ended", "own", {
        "cause": "engine_failure", "reason": "its engine died (closed by the queue's new owner)",
        "duration": 9.0})]
    # without engine names (a store before migration 9): nothing is closed
    unnamed = rebuild([Event(e.id, e.ts, e.type, e.call_id, e.data) for e in history], GROUP)
    assert unnamed.owner is None and close_dead_anchor(unnamed, closed, T0 + 10) == []
