"""The flow runner (bailanys.ivr.runner) driven through FlowHarness, time as an input.

First the real flow, ``ivr_flows/1414.yaml``, walked the way callers walk it;
then small flows written here for the node kinds 1414 does not use.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bailanys.ivr.loader import load_flow, load_flow_text
from bailanys.ivr.model import Flow, Goto, Menu, QueueNode
from bailanys.ivr.runner import (
    MAX_SILENT_STEPS,
    CancelTimer,
    Emit,
    EnterQueue,
    HangUpCall,
    Listen,
    Phase,
    Play,
    PlayDone,
    SetCallLanguage,
    StartRobot,
    StartTimer,
    StopListening,
    StopPlayback,
    TransferCall,
)
from bailanys.ivr.testing import FlowHarness
from bailanys.queuestate import QueueState

ROOT = Path(__file__).resolve().parents[2]
ALMATY = ZoneInfo("Asia/Almaty")
DAY = datetime(2026, 3, 4, 10, 0, tzinfo=ALMATY)  # a Wednesday morning


def _load_1414() -> Flow:
    flow, problems = load_flow(ROOT / "ivr_flows" / "1414.yaml")
    assert flow is not None, [str(p) for p in problems]
    return flow


FLOW = _load_1414()


def text(node: str, lang: str, field: str = "prompt") -> str:
    """The text of a prompt of 1414 as the runner plays it."""
    prompt = getattr(FLOW.node(node), field)
    return str(prompt.texts[lang])


def shared(name: str, lang: str) -> str:
    """The text of the defaults' no_input / no_match prompt ("@no_input" in 1414)."""
    menu = FLOW.node("main_menu")
    assert isinstance(menu, Menu)
    return str(getattr(menu.retry, name).texts[lang])


def menu_words(lang: str) -> tuple[str, ...]:
    menu = FLOW.node("main_menu")
    assert isinstance(menu, Menu)
    return menu.words(lang)


def call(at: datetime = DAY) -> FlowHarness:
    h = FlowHarness(FLOW, now=at)
    h.start()
    return h


def at_main_menu(lang: str = "ru", at: datetime = DAY) -> FlowHarness:
    """A call that chose ``lang`` by key and heard the main menu to its end."""
    h = call(at)
    h.finish_prompts()
    h.press({"kk": "1", "ru": "2"}[lang])
    h.finish_prompts()
    assert (h.node, h.phase) == ("main_menu", Phase.WAIT)
    return h


# ------------------------------------------------------------------ 1414: the start


def test_start_greets_in_both_languages_then_asks_the_language() -> None:
    h = FlowHarness(FLOW, now=DAY)
    actions = h.start()
    assert actions[0] == Emit.of("ivr.started", None,
                                 {"flow": "hotline-1414", "version": FLOW.version})
    assert h.played() == [("kk", text("greeting", "kk", "prompt")),
                          ("ru", text("greeting", "ru", "prompt"))]
    assert (h.node, h.phase) == ("greeting", Phase.SAY)
    h.finish_prompts()
    assert (h.node, h.phase) == ("language", Phase.WAIT)
    assert h.played()[2:] == [("kk", text("language", "kk")), ("ru", text("language", "ru"))]
    assert h.timer_running


def test_only_the_last_prompt_of_a_pair_moves_on() -> None:
    h = FlowHarness(FLOW, now=DAY)
    kk, ru = [a for a in h.start() if isinstance(a, Play)]
    assert h.feed(PlayDone(kk.token)) == []
    assert h.node == "greeting"
    h.feed(PlayDone(ru.token))
    assert h.node == "language"
    assert h.feed(PlayDone(ru.token)) == []  # a late duplicate is ignored


# ------------------------------------------------------------------ 1414: the main menu by keypad


def test_option_1_consultation_queue_with_the_callers_language() -> None:
    h = at_main_menu("ru")
    played = len(h.played())
    h.press("1")
    assert h.node == "queue_consultation"
    # handed over at once: the queue says "connecting" once the caller has
    # joined, so the wait after the menu (and a hang-up during it) is counted
    final = h.final()
    assert final == EnterQueue("consultation", ("public_services", "ru"), "ru", {})
    assert isinstance(final, EnterQueue) and final.prompt == FLOW.nodes["queue_consultation"].prompt
    assert final.prompt is not None and final.prompt.texts["ru"] == text("queue_consultation", "ru")
    assert len(h.played()) == played  # the runner plays nothing itself
    assert h.phase is Phase.HANDOFF
    assert h.events("ivr.queue")[-1].fields == {
        "node": "queue_consultation", "queue": "consultation",
        "skills": ["public_services", "ru"],
    }


