"""A call's facts from its events (issue 15 filters and the call page's metadata)."""

from __future__ import annotations

import sqlite3
from typing import Any

from bailanys.analytics.facts import (
    ANSWERED,
    IVR,
    LOST,
    ROBOT,
    CallFacts,
    call_facts,
    local_day,
    upsert_call,
    with_language,
)
from bailanys.analytics.transcripts import read_facts
from bailanys.store.events import Event
from bailanys.store.migrations import SCHEMA_V3_ANALYTICS
from bailanys.timezone import ALMATY

T0 = 1_717_200_000.0  # 2024-06-01 00:00:00 UTC = 05:00 in Almaty (UTC+5)


def ev(dt: float, type_: str, call: str = "k1", **data: Any) -> Event:
    return Event(id=None, ts=T0 + dt, type=type_, call_id=call, data=data)


OFFERED = ev(0, "call.offered", **{"from": "sip:777@x", "to": "sip:1414@x", "codec": "PCMU",
                                    "transport": "udp"})


def test_answered_call_with_disposition_survey_and_recording() -> None:
    events = [
        OFFERED,
        ev(1, "call.answered"),
        ev(2, "call.language", language="kk"),
        ev(3, "queue.joined", queue="docs", position=1, skills=[], language="kk", priority=0),
        ev(33, "call.connected", queue="docs", agent="aigerim", waited=30.0, orig_position=1),
        ev(33, "call.recording", path="/rec/k1.wav", agent="aigerim", channels="caller,agent"),
        ev(200, "call.completed", queue="docs", agent="aigerim", waited=30.0, talk=167.0,
           by="caller", orig_position=1),
        ev(201, "survey.answered", node="q1", question="q1", score=5),
        ev(202, "call.ended", cause="caller", reason="bye", duration=201.0),
        ev(230, "call.disposition", queue="docs", agent="aigerim", resolved=True,
           topic="id_card"),
    ]
    facts = call_facts(list(reversed(events)), ALMATY)  # any order
    assert facts == CallFacts(
        call_id="k1", started=T0, day="2024-06-01", outcome=ANSWERED, ended=T0 + 202,
        queue="docs", agent="aigerim", language="kk", topic="id_card",
        disposition="resolved", duration=202.0, wait=30.0, survey_score=5,
        recording="/rec/k1.wav",
    )


def test_lost_call_queued_never_answered() -> None:
    facts = call_facts([
        OFFERED,
        ev(3, "queue.joined", queue="pension", position=4, skills=[], language=None, priority=0),
        ev(90, "queue.abandoned", queue="pension", position=2, orig_position=4, waited=87.0,
           short=False, cause="caller"),
        ev(90, "call.ended", cause="caller", reason="bye", duration=0.0),
    ], ALMATY)
    assert facts is not None
    assert (facts.outcome, facts.queue, facts.agent, facts.wait) == (LOST, "pension", None, None)
    assert facts.duration == 90.0


def test_robot_call_topic_is_the_answered_faq_entry() -> None:
    facts = call_facts([
        OFFERED,
        ev(1, "ivr.robot", node="r", service=None),
        ev(5, "robot.faq", step="question", outcome="no_match", attempt=1),
        ev(9, "robot.faq", step="question", outcome="answered", entry="pension_age",
           confidence=0.9, attempt=2),
        ev(30, "call.ended", cause="caller", reason="bye", duration=30.0),
    ], ALMATY)
    assert facts is not None and (facts.outcome, facts.topic) == (ROBOT, "pension_age")


def test_robot_handover_then_agent_is_answered_and_disposition_topic_wins() -> None:
    facts = call_facts([
        OFFERED,
        ev(5, "robot.handover", reason="asked", topic="pension"),
        ev(6, "queue.joined", queue="pension", position=1, skills=[], language="ru", priority=0),
        ev(20, "call.connected", queue="pension", agent="bolat", waited=14.0, orig_position=1),
        ev(80, "call.ended", cause="agent", reason="bye", duration=60.0),
        ev(90, "call.disposition", queue="pension", agent="bolat", resolved=False, topic=None),
    ], ALMATY)
    assert facts is not None
    assert (facts.outcome, facts.topic, facts.disposition, facts.language) == (
        ANSWERED, "pension", "unresolved", "ru")


def test_ivr_only_call() -> None:
    facts = call_facts([OFFERED, ev(1, "ivr.started", flow="main", version="1"),
                        ev(12, "ivr.hangup", node="menu", phase="menu"),
                        ev(12, "call.ended", cause="caller", reason="bye", duration=11.0)],
                       ALMATY)
    assert facts is not None and facts.outcome == IVR and facts.queue is None


def test_day_is_local_to_the_engine_zone() -> None:
    late = 1_717_183_800.0  # 2024-05-31 19:30 UTC = 2024-06-01 00:30 in Almaty
    assert local_day(late, ALMATY) == "2024-06-01"
    facts = call_facts([Event(None, late, "call.offered", "z", {})], ALMATY)
    assert facts is not None and facts.day == "2024-06-01" and facts.duration is None


def test_no_events_no_facts() -> None:
    assert call_facts([], ALMATY) is None
    assert call_facts([Event(None, T0, "agent.state", None, {})], ALMATY) is None


def test_upsert_inserts_then_replaces() -> None:
    conn = sqlite3.connect(":memory:")
    for sql in SCHEMA_V3_ANALYTICS:
        conn.execute(sql)
    first = CallFacts("k1", T0, "2024-06-01", LOST, queue="docs")
    upsert_call(conn, first, 10)
    assert read_facts(conn, "k1") == first
    second = with_language(CallFacts("k1", T0, "2024-06-01", ANSWERED, agent="a"), "kk")
    upsert_call(conn, second, 250)
    assert read_facts(conn, "k1") == second and second.language == "kk"
    assert conn.execute("SELECT count(*), max(words) FROM analytics_calls").fetchone() == (1, 250)
