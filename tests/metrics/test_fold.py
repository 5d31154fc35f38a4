"""``bailanys.metrics.fold``: hand-computed fixtures, scope by scope."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bailanys.metrics.context import caller_number, offered_number
from bailanys.metrics.fold import KpiConfig, KpiFold
from bailanys.metrics.snapshot import KpiSnapshot, ScopeSnapshot, Status
from bailanys.store.events import Event
from tests.metrics.mhelpers import T0, Log

approx = pytest.approx


def fold(events: list[Event], config: KpiConfig | None = None) -> KpiFold:
    f = KpiFold(config)
    for event in sorted(events, key=lambda e: e.ts):  # stable: same-ts events keep their order
        f.apply(event)
    return f


def values(scope: ScopeSnapshot | None) -> dict[str, float | None]:
    assert scope is not None
    return {k.name: k.value for k in scope.kpis}


@pytest.fixture
def mixed() -> KpiSnapshot:
    """Six callers to egov, T = 20 s:

    c1 kk answered after 10 s (in SL), talk 100, wrap-up 20, resolved "passport", scores 5
    c2 ru answered after 30 s, talk 200, wrap-up 10, not resolved, scores 2
    c3 kk abandoned after 3 s (short), c4 ru after 40 s, c5 kk after 15 s (in SL)
    c6 kk timed out after 120 s (no overflow)
    """
    log = Log()
    log.login(0, "a1", "a2")
    log.answered(10, "c1", lang="kk", wait=10, talk=100, wrap=20, agent="a1", resolved=True,
                 topic="passport", scores=(5,))
    log.answered(20, "c2", number="+77020000002", lang="ru", wait=30, talk=200, wrap=10,
                 agent="a2", resolved=False, scores=(2,))
    log.abandoned(30, "c3", wait=3)
    log.abandoned(40, "c4", lang="ru", wait=40)
    log.abandoned(50, "c5", wait=15)
    log.timed_out(60, "c6", wait=120)
    return fold(log.events).snapshot(T0 + 1000)


def test_total_counts_and_kpis(mixed: KpiSnapshot) -> None:
    c = mixed.total.counts
    assert (c.received, c.offered, c.answered, c.abandoned, c.abandoned_short,
            c.timed_out, c.left) == (6, 6, 2, 3, 1, 1, 6)
    assert (c.answered_in_sl, c.abandoned_in_sl, c.handled) == (1, 2, 2)
    v = values(mixed.total)
    assert v["wait_s"] == approx(20.0)  # KPI 1: the wait "for an answer", of the answered
    assert v["abandoned_wait_s"] == approx((3 + 40 + 15) / 3)  # beside it
    assert v["asa_s"] == approx(20.0)
    assert v["service_level_pct"] == approx(50.0)  # 1 of 2 answered within 20 s
    assert v["sl2_pct"] == approx(60.0)  # (1 answered + 2 abandoned within 20 s) / 5
    assert v["lost_pct"] == approx(40.0)  # KPI 5: (3 - 1 short) / (6 - 1 short)
    assert v["lost_after_30s_pct"] == approx(25.0)  # 1414 plan: c4 / (6 - 2 within 30 s)
    assert v["dropped_pct"] == approx(0.0)
    assert v["aht_s"] == approx((100 + 20 + 200 + 10) / 2)  # talk + hold 0 + wrap-up
    assert v["fcr_pct"] == approx(50.0)  # 1 resolved of 2 requests
    assert v["satisfaction_score"] == approx(3.5)
    assert v["csi_pct"] == approx(50.0) and v["cdi_pct"] == approx(50.0)
    assert v["accuracy_pct"] is None
    assert mixed.total.kpi("accuracy_pct").status is Status.NO_DATA


def test_language_scopes(mixed: KpiSnapshot) -> None:
    kk, ru = values(mixed.scope("language", "kk")), values(mixed.scope("language", "ru"))
    assert kk["wait_s"] == approx(10.0)
    assert kk["abandoned_wait_s"] == approx(9.0)
    assert kk["lost_pct"] == approx(100 / 3)  # c5 of (4 offered - 1 short)
    assert kk["aht_s"] == approx(120.0)
    assert ru["wait_s"] == approx(30.0)
    assert ru["lost_pct"] == approx(50.0)
    assert ru["satisfaction_score"] == approx(2.0) and ru["cdi_pct"] == approx(100.0)


def test_queue_and_topic_scopes(mixed: KpiSnapshot) -> None:
    queue = mixed.scope("queue", "egov")
    assert queue is not None and queue.counts == replace(mixed.total.counts, received=0)
    # c1's disposition named "passport": everything c1 counted moved there
    passport = mixed.scope("topic", "passport")
    assert passport is not None
    p = passport.counts
    assert (p.offered, p.answered, p.handled, p.dispositions, p.fcr, p.surveys) == (
        1, 1, 1, 1, 1, 1)
    assert values(passport)["aht_s"] == approx(120.0)
    egov = values(mixed.scope("topic", "egov"))  # the rest: no topic given, the queue's
    assert egov["wait_s"] == approx(30.0)
    assert egov["lost_pct"] == approx(50.0)


def test_statuses_against_the_standard(mixed: KpiSnapshot) -> None:
    status = {k.name: k.status for k in mixed.total.kpis}
    assert status["wait_s"] is Status.WITHIN  # 20 s <= 54 s
    assert status["lost_pct"] is Status.BREACH  # 40 % > 10 %
    assert status["fcr_pct"] is Status.BREACH
    assert status["asa_s"] is Status.NO_TARGET
    assert mixed.total.kpi("lost_pct").limit == 10.0


def test_snapshot_serialises_to_json(mixed: KpiSnapshot) -> None:
    obj = json.loads(json.dumps(mixed.to_json()))
    assert obj["scopes"][0]["kind"] == "total"
    assert obj["scopes"][0]["kpis"]["lost_pct"]["status"] == "breach"
    assert obj["agents_by_state"]["available"] == 2
    assert {s["kind"] for s in obj["scopes"]} == {"total", "queue", "language", "topic"}


def test_overflow_counts_a_call_once_but_each_queue_visit() -> None:
    log = Log()
    moved = log.timed_out(0, "c1", queue="egov", wait=60, overflow="general")
    log.ev(moved, "queue.joined", "c1", queue="general", position=1, skills=[],
           language="kk", priority=0)
    log.ev(moved + 30, "call.ended", "c1", cause="bye", duration=95)
    log.ev(moved + 30, "queue.abandoned", "c1", queue="general", position=1,
           orig_position=1, waited=90, short=False)
    snap = fold(log.events).snapshot(T0 + 500)
    total, egov, general = snap.total.counts, snap.scope("queue", "egov"), snap.scope(
        "queue", "general")
    assert egov is not None and general is not None
    assert (total.offered, total.overflowed, total.timed_out, total.abandoned, total.left) == (
        1, 1, 0, 1, 1)
    assert total.wait_total == 90.0  # the whole wait after the menu, once
    assert total.abandoned_wait_total == 90.0
    assert (egov.counts.offered, egov.counts.timed_out, egov.counts.overflowed) == (1, 1, 1)
    assert egov.counts.wait_total == 60.0
    assert (general.counts.offered, general.counts.abandoned) == (1, 1)
    # the call's topic followed it to the queue it ended in
    assert snap.scope("topic", "egov") is None
    topic = snap.scope("topic", "general")
    assert topic is not None and topic.counts.offered == 1 and topic.counts.overflowed == 1


def test_timeouts_are_not_lost_calls_but_leave_the_queue() -> None:
    log = Log()
    log.timed_out(0, "c1", wait=300)
    log.abandoned(10, "c2", wait=100)
    v = values(fold(log.events).snapshot(T0 + 900).total)
    assert v["lost_pct"] == approx(50.0)  # item 5 counts hang-ups by the caller
    assert v["wait_s"] is None  # no caller was answered
    assert v["abandoned_wait_s"] == approx(100.0)
    assert v["sl2_pct"] == approx(0.0)
    everyone = fold(log.events, KpiConfig(wait_of_all=True)).snapshot(T0 + 900).total
    assert values(everyone)["wait_s"] == approx(200.0)  # the option: every caller who left


def test_wait_of_all_option_gives_the_older_kpi_1(mixed: KpiSnapshot) -> None:
    log = Log()
    log.answered(0, "c1", wait=10)
    log.abandoned(10, "c2", wait=3)
    log.abandoned(20, "c3", wait=50)
    default = values(fold(log.events).snapshot(T0 + 900).total)
    every = values(fold(log.events, KpiConfig(wait_of_all=True)).snapshot(T0 + 900).total)
    assert (default["wait_s"], default["abandoned_wait_s"]) == (approx(10.0), approx(26.5))
    assert every["wait_s"] == approx(21.0)


def engine_drop(log: Log, t: float, call: str, cause: str | None, wait: float = 40.0) -> None:
    joined = log.arrive(t, call, "+77015550000", "egov", "kk")
    data = {} if cause is None else {"cause": cause}
    log.ev(joined + wait, "queue.abandoned", call, queue="egov", position=1, orig_position=1,
           waited=wait, short=False, **data)
    log.ev(joined + wait, "call.ended", call, cause=cause or "caller", duration=wait)


@pytest.mark.parametrize("cause", ["engine_shutdown", "engine_restart", "engine_failure",
                                   "rtp_timeout", "max_duration", "error"])
def test_an_abandon_the_engine_caused_is_dropped_not_lost(cause: str) -> None:
    log = Log()
    log.answered(0, "c1", wait=10)
    engine_drop(log, 10, "c2", cause)
    snap = fold(log.events).snapshot(T0 + 900)
    c, v = snap.total.counts, values(snap.total)
    assert (c.offered, c.abandoned, c.dropped, c.left) == (2, 0, 1, 2)
    assert v["lost_pct"] == approx(0.0) and v["lost_after_30s_pct"] == approx(0.0)
    assert v["dropped_pct"] == approx(50.0)
    assert v["abandoned_wait_s"] is None and v["sl2_pct"] == approx(100.0)
    queue = snap.scope("queue", "egov")
    assert queue is not None and queue.counts.dropped == 1 and queue.waiting == 0


def test_a_caller_rejoining_its_queue_on_another_engine_is_one_offer() -> None:
    """Issue 22: a caller re-homed after its queue's owner died joins the same
    queue again at the new owner (with its prior wait): the same wait, one
    offer, in the total and in the queue's scope; an overflow still counts."""
    log = Log()
    joined = log.arrive(0, "c1", "+77015550000", "egov", "kk")
    log.ev(joined + 20, "queue.joined", "c1", queue="egov", position=1, prior_wait=20.0)
    log.ev(joined + 30, "call.connected", "c1", queue="egov", agent="1001", waited=30.0,
           leg="l1")
    snap = fold(log.events).snapshot(T0 + 900)
    queue = snap.scope("queue", "egov")
    assert snap.total.counts.offered == 1 and snap.total.counts.answered == 1
    assert queue is not None and (queue.counts.offered, queue.counts.answered) == (1, 1)