def test_option_1_in_kazakh() -> None:
    h = at_main_menu("kk")
    h.press("1")
    h.finish_prompts()
    assert h.final() == EnterQueue("consultation", ("public_services", "kk"), "kk", {})


def test_option_2_egov_queue() -> None:
    h = at_main_menu("ru")
    h.press("2")
    h.finish_prompts()
    assert h.final() == EnterQueue("egov", ("egov_portal", "ru"), "ru", {})


def test_option_3_service_centres_back_to_main_menu_then_operator() -> None:
    h = at_main_menu("kk")
    h.press("3")
    assert h.node == "service_centres"
    h.finish_prompts()
    assert h.played()[-1] == ("kk", text("service_centres", "kk"))
    h.press("9")
    assert h.node == "main_menu"
    assert h.played()[-1] == ("kk", text("main_menu", "kk"))
    h.finish_prompts()
    h.press("3")
    h.finish_prompts()
    h.press("0")
    h.finish_prompts()
    assert h.final() == EnterQueue("general", ("kk",), "kk", {})
    assert h.nodes_entered()[-5:] == [
        "main_menu", "service_centres", "main_menu", "service_centres", "queue_general",
    ]


def test_option_4_robot_then_consultation_queue_when_the_robot_fails() -> None:
    h = at_main_menu("ru")
    h.press("4")
    assert h.final() == StartRobot("document_readiness", "ru", {})
    assert h.events("ivr.robot")[-1].fields == {"node": "readiness_robot",
                                                "service": "document_readiness"}
    assert h.phase is Phase.HANDOFF
    h.handoff_failed("no_robot")
    assert h.events("ivr.fallback")[-1].fields == {
        "node": "readiness_robot", "reason": "no_robot", "to": "queue_consultation",
    }
    h.finish_prompts()
    assert h.final() == EnterQueue("consultation", ("public_services", "ru"), "ru", {})


@pytest.mark.parametrize(("topic", "queue", "skill"), [
    ("egov", "egov", "egov_portal"), ("eds", "egov", "egov_portal"),
    ("pension", "consultation", "public_services"), (None, "consultation", "public_services"),
])
def test_option_6_assistant_hands_back_the_topic_and_the_flow_picks_the_queue(
    topic: str | None, queue: str, skill: str
) -> None:
    h = at_main_menu("kk")
    h.press("6")
    assert h.final() == StartRobot(None, "kk", {})
    h.handoff_failed("robot_not_understood", {"topic": topic} if topic else {})
    assert h.events("ivr.fallback")[-1].fields["to"] == "robot_route"
    h.finish_prompts()
    variables = {"topic": topic} if topic else {}
    assert h.final() == EnterQueue(queue, (skill, "kk"), "kk", variables)


def test_option_5_complaint_then_busy_hangs_up_no_agents() -> None:
    h = at_main_menu("ru")
    h.press("5")
    assert (h.node, h.phase) == ("complaint", Phase.SAY)
    assert h.played()[-1] == ("ru", text("complaint", "ru", "prompt"))
    h.finish_prompts()
    assert h.node == "queue_complaints"
    h.finish_prompts()
    assert h.final() == EnterQueue("complaints", ("complaints", "ru"), "ru", {})
    h.handoff_failed("no_agents_logged_in")
    assert h.node == "busy"
    assert h.played()[-1] == ("ru", text("busy", "ru"))
    h.finish_prompts()
    assert h.final() == HangUpCall("no_agents")
    assert h.events("ivr.hangup_node")[-1].fields == {"node": "busy", "cause": "no_agents"}
    assert h.phase is Phase.DONE and h.runner.done


@pytest.mark.parametrize(("key", "node"), [
    ("1", "queue_consultation"), ("2", "queue_egov"), ("3", "service_centres"),
    ("4", "readiness_robot"), ("5", "complaint"), ("6", "assistant"), ("0", "queue_general"),
])
def test_each_main_menu_key(key: str, node: str) -> None:
    h = at_main_menu("kk")
    h.press(key)
    assert h.node == node
    assert h.events("ivr.input")[-1].fields == {
        "node": "main_menu", "source": "dtmf", "value": key, "confidence": 1.0, "next": node,
    }


