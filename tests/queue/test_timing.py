"""Time as an input: announcements on their grid, maximum waits and overflow."""

from __future__ import annotations

from bailanys.queue.core import Announce, Emit, Overflow, QueueCore, Ring
from bailanys.queue.settings import QueueSettings
from tests.queue.qhelpers import FakeEstimator, commands, config, events, logged_in, types


def announced_at(core: QueueCore, call_id: str, times: list[float]) -> list[float]:
    """The ticks at which ``call_id`` heard an announcement (each after its event)."""
    heard = []
    for t in times:
        out = core.tick(t)
        for i, a in enumerate(out):
            if isinstance(a, Announce) and a.call_id == call_id:
                assert out[i - 1] == Emit.of("queue.announced", call_id, {
                    "queue": "q", "position": a.position, "estimate": a.estimate_s})
                heard.append(t)
    return heard


def test_announces_at_join_then_every_interval() -> None:
    core = QueueCore(config(QueueSettings("q", announce_interval_s=60), a={}))
    out = core.join("c1", "q", now=0.0)
    assert commands(out) == [Announce("c1", 1, None, True)]
    assert core.next_timer() == 60.0
    assert announced_at(core, "c1", [1.0, 30.0, 59.9, 60.0, 60.5, 119.0, 120.0]) == [60.0, 120.0]
    out = core.tick(180.0)
    assert events(out) == [("queue.announced", "c1", {"queue": "q", "position": 1,
                                                      "estimate": None})]
    core.login("a", 190.0)
    core.ring_answered("c1", 191.0)
    assert announced_at(core, "c1", [240.0, 300.0, 360.0]) == []  # connected: none
    assert core.next_timer() is None


def test_a_late_tick_announces_once_and_keeps_the_grid() -> None:
    core = QueueCore(config(QueueSettings("q", announce_interval_s=60)))
    core.join("c1", "q", now=10.0)
    out = core.tick(250.0)  # due at 70, 130, 190: one announcement, not three
    assert types(out) == ["queue.announced"] and len(commands(out)) == 1
    assert core.next_timer() == 310.0
    assert announced_at(core, "c1", [309.0, 310.0]) == [310.0]


def test_positions_and_estimates_in_announcements() -> None:
    est = FakeEstimator(per_position=45.0)
    core = QueueCore(config(QueueSettings("q", announce_interval_s=30, callback=False),
                            a={"kk": 1}), est)
    core.login("a", 0.0)
    core.pause("a", "lunch", 0.0)
    core.join("c1", "q", now=0.0)
    core.join("c2", "q", now=10.0)
    out = core.tick(30.0)
    assert out == [
        Emit.of("queue.announced", "c1", {"queue": "q", "position": 1, "estimate": 45.0}),
        Announce("c1", 1, 45.0, False),
    ]
    core.abandon("c1", 35.0)
    out = core.tick(40.0)
    assert out == [
        Emit.of("queue.announced", "c2", {"queue": "q", "position": 1, "estimate": 45.0}),
        Announce("c2", 1, 45.0, False),
    ]
    assert ("estimate", "q", 1, 0, 0, 40.0) in est.calls  # a on break: not staffed


def test_an_announcement_due_while_ringing_is_made_when_the_ring_fails() -> None:
    core = logged_in(QueueCore(config(QueueSettings("q", announce_interval_s=10,
                                                    max_no_answers=0), a={})), "a")
    core.join("c1", "q", now=0.0)  # rung at once: no announcement
    assert core.tick(10.0) == []  # due, but the agent's phone is ringing
    assert types(core.ring_failed("c1", 15.0)) == ["agent.no_answer", "agent.state"]
    out = core.tick(15.0)
    assert commands(out) == [Announce("c1", 1, None, True)]
    assert core.next_timer() == 20.0  # the grid 0, 10, 20 from the join