@pytest.mark.parametrize("cause", ["caller", None])
def test_an_abandon_by_the_caller_or_with_no_cause_is_lost(cause: str | None) -> None:
    log = Log()
    log.answered(0, "c1", wait=10)
    engine_drop(log, 10, "c2", cause)
    c = fold(log.events).snapshot(T0 + 900).total.counts
    assert (c.abandoned, c.dropped) == (1, 0)


def test_no_grace_period_by_default_and_the_plans_30_s_reading() -> None:
    """The queue core flags ``short`` only under the queue's short_abandon_s,
    0 by default: a 3 s abandon is lost; the 1414 plan's reading leaves out
    abandons within 30 s."""
    log = Log()
    log.answered(0, "c1", wait=10)
    log.abandoned(10, "c2", wait=3, short_s=0)
    log.abandoned(20, "c3", wait=30, short_s=0)
    log.abandoned(30, "c4", wait=31, short_s=0)
    v = values(fold(log.events).snapshot(T0 + 900).total)
    assert v["lost_pct"] == approx(75.0)  # 3 of 4
    assert v["lost_after_30s_pct"] == approx(50.0)  # c4 of (4 - 2 within 30 s)
    assert fold(log.events).snapshot(T0 + 900).total.kpi("lost_after_30s_pct").limit == 5.0