# ------------------------------------------------------------------ 1414: speech


def test_language_by_speech() -> None:
    h = call()
    h.finish_prompts()
    assert h.listening is not None
    assert set(h.listening) == {"kk", "ru"}
    assert "қазақша" in h.listening["kk"] and "русский" in h.listening["ru"]
    actions = h.say("kk", "қазақша", 0.93)
    assert SetCallLanguage("kk") in actions
    assert h.events("ivr.input")[-1].fields == {
        "node": "language", "source": "speech", "value": "қазақша", "confidence": 0.93,
        "next": "set_kk",
    }
    assert h.runner.language == "kk"
    assert h.nodes_entered()[-3:] == ["set_kk", "hours", "main_menu"]
    # Now only Kazakh: the main menu's keywords in the chosen language.
    listens = [a for a in h.actions if isinstance(a, Listen)]
    assert set(listens[-1].words) == {"kk"}
    assert h.listening == {"kk": menu_words("kk")}
    assert h.played()[-1] == ("kk", text("main_menu", "kk"))
    h.finish_prompts()
    h.say("kk", "шағым")
    assert h.node == "complaint"
    assert h.listening is None


def test_listening_stops_when_a_key_chooses() -> None:
    h = call()
    h.finish_prompts()
    actions = h.press("2")
    assert actions.index(StopListening()) < actions.index(SetCallLanguage("ru"))
    assert h.listening == {"ru": menu_words("ru")}


def test_speech_is_matched_case_insensitively() -> None:
    h = call()
    h.finish_prompts()
    h.say("ru", "Русский")
    assert h.runner.language == "ru"


@pytest.mark.parametrize(("phrase", "confidence", "accepted", "value"), [
    ("қазақша", 0.31, False, "қазақша"),  # under the recogniser's threshold
    (None, 0.0, True, "[unk]"),  # noise
    ("қызанақ", 0.9, True, "қызанақ"),  # not a keyword of this menu
])
def test_unusable_speech_is_no_match(phrase: str | None, confidence: float, accepted: bool,
                                     value: str) -> None:
    h = call()
    h.finish_prompts()  # the language menu waits
    h.say("kk", phrase, confidence, accepted)
    assert h.events("ivr.no_match")[-1].fields == {
        "node": "language", "source": "speech", "value": value, "attempt": 1,
        "confidence": confidence,
    }
    assert h.node == "language"
    assert h.runner.language is None
    # before a language is chosen: "wrong choice" in both, then the menu in both
    assert h.played()[-4:] == [
        ("kk", shared("no_match", "kk")), ("ru", shared("no_match", "ru")),
        ("kk", text("language", "kk")), ("ru", text("language", "ru")),
    ]
    assert not any(isinstance(a, SetCallLanguage) for a in h.actions)


def test_speech_elsewhere_than_a_menu_is_ignored() -> None:
    h = call()  # the greeting plays
    assert h.say("kk", "қазақша") == []
    assert h.node == "greeting"


# ------------------------------------------------------------------ 1414: retries


def test_no_input_retries_then_fallback() -> None:
    h = at_main_menu("ru")
    timer = h.actions[-1]
    assert isinstance(timer, StartTimer) and timer.seconds == 8.0  # main_menu's timeout_s
    for attempt in (1, 2):
        h.timeout()
        assert h.events("ivr.no_input")[-1].fields == {"node": "main_menu", "attempt": attempt}
        assert h.node == "main_menu"
        assert h.played()[-2:] == [("ru", shared("no_input", "ru")),
                                   ("ru", text("main_menu", "ru"))]
        assert not h.timer_running  # it starts again when the prompts end
        h.finish_prompts()
        assert h.timer_running
    h.timeout()
    assert h.events("ivr.no_input")[-1].fields == {"node": "main_menu", "attempt": 3}
    assert h.events("ivr.fallback")[-1].fields == {
        "node": "main_menu", "reason": "retries", "to": "queue_general",
    }
    h.finish_prompts()
    assert h.final() == EnterQueue("general", ("ru",), "ru", {})


