"""The screen pop's journal and JSON (issue 19): a call's events as the engine writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bailanys.desk.history import CallerHistory, OpenCase, PastContact
from bailanys.desk.pop import IVR_HEAD, MAX_IVR, MAX_ROBOT, CallJournal, caller_key, screen_pop
from bailanys.events import (
    CallLanguage,
    CallTopic,
    IvrInput,
    IvrNode,
    IvrNoInput,
    IvrNoMatch,
    IvrQueue,
    RobotFaq,
    RobotHandover,
    RobotService,
)
from bailanys.reports.projector import call_events, connect
from bailanys.store import Store
from tests.reports.contacthelpers import T0, Calls, joined, offered

POP_KEYS = {"call_id", "queue", "agent", "at", "caller", "language", "waited_s", "ivr", "robot",
            "topic_guess", "history", "open_cases"}
ROBOT_KEYS = {"at", "kind", "faq", "topic", "service", "outcome", "reason"}


def menu_then_queue(c: Calls, call: str = "c1") -> None:
    """Language by key, a menu choice by key, then a speech no-match and a
    choice by speech, then the queue: what ivr/runner.py emits."""
    offered(c, call, T0)
    c.add(T0 + 1, IvrNode(call_id=call, node="lang", kind="menu"))
    c.add(T0 + 3, IvrInput(call_id=call, node="lang", source="dtmf", value="1",
                           confidence=1.0, next="main"))
    c.add(T0 + 3, CallLanguage(call_id=call, language="kk"))
    c.add(T0 + 3, IvrNode(call_id=call, node="main", kind="menu"))
    c.add(T0 + 6, IvrNoMatch(call_id=call, node="main", source="speech",
                             value="менің ЖСН 900101300123", attempt=1, confidence=0.41))
    c.add(T0 + 9, IvrNoInput(call_id=call, node="main", attempt=2))
    c.add(T0 + 12, IvrInput(call_id=call, node="main", source="speech", value="төлқұжат",
                            confidence=0.9, next="passport"))
    c.add(T0 + 12, CallTopic(call_id=call, topic="passport", source="ivr"))
    c.add(T0 + 12, IvrNode(call_id=call, node="passport", kind="queue"))
    c.add(T0 + 12, IvrQueue(call_id=call, node="passport", queue="egov", skills=("kk",)))
    joined(c, call, T0 + 13, queue="egov", language="kk")


def fold(c: Calls, call: str = "c1") -> CallJournal:
    journal = CallJournal(call)
    for e in c.events:
        journal.apply(e)
    return journal


async def test_menu_path_from_the_store_as_the_engine_wrote_it(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    async with await Store.open(path) as store:
        menu_then_queue(Calls(store.events))
        menu_then_queue(Calls(store.events), "other")  # another call: not in this pop
    conn = connect(path)
    try:
        events = call_events(conn, "c1")
    finally:
        conn.close()
    journal = CallJournal("c1")
    for e in events:
        journal.apply(e)
    pop = screen_pop(journal, None, agent="aigul", now=T0 + 43, show_number=True)
    assert set(pop) == POP_KEYS
    assert pop["caller"] == {"number": "77011234567", "masked": False, "anonymous": False}
    assert (pop["queue"], pop["language"], pop["waited_s"], pop["topic_guess"]) == (
        "egov", "kk", 30.0, "passport")
    assert [(s["at"] - T0, s["node"], s["kind"], s["input"]) for s in pop["ivr"]] == [
        (1, "lang", "node", None), (3, "lang", "input", "1"), (3, "main", "node", None),
        (6, "main", "no_match", pop["ivr"][3]["input"]), (9, "main", "no_input", None),
        (12, "main", "input", "төлқұжат"), (12, "passport", "node", None)]
    said = pop["ivr"][3]["input"]
    assert said.startswith("менің ЖСН") and "900101300123" not in said  # masked again
    assert pop["robot"] == [] and pop["history"] == [] and pop["open_cases"] == []
    json.dumps(pop)  # what the websocket sends


def robot_then_handover(c: Calls, call: str = "r1") -> None:
    """The FAQ assistant answers one question, fails the next, hands over
    (robot/assistant.py's robot.faq, engine/robot.py's robot.handover)."""
    offered(c, call, T0)
    c.add(T0 + 2, CallTopic(call_id=call, topic="egov_other", source="ivr"))
    c.add(T0 + 3, RobotFaq(call_id=call, step="start", outcome="started"))
    c.add(T0 + 8, RobotFaq(call_id=call, step="question", outcome="answered",
                           entry="faq_passport_fee", confidence=0.82, attempt=1))
    c.add(T0 + 9, CallTopic(call_id=call, topic="passport", source="robot"))
    c.add(T0 + 20, RobotFaq(call_id=call, step="question", outcome="operator",
                            entry="faq_pension", confidence=0.3, attempt=1))
    c.add(T0 + 21, RobotFaq(call_id=call, step="handover", outcome="operator",
                            topic="pension"))
    c.add(T0 + 21, RobotHandover(call_id=call, reason="operator", topic="pension"))
    joined(c, call, T0 + 22, language="ru")


def test_robot_answer_then_handover_with_reason_and_topic() -> None:
    c = Calls()
    robot_then_handover(c)
    pop = screen_pop(fold(c, "r1"), None, agent="a", now=T0 + 30, show_number=False)
    assert all(set(t) == ROBOT_KEYS for t in pop["robot"])
    assert [(t["kind"], t["faq"], t["outcome"], t["reason"], t["topic"])
            for t in pop["robot"]] == [
        ("faq", "faq_passport_fee", "question:answered", None, None),
        ("faq", "faq_pension", "question:operator", None, None),
        ("handover", None, None, "operator", "pension")]
    # the robot's guess (the latest) wins over the menu's
    assert pop["topic_guess"] == "pension" and pop["language"] == "ru"
    assert pop["waited_s"] == 8.0


def test_self_service_handover_names_the_service() -> None:
    c = Calls()
    offered(c, "s1", T0)
    c.add(T0 + 5, RobotService(call_id="s1", service="cert", step="iin", outcome="valid"))
    c.add(T0 + 9, RobotService(call_id="s1", service="cert", step="code",
                               outcome="invalid:expired"))
    c.add(T0 + 9, RobotHandover(call_id="s1", reason="code_failed", service="cert"))
    robot = screen_pop(fold(c, "s1"), None, agent="a", now=T0 + 10, show_number=True)["robot"]
    assert [(t["kind"], t["service"], t["outcome"], t["reason"]) for t in robot] == [
        ("service", "cert", "iin:valid", None), ("service", "cert", "code:invalid:expired", None),
        ("handover", "cert", None, "code_failed")]


def test_number_masked_unless_the_role_may_see_it() -> None:
    c = Calls()
    menu_then_queue(c)
    journal = fold(c)
    masked = screen_pop(journal, None, agent="a", now=T0 + 20, show_number=False)
    assert masked["caller"] == {"number": "*******4567", "masked": True, "anonymous": False}
    assert "7011234567" not in json.dumps(masked)
    shown = screen_pop(journal, None, agent="a", now=T0 + 20, show_number=True)
    assert shown["caller"]["number"] == "77011234567"


def test_anonymous_caller_and_a_call_not_yet_offered() -> None:
    c = Calls()
    offered(c, "x", T0, caller="anonymous")
    journal = fold(c, "x")
    assert journal.caller is None and journal.anonymous
    pop = screen_pop(journal, CallerHistory((), ()), agent="a", now=T0, show_number=True)
    assert pop["caller"] == {"number": None, "masked": False, "anonymous": True}
    assert pop["waited_s"] is None and pop["queue"] is None and pop["topic_guess"] is None
    fresh = screen_pop(CallJournal("y"), None, agent="a", now=T0, show_number=False)
    assert fresh["caller"] == {"number": None, "masked": False, "anonymous": False}
    with pytest.raises(ValueError, match="anonymous"):
        caller_key("anonymous", b"k" * 32)


def test_a_loop_in_a_menu_keeps_the_journal_bounded() -> None:
    journal = CallJournal("loop")
    for i in range(5000):
        journal.apply(IvrNoInput(call_id="loop", node=f"n{i}", attempt=i), ts=T0 + i)
        journal.apply(RobotFaq(call_id="loop", step="question", outcome="no_match",
                               attempt=i), ts=T0 + i)
    ivr, robot = journal.ivr, journal.robot
    assert len(ivr) == MAX_IVR and len(robot) == MAX_ROBOT
    assert [s["node"] for s in ivr[:IVR_HEAD]] == [f"n{i}" for i in range(IVR_HEAD)]
    assert ivr[-1]["node"] == "n4999" and ivr[IVR_HEAD]["node"] == f"n{5000 - MAX_IVR + IVR_HEAD}"
    assert journal.ivr_dropped == 5000 - MAX_IVR and journal.robot_dropped == 5000 - MAX_ROBOT


def test_typed_events_with_a_time_and_malformed_rows() -> None:
    journal = CallJournal("t")
    journal.apply(IvrNode(call_id="t", node="main", kind="menu"), ts=5.0)
    journal.apply(IvrNode(call_id="other", node="x", kind="menu"), ts=6.0)
    c = Calls()
    c.add(7.0, IvrInput(call_id="t", node="main", source="dtmf", value="2", confidence=1.0,
                        next="b"))
    bad = c.events[0]
    journal.apply(type(bad)(None, 8.0, "ivr.input", "t", {"node": 3, "value": ["x"]}))
    journal.apply(type(bad)(None, 9.0, "queue.joined", "t", {"queue": None, "language": 1}))
    journal.apply(type(bad)(None, 9.5, "no.such", "t", {}))
    assert [(s["at"], s["node"], s["input"]) for s in journal.ivr] == [
        (5.0, "main", None), (8.0, None, None)]
    assert (journal.queue, journal.language, journal.joined_at) == (None, None, 9.0)


def test_history_and_open_requests_in_the_pop() -> None:
    history = CallerHistory(
        (PastContact(T0 - 86_400, "operator", "passport", "request_created", "egov", "aigul"),
         PastContact(T0 - 2 * 86_400, "robot", None, None, None, None)),
        (OpenCase("2026-000007", "in_progress", "passport", "request", "2026-07-03", False),))
    pop = screen_pop(CallJournal("h"), history, agent="a", now=T0, show_number=False)
    assert pop["history"] == [
        {"at": T0 - 86_400, "channel": "operator", "topic": "passport",
         "outcome": "request_created", "queue": "egov", "agent": "aigul"},
        {"at": T0 - 2 * 86_400, "channel": "robot", "topic": None, "outcome": None,
         "queue": None, "agent": None}]
    assert pop["open_cases"] == [{"number": "2026-000007", "status": "in_progress",
                                  "topic": "passport", "kind": "request",
                                  "deadline": "2026-07-03", "overdue": False}]


def test_caller_key_is_of_the_normalised_number_and_the_salt() -> None:
    salt = b"k" * 32
    key = caller_key("77011234567", salt)
    assert len(key) == 64 and int(key, 16) >= 0
    assert caller_key("+77011234567", salt) == caller_key("87011234567", salt) == key
    assert caller_key("77011234567", b"j" * 32) != key
    assert caller_key("77011234568", salt) != key
    with pytest.raises(ValueError, match="salt"):
        caller_key("77011234567", b"")
