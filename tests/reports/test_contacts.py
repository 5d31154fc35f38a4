"""contacts.contact_of: one call's events -> one Contact, with the metrics core's definitions."""

from __future__ import annotations

import sqlite3

import pytest

from bailanys.events import (
    CallConnected,
    CallDisposition,
    CallerPortrait,
    CallRegion,
    CallTopic,
    CaseComplaint,
    CaseCreated,
    ComplaintConfirmed,
    QueueCallbackAnswered,
    QueueCallbackRequested,
    RobotFaq,
    RobotHandover,
    RobotService,
    SmsSent,
    SurveyAnswered,
)
from bailanys.metrics.windows import recompute
from bailanys.reports.contacts import contact_of, upsert
from bailanys.reports.model import Contact, ContactChannel, RegionSource, Sex, SocialStatus
from bailanys.reports.model import TopicSource as TS
from bailanys.store.events import Event
from bailanys.store.migrations import SCHEMA_V6_REPORTS, SCHEMA_V8_CALLER
from bailanys.timezone import ALMATY
from tests.reports.contacthelpers import T0, Calls, answered_call, joined, lost_call, offered

COMPLAINTS = frozenset({"complaint"})


def fold(c: Calls, call: str, topics: frozenset[str] | None = None) -> Contact:
    contact = contact_of(c.of(call) + _wrap_ends(c, call), ALMATY, COMPLAINTS, topics)
    assert contact is not None
    return contact


def _wrap_ends(c: Calls, call: str) -> list[Event]:
    """The agent's next state after the call's wrap-up (what projector.call_events adds)."""
    return [e for e in c.events if e.type == "agent.state" and e.call_id is None
            and any(w.type == "agent.state" and w.call_id == call for w in c.events)]


def test_answered_call_counts_as_the_kpis_do() -> None:
    c = Calls()
    answered_call(c, "a", T0, wait=12.0, talk=100.0, wrap=20.0)
    got = fold(c, "a")
    assert got == Contact(
        started=T0, day="2026-07-01", channel=ContactChannel.OPERATOR, call_id="a",
        language="kk", queue="egov", agent="aigul", topic="passport",
        topic_source=TS.DISPOSITION, answered=True, abandoned=False, resolved=True,
        wait_s=12.0, handle_s=120.0, answer_s=12.0, outcome="resolved")
    # AHT of the metrics core over the same events: the same 120 s.
    kpis = recompute(c.events, T0, T0 + 3600)
    aht = next(k for k in kpis.total.kpis if k.name == "aht_s")
    assert aht.value == got.handle_s


def test_day_is_local_to_almaty() -> None:
    c = Calls()
    answered_call(c, "late", T0 + 14 * 3600 - 1)  # 23:59:59 local, 18:59:59 UTC
    answered_call(c, "next", T0 + 14 * 3600)  # 00:00 the next local day
    assert fold(c, "late").day == "2026-07-01"
    assert fold(c, "next").day == "2026-07-02"


def test_lost_short_and_dropped_abandons() -> None:
    c = Calls()
    lost_call(c, "lost", T0, wait=40.0)
    lost_call(c, "short", T0, wait=2.0, short=True)
    lost_call(c, "dropped", T0, wait=9.0, cause="engine_shutdown")
    lost = fold(c, "lost")
    assert (lost.channel, lost.answered, lost.abandoned, lost.wait_s, lost.answer_s) == (
        ContactChannel.IVR, False, True, 40.0, None)
    assert lost.handle_s is None and lost.resolved is None
    assert fold(c, "short").abandoned is False  # KPI 5 does not count it lost
    assert fold(c, "dropped").abandoned is False  # the engine's doing
    assert fold(c, "dropped").wait_s == 9.0


def test_ivr_only_call() -> None:
    c = Calls()
    offered(c, "m", T0)
    c.add(T0 + 30, CallTopic(call_id="m", topic="pension", source="ivr"))
    got = fold(c, "m")
    assert (got.channel, got.topic, got.topic_source, got.wait_s, got.queue) == (
        ContactChannel.IVR, "pension", TS.IVR, None, None)


def test_robot_channel_faq_or_service_but_operator_wins() -> None:
    c = Calls()
    offered(c, "faq", T0)
    c.add(T0 + 9, RobotFaq(call_id="faq", step="question", outcome="answered", entry="e1"))
    offered(c, "svc", T0)
    c.add(T0 + 9, RobotService(call_id="svc", service="certificate", step="done",
                               outcome="completed"))
    offered(c, "miss", T0)
    c.add(T0 + 9, RobotFaq(call_id="miss", step="question", outcome="no_match"))
    c.add(T0 + 9, RobotService(call_id="miss", service="certificate", step="done",
                               outcome="handed_over:backend"))
    assert fold(c, "faq").channel is ContactChannel.ROBOT
    assert fold(c, "svc").channel is ContactChannel.ROBOT
    assert fold(c, "miss").channel is ContactChannel.IVR
    # answered by the robot, then handed to a queue that answered: operator
    answered_call(c, "both", T0)
    c.add(T0 + 2, RobotFaq(call_id="both", step="clarified", outcome="answered", entry="e1"))
    c.add(T0 + 3, RobotHandover(call_id="both", reason="operator"))
    c.events.sort(key=lambda e: (e.ts, e.id or 0))
    assert fold(c, "both").channel is ContactChannel.OPERATOR
    # handed over, then lost in the queue: the robot served it
    offered(c, "gone", T0)
    c.add(T0 + 2, RobotFaq(call_id="gone", step="question", outcome="answered", entry="e1"))
    joined(c, "gone", T0 + 3)
    assert fold(c, "gone").channel is ContactChannel.ROBOT