def test_silent_caller_at_the_language_menu_gets_a_bilingual_operator() -> None:
    h = call()
    h.silent(4)
    final = h.final()
    assert final == EnterQueue("general", ("bilingual",), None, {})
    # the queue says the prompt (in both languages, since none was chosen)
    assert isinstance(final, EnterQueue) and final.prompt is not None
    assert final.prompt.texts == {"kk": text("queue_any_language", "kk"),
                                  "ru": text("queue_any_language", "ru")}
    assert not h.events("ivr.error")


def test_wrong_key_plays_no_match_then_the_menu_again() -> None:
    h = at_main_menu("kk")
    h.press("8")
    assert h.events("ivr.no_match")[-1].fields == {
        "node": "main_menu", "source": "dtmf", "value": "8", "attempt": 1,
    }
    assert h.played()[-2:] == [("kk", shared("no_match", "kk")), ("kk", text("main_menu", "kk"))]
    assert h.node == "main_menu"
    h.finish_prompts()
    h.press("1")
    assert h.node == "queue_consultation"


def test_wrong_keys_and_silence_share_the_retries() -> None:
    h = at_main_menu("ru")
    h.press("8")
    h.finish_prompts()
    h.timeout()
    h.finish_prompts()
    h.press("#")
    assert h.events("ivr.fallback")[-1].fields["reason"] == "retries"
    assert h.node == "queue_general"


# ------------------------------------------------------------------ 1414: type-ahead, barge-in


def test_key_during_the_greeting_is_used_by_the_language_menu() -> None:
    h = FlowHarness(FLOW, now=DAY)
    h.start()
    actions = h.press("2")
    assert StopPlayback() in actions
    assert SetCallLanguage("ru") in actions
    assert h.node == "main_menu"
    texts = [t for _, t in h.played()]
    assert text("language", "kk") not in texts and text("language", "ru") not in texts
    assert h.played()[-1] == ("ru", text("main_menu", "ru"))
    assert h.events("ivr.input")[0].fields["node"] == "language"


def test_two_keys_typed_ahead_land_in_the_complaint() -> None:
    h = FlowHarness(FLOW, now=DAY)
    h.start()
    h.press("25")
    assert h.node == "complaint"
    assert [e.fields["value"] for e in h.events("ivr.input")] == ["2", "5"]
    assert h.played()[-1] == ("ru", text("complaint", "ru", "prompt"))


def test_key_during_a_menu_prompt_stops_it() -> None:
    h = call()
    h.finish_prompts()
    h.press("1")
    assert (h.node, h.phase) == ("main_menu", Phase.PROMPT)
    actions = h.press("2")
    stop = actions.index(StopPlayback())
    entered = actions.index(Emit.of("ivr.node", None, {"node": "queue_egov", "kind": "queue"}))
    assert stop < entered
    assert CancelTimer() not in actions  # no timer while the prompt played
    assert h.node == "queue_egov"


def test_keys_during_a_hand_over_prompt_do_nothing() -> None:
    h = at_main_menu("ru")
    h.press("1")  # handed over at once ("connecting" is the queue's to say)
    assert h.press("5") == []
    h.finish_prompts()
    assert h.final() == EnterQueue("consultation", ("public_services", "ru"), "ru", {})
    assert h.press("0") == []


# ------------------------------------------------------------------ 1414: office hours


@pytest.mark.parametrize(("hour", "minute", "node"), [
    (22, 30, "night_robot"), (3, 0, "night_robot"), (21, 0, "night_robot"),
    (8, 59, "night_robot"), (9, 0, "main_menu"), (20, 59, "main_menu"), (13, 0, "main_menu"),
])
def test_office_hours(hour: int, minute: int, node: str) -> None:
    h = call(DAY.replace(hour=hour, minute=minute))
    h.finish_prompts()
    h.press("2")
    assert h.node == node


def test_night_robot_then_closed() -> None:
    h = call(DAY.replace(hour=22, minute=30))
    h.finish_prompts()
    h.press("1")
    assert h.played()[-1] == ("kk", text("night_robot", "kk"))
    h.finish_prompts()
    assert h.final() == StartRobot(None, "kk", {})
    h.handoff_failed()
    h.finish_prompts()
    assert h.final() == HangUpCall("closed")