def test_surveys_mean_csi_cdi_and_filters() -> None:
    log = Log()
    log.login(0, "a1")
    t = 10.0
    for i, score in enumerate((5, 5, 4, 3, 2, 1, 5, 4)):
        t = log.answered(t, f"c{i}", agent="a1", scores=(score,))
    log.ev(t + 1, "survey.answered", "c0", question="satisfaction", score=9)  # not 1-5
    log.ev(t + 1, "survey.answered", "c0", question="satisfaction", score=True)
    log.ev(t + 2, "survey.answered", "x", question="resolved", score=1)
    snap = fold(log.events, KpiConfig(survey_questions=frozenset({"satisfaction"}))).snapshot(
        log.t0 + t + 5)
    v = values(snap.total)
    assert snap.total.counts.surveys == 8
    assert v["satisfaction_score"] == approx(29 / 8)
    assert v["csi_pct"] == approx(62.5)  # 5 of 8 gave 4 or 5
    assert v["cdi_pct"] == approx(25.0)  # 2 of 8 gave 1 or 2
    everything = fold(log.events).snapshot(log.t0 + t + 5)
    assert everything.total.counts.surveys == 9  # no filter: the "resolved" answer counts


def test_aht_adds_wrap_up_from_agent_states_and_occupancy() -> None:
    log = Log()
    log.login(0, "a1")
    log.answered(0, "c1", agent="a1", wait=10, talk=100, wrap=30)  # ring 2 s before connect
    snap = fold(log.events).snapshot(T0 + 1000)
    assert values(snap.total)["aht_s"] == approx(130.0)
    agent = snap.agents[0]
    assert agent.state == "available"
    assert agent.seconds["ringing"] == approx(2.0)
    assert agent.seconds["on_call"] == approx(100.0)
    assert agent.seconds["wrap_up"] == approx(30.0)
    assert agent.occupancy is not None and agent.occupancy.value == approx(13.2)  # 132/1000
    assert snap.agents_by_state["available"] == 1