def test_callback_leg_answer_is_callback() -> None:
    c = Calls()
    offered(c, "cb", T0)
    joined(c, "cb", T0 + 5)
    c.add(T0 + 65, QueueCallbackRequested(call_id="cb", queue="egov", position=3, waited=60.0,
                                          number="77011234567"))
    c.add(T0 + 600, QueueCallbackAnswered(call_id="cb", leg="leg1", agent="aigul"))
    c.add(T0 + 610, CallConnected(call_id="cb", queue="egov", agent="aigul", waited=605.0,
                                  orig_position=3))
    got = fold(c, "cb")
    assert (got.channel, got.answered, got.agent, got.answer_s) == (
        ContactChannel.CALLBACK, True, "aigul", 605.0)


def test_topic_by_trust_and_classifier() -> None:
    c = Calls()
    answered_call(c, "d", T0, topic="passport")
    c.add(T0 + 1, CallTopic(call_id="d", topic="pension", source="ivr"))
    c.add(T0 + 2, CallTopic(call_id="d", topic="id_card", source="robot"))
    assert (fold(c, "d").topic, fold(c, "d").topic_source) == ("passport", TS.DISPOSITION)
    # the disposition names no topic: the robot's, over the menu's
    answered_call(c, "r", T0, topic=None)
    c.add(T0 + 1, CallTopic(call_id="r", topic="pension", source="ivr"))
    c.add(T0 + 2, CallTopic(call_id="r", topic="id_card", source="robot"))
    c.add(T0 + 3, CallTopic(call_id="r", topic="ecp", source="robot"))  # latest of a source
    assert (fold(c, "r").topic, fold(c, "r").topic_source) == ("ecp", TS.ROBOT)
    # with a classifier: ids outside it are skipped, the next source used
    tree = frozenset({"pension", "id_card"})
    assert (fold(c, "d", tree).topic, fold(c, "d", tree).topic_source) == ("id_card", TS.ROBOT)
    assert (fold(c, "r", frozenset({"pension"})).topic_source) is TS.IVR
    assert fold(c, "r", frozenset()).topic is None
    # an unknown source is not trusted
    offered(c, "x", T0)
    c.add(T0 + 1, CallTopic(call_id="x", topic="pension", source="guess"))
    assert fold(c, "x").topic is None


def test_region_order_flow_number_backend() -> None:
    c = Calls()
    offered(c, "g", T0)
    c.add(T0 + 1, CallRegion(call_id="g", region="karaganda", source="number"))
    c.add(T0 + 2, CallRegion(call_id="g", region="astana", source="backend"))
    assert (fold(c, "g").region, fold(c, "g").region_source) == ("karaganda", RegionSource.NUMBER)
    c.add(T0 + 3, CallRegion(call_id="g", region="abai", source="flow"))
    assert (fold(c, "g").region, fold(c, "g").region_source) == ("abai", RegionSource.FLOW)
    offered(c, "b", T0)
    c.add(T0 + 1, CallRegion(call_id="b", region="atlantis", source="flow"))  # not a region
    c.add(T0 + 2, CallRegion(call_id="b", region="shymkent", source="backend"))
    assert (fold(c, "b").region, fold(c, "b").region_source) == ("shymkent",
                                                                  RegionSource.BACKEND)
    offered(c, "n", T0)
    assert (fold(c, "n").region, fold(c, "n").region_source) == ("unknown", None)


def test_portrait_latest_and_checked() -> None:
    c = Calls()
    offered(c, "p", T0)
    c.add(T0 + 1, CallerPortrait(call_id="p", age_band="31-40", sex="f"))
    c.add(T0 + 2, CallerPortrait(call_id="p", age_band="61-70", sex="m",
                                 social_status="pensioner"))
    got = fold(c, "p")
    assert (got.age_band, got.sex, got.social_status) == ("61-70", Sex.MALE,
                                                          SocialStatus.PENSIONER)
    offered(c, "bad", T0)
    c.add(T0 + 1, CallerPortrait(call_id="bad", age_band="200", sex="x", social_status="king"))
    bad = fold(c, "bad")
    assert (bad.age_band, bad.sex, bad.social_status) == (None, None, None)