@pytest.mark.parametrize(("local", "node"), [
    (DAY.replace(hour=22, minute=30), "night_robot"),
    (DAY.replace(hour=10), "main_menu"),
])
def test_utc_time_is_converted_to_the_flows_zone(local: datetime, node: str) -> None:
    now = local.astimezone(UTC)
    assert now.tzinfo is UTC
    h = call(now)
    h.finish_prompts()
    h.press("1")
    assert h.node == node


# ------------------------------------------------------------------ 1414: the end


def test_hang_up_mid_menu() -> None:
    h = at_main_menu("ru")
    actions = h.hangup()
    assert actions[0] == Emit.of("ivr.hangup", None, {"node": "main_menu", "phase": "wait"})
    assert CancelTimer() in actions and StopListening() in actions
    assert h.phase is Phase.DONE
    assert h.press("1") == [] and h.say("ru", "портал") == [] and h.hangup() == []


def test_hang_up_during_a_prompt_stops_it() -> None:
    h = call()
    actions = h.hangup()
    assert actions == [Emit.of("ivr.hangup", None, {"node": "greeting", "phase": "say"}),
                       StopPlayback()]


def test_after_hang_up_call_input_is_ignored() -> None:
    h = at_main_menu("kk")
    h.press("5")
    h.finish_prompts()
    h.finish_prompts()
    h.handoff_failed()
    h.finish_prompts()
    assert h.final() == HangUpCall("no_agents")
    count = len(h.actions)
    assert h.press("1") == []
    assert h.say("kk", "шағым") == []
    assert h.handoff_failed() == []
    assert h.hangup() == []
    assert len(h.actions) == count


def test_every_queue_prompt_says_the_call_is_free() -> None:
    queues = [n for n in FLOW.nodes.values() if isinstance(n, QueueNode)]
    assert len(queues) == 5
    for node in queues:
        assert node.prompt is not None, node.id
        assert "бесплатн" in node.prompt.texts["ru"].lower(), node.id
        assert "тегін" in node.prompt.texts["kk"].lower(), node.id


def test_silent_caller_never_hits_the_loop_guard() -> None:
    for at in (DAY, DAY.replace(hour=23)):
        h = call(at)
        h.silent(10)
        h.press("1")
        h.silent(10)
        while h.phase is Phase.HANDOFF:
            h.handoff_failed()
            h.silent(10)
        assert isinstance(h.final(), HangUpCall)
        assert not h.events("ivr.error")


# ------------------------------------------------------------------ small flows

HEAD = """\
flow: t
languages: [kk, ru]
start: a
nodes:
"""


def load(body: str) -> Flow:
    flow, problems = load_flow_text(HEAD + body, "t.yaml")
    assert flow is not None, [str(p) for p in problems]
    return flow


def run(body: str, *, lang: str = "ru", **kw: object) -> FlowHarness:
    h = FlowHarness(load(body), now=DAY, language=lang, **kw)  # type: ignore[arg-type]
    h.start()
    return h


COLLECT_IIN = """\
  a:
    type: collect
    prompt: {kk: ЖСН енгізіңіз, ru: Введите ИИН}
    invalid: {kk: ЖСН қате, ru: ИИН неверный}
    into: iin
    min_length: 12
    validator: iin
    retries: 1
    next: ok
    fallback: agent
  ok:
    type: hangup
    cause: done
  agent:
    type: hangup
    cause: fallback
"""
VALID_IIN = "000101300009"
BAD_CHECKSUM = "000101300008"


def test_collect_a_valid_iin() -> None:
    h = run(COLLECT_IIN)
    h.finish_prompts()
    h.press(VALID_IIN)
    assert h.node == "a"
    assert h.phase is Phase.DIGITS
    h.press("#")
    assert h.events("ivr.input")[-1].fields == {
        "node": "a", "source": "dtmf", "var": "iin", "value": "********0009",
        "confidence": 1.0, "next": "ok",
    }
    assert h.runner.variables == {"iin": VALID_IIN}
    assert h.final() == HangUpCall("done")
    assert all(VALID_IIN not in str(e.fields) for e in h.events())


def test_collect_keys_during_the_prompt_stop_it() -> None:
    h = run(COLLECT_IIN)
    actions = h.press("0")
    assert StopPlayback() in actions
    assert h.phase is Phase.DIGITS
    h.press(VALID_IIN[1:] + "#")
    assert h.runner.variables == {"iin": VALID_IIN}