def test_breaks_and_logouts_are_not_staffed_time() -> None:
    log = Log()
    log.login(0, "a1", "a2")
    log.agent(100, "a1", "break", reason="lunch")
    log.agent(400, "a1", "available")
    log.agent(500, "a2", "logged_out")
    log.answered(500, "c1", agent="a1", wait=10, talk=200, wrap=0)  # 507..717 busy
    snap = fold(log.events).snapshot(T0 + 1000)
    a1, a2 = snap.agents
    assert a1.seconds["break"] == approx(300.0)
    assert a1.staffed == approx(700.0) and a1.busy == approx(202.0)
    assert a2.staffed == approx(500.0) and a2.busy == 0.0
    assert snap.occupancy is not None and snap.occupancy.value == approx(100 * 202 / 1200)


def test_waiting_now_and_longest_wait() -> None:
    log = Log()
    log.arrive(0, "c1", "+77010000001", "egov", "kk")  # joins at 5
    log.arrive(20, "c2", "+77010000002", "pension", "ru")  # joins at 25
    log.arrive(30, "c3", "+77010000003", "egov", "ru")  # joins at 35
    log.ev(35, "queue.callback_requested", "c3", queue="egov", position=2, waited=0.0,
           number="+77010000003")
    snap = fold(log.events).snapshot(T0 + 65)
    assert (snap.waiting, snap.longest_wait, snap.callbacks_pending) == (2, 60.0, 1)
    pension = snap.scope("queue", "pension")
    assert pension is not None and (pension.waiting, pension.longest_wait) == (1, 40.0)
    kk = snap.scope("language", "kk")
    assert kk is not None and kk.waiting == 1