def test_complaint_and_latest_verdict() -> None:
    c = Calls()
    answered_call(c, "k", T0, topic="complaint", resolved=False)
    got = fold(c, "k")
    assert (got.complaint, got.complaint_confirmed, got.resolved) == (True, None, False)
    c.add(T0 + 900, ComplaintConfirmed(call_id="k", confirmed=True, user="sup"))
    assert fold(c, "k").complaint_confirmed is True
    c.add(T0 + 950, ComplaintConfirmed(call_id="k", confirmed=False, user="sup2"))
    assert fold(c, "k").complaint_confirmed is False
    answered_call(c, "ok", T0, topic="passport")
    assert fold(c, "ok").complaint is False
    # Issue 19: a complaint registered as a request from the call, judged by the
    # requests' CLI or API (case.complaint), is the form's complaint too.
    answered_call(c, "r", T0, topic="passport")
    c.add(T0 + 60, CaseCreated(call_id="r", number="2026-000001", kind="complaint",
                               topic="passport", department="d", deadline="2026-03-30",
                               user="1001"))
    assert (fold(c, "r").complaint, fold(c, "r").complaint_confirmed) == (True, None)
    c.add(T0 + 900, CaseComplaint(call_id="r", number="2026-000001", category="rude",
                                  confirmed=True, user="sup"))
    assert fold(c, "r").complaint_confirmed is True


def test_only_the_first_disposition_counts() -> None:
    c = Calls()
    answered_call(c, "two", T0, topic="passport", resolved=True)
    c.add(T0 + 999, CallDisposition(call_id="two", queue="egov", agent="aigul",
                                    resolved=False, topic="complaint"))
    got = fold(c, "two")
    assert (got.topic, got.resolved, got.complaint) == ("passport", True, False)


def test_survey_first_valid_score() -> None:
    c = Calls()
    answered_call(c, "s", T0)
    c.add(T0 + 200, SurveyAnswered(call_id="s", node="q0", question="x", score=9))
    c.add(T0 + 201, SurveyAnswered(call_id="s", node="q1", question="sat", score=4))
    c.add(T0 + 202, SurveyAnswered(call_id="s", node="q2", question="other", score=2))
    assert fold(c, "s").survey_score == 4


def test_no_inbound_call_no_contact() -> None:
    c = Calls()
    c.add(T0, SmsSent(sms_id=1, to="7701***4567"))
    assert contact_of(c.events, ALMATY, COMPLAINTS) is None
    assert contact_of([], ALMATY, COMPLAINTS) is None


def test_upsert_replaces_by_call_id() -> None:
    conn = sqlite3.connect(":memory:")
    for sql in SCHEMA_V6_REPORTS + SCHEMA_V8_CALLER:
        conn.execute(sql)
    c = Calls()
    answered_call(c, "u", T0, topic="complaint")
    upsert(conn, fold(c, "u"))
    c.add(T0 + 900, ComplaintConfirmed(call_id="u", confirmed=True, user="sup"))
    c.add(T0 + 901, CallRegion(call_id="u", region="astana", source="flow"))
    upsert(conn, fold(c, "u"))
    rows = conn.execute("SELECT call_id, day, channel, region, region_source, answered, "
                        "complaint, complaint_confirmed, handle_s, topic_source "
                        "FROM contacts").fetchall()
    assert rows == [("u", "2026-07-01", "operator", "astana", "flow", 1, 1, 1, 120.0,
                     "disposition")]
    with pytest.raises(ValueError):
        upsert(conn, Contact(started=T0, day="2026-07-01", channel=ContactChannel.CHAT))


def test_contacts_agree_with_the_metrics_core_over_a_day() -> None:
    """Answered, lost, mean wait of the answered and AHT from the contacts
    equal the KPI fold's over the same events (one definition)."""
    c = Calls()
    for i in range(30):
        ts = T0 + 60.0 * i
        if i % 3 == 0:
            lost_call(c, f"c{i}", ts, wait=5.0 + i, short=i % 9 == 0)
        elif i % 5 == 0:
            lost_call(c, f"c{i}", ts, wait=3.0, cause="rtp_timeout")
        else:
            answered_call(c, f"c{i}", ts, wait=2.0 + i, talk=30.0 + 7 * i, wrap=5.0 + i,
                          agent=f"a{i}")
    c.events.sort(key=lambda e: (e.ts, e.id or 0))
    contacts = [fold(c, f"c{i}") for i in range(30)]
    kpis = recompute(c.events, T0, T0 + 86_400)
    counts = kpis.total.counts
    value = {k.name: k.value for k in kpis.total.kpis}
    answered = [k for k in contacts if k.answered]
    assert len(answered) == counts.answered == 16
    assert sum(k.abandoned for k in contacts) == counts.abandoned - counts.abandoned_short == 6
    assert sum(k.answer_s or 0 for k in answered) / len(answered) == pytest.approx(
        value["wait_s"])
    handled = [k.handle_s for k in contacts if k.handle_s is not None]
    assert sum(handled) / len(handled) == pytest.approx(value["aht_s"])