def test_collect_invalid_checksum_then_retry() -> None:
    h = run(COLLECT_IIN)
    h.finish_prompts()
    h.press(BAD_CHECKSUM + "#")
    assert h.events("ivr.no_match")[-1].fields == {
        "node": "a", "source": "dtmf", "value": "********0008", "reason": "iin_checksum",
        "attempt": 1,
    }
    assert h.played()[-2:] == [("ru", "ИИН неверный"), ("ru", "Введите ИИН")]
    assert "iin" not in h.runner.variables
    h.finish_prompts()
    h.press(VALID_IIN + "#")
    assert h.runner.variables == {"iin": VALID_IIN}
    assert h.final() == HangUpCall("done")


def test_collect_invalid_twice_falls_back() -> None:
    h = run(COLLECT_IIN)
    h.finish_prompts()
    h.press(BAD_CHECKSUM + "#")
    h.finish_prompts()
    h.press("991231400001#")
    assert [e.fields["attempt"] for e in h.events("ivr.no_match")] == [1, 2]
    assert h.events("ivr.fallback")[-1].fields == {"node": "a", "reason": "retries",
                                                   "to": "agent"}
    assert h.final() == HangUpCall("fallback")


def test_collect_too_short() -> None:
    h = run(COLLECT_IIN)
    h.finish_prompts()
    h.press("12345#")
    assert h.events("ivr.no_match")[-1].fields == {
        "node": "a", "source": "dtmf", "value": "*2345", "reason": "too_short", "attempt": 1,
    }
    assert h.played()[-2:] == [("ru", "ИИН неверный"), ("ru", "Введите ИИН")]


def test_collect_inter_digit_timeout_ends_the_entry() -> None:
    h = run(COLLECT_IIN)
    h.finish_prompts()
    actions = h.press(VALID_IIN)
    timers = [a for a in actions if isinstance(a, StartTimer)]
    assert timers and all(t.seconds == 4.0 for t in timers)
    h.timeout()
    assert h.runner.variables == {"iin": VALID_IIN}
    assert h.final() == HangUpCall("done")


def test_collect_no_digits_is_no_input() -> None:
    h = run(COLLECT_IIN)
    h.finish_prompts()
    h.timeout()
    assert h.events("ivr.no_input")[-1].fields == {"node": "a", "attempt": 1}
    assert not h.events("ivr.no_match")
    h.finish_prompts()
    h.timeout()
    assert h.final() == HangUpCall("fallback")


def test_collect_terminator_alone_is_too_short() -> None:
    h = run(COLLECT_IIN)
    h.finish_prompts()
    h.press("#")
    assert h.events("ivr.no_match")[-1].fields["reason"] == "too_short"


COLLECT_CODE = """\
  a:
    type: collect
    prompt: {kk: Кодты енгізіңіз, ru: Введите код}
    into: code
    min_length: 4
    max_length: 4
    next: ok
    fallback: ok
  ok:
    type: hangup
"""


def test_collect_max_length_ends_without_terminator() -> None:
    h = run(COLLECT_CODE)
    h.finish_prompts()
    h.press("123")
    assert h.phase is Phase.DIGITS
    h.press("4")
    assert h.runner.variables == {"code": "1234"}
    assert h.events("ivr.input")[-1].fields["value"] == "1234"  # not masked: no validator
    assert h.final() == HangUpCall("normal")


def test_collect_takes_typed_ahead_keys() -> None:
    h = run("""\
  a:
    type: say
    text: {kk: Сәлем, ru: Привет}
    next: c
""" + COLLECT_CODE.replace("  a:", "  c:"))
    h.press("98")  # during the say: it is cut, "9" and "8" wait for the collect
    assert h.node == "c" and h.phase is Phase.DIGITS
    assert not any(t == "Введите код" for _, t in h.played())
    h.press("76")
    assert h.runner.variables == {"code": "9876"}


BRANCH_ON_VAR = """\
  a:
    type: collect
    prompt: {kk: Таңдаңыз, ru: Выберите}
    into: choice
    max_length: 1
    next: pick
    fallback: other
  pick:
    type: branch
    cases:
      - when: {var: choice, equals: "1"}
        next: one
      - when: {var: choice, one_of: [2, "3"]}
        next: two_or_three
    default: other
  one:
    type: hangup
    cause: one
  two_or_three:
    type: hangup
    cause: two_or_three
  other:
    type: hangup
    cause: other
"""