def test_max_wait_overflows_to_the_target_keeping_the_join_time() -> None:
    cfg = config(QueueSettings("consultation", skills=("public_services",), max_wait_s=900,
                               overflow="general"),
                 QueueSettings("general", announce_interval_s=30), a={})
    core = QueueCore(cfg)
    core.join("old", "consultation", now=0.0)
    core.join("new", "general", now=100.0)
    assert core.next_timer() == 60.0
    core.tick(899.0)
    out = core.tick(900.0)
    assert events(out) == [
        ("queue.timeout", "old", {"queue": "consultation", "position": 1, "orig_position": 1,
                                  "waited": 900.0, "overflow": "general"}),
        ("queue.joined", "old", {"queue": "general", "position": 1, "skills": [],
                                 "language": None, "priority": 0}),
        ("queue.announced", "old", {"queue": "general", "position": 1, "estimate": None}),
    ]
    assert commands(out) == [Overflow("old", "general"), Announce("old", 1, None, True)]
    # It joined before "new" did, so it stands ahead of it in the new queue.
    assert (core.position("old"), core.position("new")) == (1, 2)
    out = core.login("a", 950.0)
    assert commands(out) == [Ring("old", "a", 15.0)]  # skills of general only now
    out = core.ring_answered("old", 951.0)
    assert events(out)[1] == ("call.connected", "old", {"queue": "general", "agent": "a",
                                                        "waited": 951.0, "orig_position": 1})


def test_max_wait_without_overflow_drops_the_caller() -> None:
    est = FakeEstimator()
    core = QueueCore(config(QueueSettings("general", max_wait_s=60, announce_interval_s=60)), est)
    core.join("c1", "general", now=0.0)
    out = core.tick(60.0)
    assert out == [
        Emit.of("queue.timeout", "c1", {"queue": "general", "position": 1, "orig_position": 1,
                                     "waited": 60.0, "overflow": None}),
        Overflow("c1", None),
    ]
    assert core.position("c1") is None and core.next_timer() is None
    assert est.calls[-1] == ("abandon", "general", "c1", 60.0, 60.0)


def test_overflow_chain_times_each_queue_from_entering_it() -> None:
    cfg = config(QueueSettings("a", max_wait_s=10, overflow="b"),
                 QueueSettings("b", max_wait_s=20, overflow="c"), QueueSettings("c"))
    core = QueueCore(cfg)
    core.join("x", "a", now=0.0)
    out = core.tick(10.0)
    assert commands(out)[0] == Overflow("x", "b")
    assert types(out) == ["queue.timeout", "queue.joined", "queue.announced"]
    assert core.tick(29.0) == []
    out = core.tick(30.0)
    assert commands(out)[0] == Overflow("x", "c")
    assert events(out)[:2] == [
        ("queue.timeout", "x", {"queue": "b", "position": 1, "orig_position": 1,
                                "waited": 30.0, "overflow": "c"}),
        ("queue.joined", "x", {"queue": "c", "position": 1, "skills": [], "language": None,
                               "priority": 0}),
    ]


def test_a_caller_being_rung_does_not_time_out() -> None:
    core = logged_in(QueueCore(config(QueueSettings("q", max_wait_s=10, max_no_answers=0),
                                      a={})), "a")
    core.join("c1", "q", now=0.0)
    assert core.tick(12.0) == []
    core.ring_failed("c1", 15.0)
    assert core.tick(15.0) == [
        Emit.of("queue.timeout", "c1", {"queue": "q", "position": 1, "orig_position": 1,
                                     "waited": 15.0, "overflow": None}),
        Overflow("c1", None),
    ]


def test_announcements_carry_the_time_left_and_what_happens_then() -> None:
    """Never a wait past ``max_wait_s``: the engine says what happens at the
    limit instead (voice.phrases.queue.expected_wait_announcement)."""
    est = FakeEstimator(per_position=3600.0)
    core = QueueCore(config(QueueSettings("q", announce_interval_s=60, callback=False,
                                          max_wait_s=1800, overflow="other"),
                            QueueSettings("other", callback=False, max_wait_s=600),
                            a={"kk": 1}), est)
    core.login("a", 0.0)
    core.pause("a", "lunch", 0.0)
    assert commands(core.join("c1", "q", now=0.0)) == [
        Announce("c1", 1, 3600.0, False, 1800.0, "overflow")]
    assert commands(core.tick(60.0)) == [Announce("c1", 1, 3600.0, False, 1740.0, "overflow")]
    out = core.tick(1800.0)  # overflows into "other", which hangs up after 600 s
    assert Announce("c1", 1, 3600.0, False, 600.0, "hang_up") in commands(out)