def test_unknown_and_malformed_events_are_ignored() -> None:
    log = Log()
    log.ev(0, "ivr.node", "c1", node="x")
    log.ev(1, "call.ended", "agent-leg", cause="normal")
    log.ev(2, "call.connected", None, queue="egov")  # no call id
    log.ev(3, "agent.state", None, agent="", state="available")
    log.ev(4, "queue.abandoned", "c9", queue="egov", waited="soon", short="no")
    snap = fold(log.events).snapshot(T0 + 10)
    c = snap.total.counts
    assert (c.answered, c.abandoned, c.wait_total) == (0, 1, 0.0)
    assert snap.agents == ()


def test_memory_is_bounded_by_live_calls() -> None:
    log = Log()
    log.login(0, "a1")
    t = 0.0
    for i in range(200):
        t = log.answered(t, f"c{i}", number=f"+7701{i:07d}", agent="a1", wait=5, talk=10,
                         wrap=1, resolved=True)
        log.abandoned(t, f"x{i}", number=f"+7702{i:07d}", wait=2)
    f = fold(log.events)
    assert f.sizes["calls"] == 0 and f.sizes["waiting"] == 0
    assert f.sizes["contacts"] == 200  # one per (number, topic) within 7 days, no more
    far = Event(None, T0 + 8 * 86_400, "ivr.node", "late", {})
    f.apply(far)
    assert f.sizes["contacts"] == 0


def test_undisposed_answered_call_is_forgotten_after_call_memory() -> None:
    log = Log()
    log.login(0, "a1")
    log.answered(0, "c1", agent="a1")
    f = fold(log.events, KpiConfig(call_memory_s=3600))
    assert f.sizes["calls"] == 1  # a disposition may still come
    f.apply(Event(None, T0 + 3 * 3600, "ivr.node", "other", {}))
    assert f.sizes["calls"] == 0


@pytest.mark.parametrize(
    ("uri", "number"),
    [
        ("sip:+77011234567@trunk.kz", "77011234567"),
        ("sip:87011234567@10.0.0.1:5060;transport=udp", "77011234567"),
        ("<sip:77011234567@trunk.kz>", "77011234567"),
        ("tel:+7-701-123-45-67", "77011234567"),
        ("sip:1002@pbx", "1002"),
        ("sip:alice@example.com", "alice"),
        ("sip:anonymous@anonymous.invalid", ""),
        ("sip:trunk.kz", ""),
        ("garbage", ""),
        (None, ""),
    ],
)
def test_caller_number(uri: object, number: str) -> None:
    assert caller_number(uri) == number


@pytest.mark.parametrize(
    ("data", "number"),
    [
        ({"caller": "77011234567", "from": "sip:other@h"}, "77011234567"),  # caller wins
        ({"caller": "anonymous", "from": "sip:+77011234567@h"}, ""),
        ({"from": "sip:87011234567@h"}, "77011234567"),  # a row stored before `caller`
        ({"caller": "", "from": "sip:1002@pbx"}, "1002"),
        ({"caller": 7}, ""),
        ({}, ""),
    ],
)
def test_offered_number_reads_caller_then_from(data: dict[str, object], number: str) -> None:
    assert offered_number(data) == number