@pytest.mark.parametrize(("key", "cause"), [
    ("1", "one"), ("2", "two_or_three"), ("3", "two_or_three"), ("4", "other"), ("*", "other"),
])
def test_branch_on_a_collected_variable(key: str, cause: str) -> None:
    h = run(BRANCH_ON_VAR)
    h.finish_prompts()
    h.press(key)
    assert h.final() == HangUpCall(cause)


class FakeQueues:
    def __init__(self, states: dict[str, QueueState]) -> None:
        self.states = states
        self.asked: list[str] = []

    def queue_state(self, name: str) -> QueueState | None:
        self.asked.append(name)
        return self.states.get(name)


BRANCH_ON_QUEUE = """\
  a:
    type: branch
    cases:
      - when: {queue: sales, agents_available: true}
        next: now
      - when: {queue: sales, waiting_at_most: 3}
        next: soon
      - when: {queue: sales, agents_available: false, waiting_at_most: 10}
        next: later
    default: busy
  now:
    type: hangup
    cause: now
  soon:
    type: hangup
    cause: soon
  later:
    type: hangup
    cause: later
  busy:
    type: hangup
    cause: busy
"""


@pytest.mark.parametrize(("state", "cause"), [
    (QueueState(agents_available=2, waiting=0), "now"),
    (QueueState(agents_available=1, waiting=50), "now"),
    (QueueState(agents_available=0, waiting=3), "soon"),
    (QueueState(agents_available=0, waiting=10), "later"),
    (QueueState(agents_available=0, waiting=11), "busy"),
    (None, "busy"),
])
def test_branch_on_queue_state(state: QueueState | None, cause: str) -> None:
    queues = FakeQueues({} if state is None else {"sales": state})
    h = run(BRANCH_ON_QUEUE, queues=queues)
    assert h.final() == HangUpCall(cause)
    assert queues.asked and set(queues.asked) == {"sales"}


def test_branch_on_queue_state_without_a_queue_manager() -> None:
    h = run(BRANCH_ON_QUEUE)
    assert h.final() == HangUpCall("busy")


SURVEY = """\
  a:
    type: survey
    questions:
      - id: polite
        prompt: {kk: Оператор сыпайы болды ма, ru: Был ли оператор вежлив}
      - id: solved
        prompt: {kk: Мәселе шешілді ме, ru: Решён ли вопрос}
    thanks: {kk: Рахмет, ru: Спасибо}
    retries: 1
    timeout_s: 5
    next: bye
  bye:
    type: hangup
    cause: survey_done
"""


def test_survey_two_answers() -> None:
    h = run(SURVEY)
    assert h.played() == [("ru", "Был ли оператор вежлив")]
    h.finish_prompts()
    h.press("4")
    assert h.played()[-1] == ("ru", "Решён ли вопрос")
    h.press("5")  # barges in on the second question
    assert [e.fields for e in h.events("survey.answered")] == [
        {"node": "a", "question": "polite", "score": 4},
        {"node": "a", "question": "solved", "score": 5},
    ]
    assert h.played()[-1] == ("ru", "Спасибо")
    assert h.press("3") == []  # the thanks is not cut
    assert h.final() is None
    h.finish_prompts()
    assert h.final() == HangUpCall("survey_done")


@pytest.mark.parametrize("score", "12345")
def test_survey_scores(score: str) -> None:
    h = run(SURVEY)
    h.press(score)
    assert h.events("survey.answered")[0].fields["score"] == int(score)


def test_survey_invalid_key_then_retry() -> None:
    h = run(SURVEY)
    h.finish_prompts()
    h.press("7")
    assert h.events("ivr.no_match")[-1].fields == {
        "node": "a", "source": "dtmf", "value": "7", "attempt": 1,
    }
    assert h.played()[-1] == ("ru", "Был ли оператор вежлив")
    assert not h.events("survey.answered")
    h.finish_prompts()
    h.press("1")
    assert h.events("survey.answered")[-1].fields["score"] == 1


def test_survey_silence_skips_the_question() -> None:
    h = run(SURVEY)
    h.finish_prompts()
    h.timeout()
    assert h.events("ivr.no_input")[-1].fields == {"node": "a", "attempt": 1}
    assert h.played()[-1] == ("ru", "Был ли оператор вежлив")
    h.finish_prompts()
    h.timeout()
    assert h.events("survey.skipped") == [
        Emit.of("survey.skipped", None, {"node": "a", "question": "polite"}),
    ]
    assert h.played()[-1] == ("ru", "Решён ли вопрос")
    h.finish_prompts()
    h.press("2")
    assert [e.fields["question"] for e in h.events("survey.answered")] == ["solved"]
    h.finish_prompts()
    assert h.final() == HangUpCall("survey_done")


def test_survey_all_silent_ends_with_thanks() -> None:
    h = run(SURVEY)
    h.silent(10)
    assert [e.fields["question"] for e in h.events("survey.skipped")] == ["polite", "solved"]
    assert h.played()[-1] == ("ru", "Спасибо")
    assert h.final() == HangUpCall("survey_done")


TRANSFER = """\
  a:
    type: transfer
    target: sip:duty@example.kz
    prompt: {kk: Қосамын, ru: Соединяю}
    fallback: sorry
  sorry:
    type: hangup
    cause: transfer_failed
    prompt: {kk: Кешіріңіз, ru: Извините}
"""


def test_transfer_then_fallback_when_it_fails() -> None:
    h = run(TRANSFER)
    assert h.played() == [("ru", "Соединяю")]
    h.finish_prompts()
    assert h.final() == TransferCall("sip:duty@example.kz")
    assert h.events("ivr.transfer")[-1].fields == {"node": "a", "target": "sip:duty@example.kz"}
    assert h.phase is Phase.HANDOFF
    h.handoff_failed("486 Busy Here")
    assert h.events("ivr.fallback")[-1].fields == {
        "node": "a", "reason": "486 Busy Here", "to": "sorry",
    }
    h.finish_prompts()
    assert h.final() == HangUpCall("transfer_failed")


def test_queue_without_fallback_hangs_up_when_unavailable() -> None:
    h = run("""\
  a:
    type: queue
    queue: general
""")
    assert h.final() == EnterQueue("general", ("ru",), "ru", {})
    h.handoff_failed()
    assert h.final() == HangUpCall("queue_unavailable")


def test_goto_and_hangup_with_a_cause() -> None:
    h = run("""\
  a:
    type: goto
    next: b
  b:
    type: hangup
    cause: finished
""", lang="kk")
    assert h.nodes_entered() == ["a", "b"]
    assert h.final() == HangUpCall("finished")
    assert h.events("ivr.hangup_node") == [
        Emit.of("ivr.hangup_node", None, {"node": "b", "cause": "finished"}),
    ]


def test_variables_go_with_the_call_to_the_queue() -> None:
    h = run(COLLECT_CODE.replace("type: hangup", "type: queue\n    queue: q"))
    h.press("4321")
    assert h.final() == EnterQueue("q", ("ru",), "ru", {"code": "4321"})


def test_a_goto_loop_in_a_hand_built_flow_hangs_up() -> None:
    """The loader rejects such a flow; the runner's guard still ends it."""
    flow = Flow("loop", "loop.yaml", "v", (), ("kk",), "Asia/Almaty", "a",
                {"a": Goto("a", 1, "b"), "b": Goto("b", 2, "a")})
    h = FlowHarness(flow, now=DAY)
    h.start()
    assert len(h.events("ivr.node")) == MAX_SILENT_STEPS
    assert h.events("ivr.error")[-1].fields["reason"] == "too many steps"
    assert h.final() == HangUpCall("flow_loop")
    assert h.phase is Phase.DONE


def test_speech_that_is_no_keyword_does_not_cut_a_menu_prompt() -> None:
    """A cough during the prompt is logged and ignored; a keyword barges in."""
    h = call()
    h.finish_prompts()
    h.press("2")
    assert h.phase is Phase.PROMPT
    actions = h.say("ru", None, 0.2, accepted=False)
    assert actions == [Emit.of("ivr.speech_ignored", None,
                               {"node": "main_menu", "value": "[unk]", "confidence": 0.2})]
    assert not h.events("ivr.no_match")
    actions = h.say("ru", "портал")
    assert StopPlayback() in actions
    assert h.node == "queue_egov"
