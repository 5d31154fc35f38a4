"""The voice assistant's conversation (bailanys.robot.assistant), inputs in, actions out."""

from __future__ import annotations

import re

import pytest

from bailanys.events import RobotFaq
from bailanys.robot.assistant import (
    EVENT,
    MAX_SILENCES,
    SERVICE_KEYS,
    AssistantAction,
    AssistantMachine,
    Heard,
    Listen,
    RunService,
    ServiceDone,
    Transfer,
    texts,
)
from bailanys.robot.faq import Entry
from bailanys.robot.matcher import Candidate, MatchResult, clarify_prompt, decide
from bailanys.robot.service_io import (
    Collect,
    Digits,
    Emit,
    End,
    HungUp,
    NoInput,
    Say,
    SendSms,
    SmsResult,
)
from bailanys.robot.services import (
    Service,
)
from bailanys.robot.turns import Interrupted

THRESHOLD = 0.79


def _entry(eid: str, topic: str, sms: bool = False) -> Entry:
    return Entry(
        id=eid, topic=topic,
        questions={"kk": (f"{eid} сұрақ",), "ru": (f"{eid} вопрос",)},
        answer={"kk": f"{eid} жауап.", "ru": f"{eid} ответ."},
        sms={"kk": f"{eid} SMS kk", "ru": f"{eid} SMS ru"} if sms else None,
    )


PASSPORT = _entry("passport_get", "passport", sms=True)
PENSION = _entry("pension_age", "pension")
EGOV = _entry("egov_login", "egov")


def _result(text: str, *conf: tuple[Entry, float], operator: bool = False) -> MatchResult:
    cands = tuple(Candidate(e, c, c) for e, c in conf)
    return MatchResult(text, "ru", cands, operator)


def _heard(text: str, *conf: tuple[Entry, float], operator: bool = False) -> Heard:
    return Heard(text, _result(text, *conf, operator=operator))


def _says(out: list[AssistantAction]) -> list[str]:
    return [a.text for a in out if isinstance(a, Say)]


def _events(out: list[AssistantAction]) -> list[dict[str, object]]:
    return [dict(a.fields) for a in out if isinstance(a, Emit) and a.type == EVENT]


def _machine(lang: str = "ru", speech: bool = True) -> AssistantMachine:
    m = AssistantMachine(lang, threshold=THRESHOLD, speech=speech)
    m.start(0.0)
    return m


def test_start_invites_a_question_and_names_the_keys() -> None:
    m = AssistantMachine("ru", threshold=THRESHOLD)
    out = m.start(0.0)
    assert _says(out) == [texts()["intro"]["ru"], texts()["menu"]["ru"]]
    assert isinstance(out[-1], Listen)
    assert _events(out) == [{"step": "start", "outcome": "started"}]


def test_without_a_speech_model_only_keys_are_offered() -> None:
    m = AssistantMachine("kk", threshold=THRESHOLD, speech=False)
    out = m.start(0.0)
    assert _says(out) == [texts()["menu"]["kk"]]
    out = m.handle(Digits("3"), 1.0)
    assert out[-1] == RunService(Service.CERTIFICATE)
    out = m.handle(ServiceDone("completed"), 2.0)
    assert _says(out) == [texts()["more_keys"]["kk"]]


def test_a_confident_answer_offers_its_sms_and_sends_it_on_key_1() -> None:
    m = _machine()
    out = m.handle(_heard("как получить паспорт", (PASSPORT, 0.93), (PENSION, 0.02)), 1.0)
    assert _says(out) == ["passport_get ответ.", texts()["sms_offer"]["ru"]]
    assert isinstance(out[-1], Listen)
    ev = _events(out)[0]
    assert ev == {"step": "question", "outcome": "answered", "entry": "passport_get",
                  "confidence": 0.93, "attempt": 1}
    assert "паспорт" not in str(ev)  # the caller's words are never stored
    out = m.handle(Digits("1"), 2.0)
    assert out == [SendSms("passport_get SMS ru")]
    out = m.handle(SmsResult(True), 3.0)
    assert _says(out) == [texts()["sms_sent"]["ru"], texts()["more"]["ru"]]
    assert isinstance(out[-1], Listen)


def test_sms_not_wanted_silence_moves_on_and_a_new_question_is_answered() -> None:
    m = _machine()
    m.handle(_heard("паспорт", (PASSPORT, 0.9)), 1.0)
    out = m.handle(NoInput(), 9.0)
    assert _says(out) == [texts()["more"]["ru"]]
    out = m.handle(_heard("пенсия", (PENSION, 0.95)), 12.0)
    assert _says(out) == ["pension_age ответ.", texts()["more"]["ru"]]


def test_a_failed_sms_is_said() -> None:
    m = _machine("kk")
    m.handle(_heard("паспорт", (PASSPORT, 0.9)), 1.0)
    m.handle(Digits("1"), 2.0)
    out = m.handle(SmsResult(False), 3.0)
    assert _says(out)[0] == texts()["sms_failed"]["kk"]


def test_two_close_candidates_are_offered_by_key_and_the_choice_answered() -> None:
    m = _machine()
    heard = _heard("госуслуга", (PASSPORT, 0.45), (EGOV, 0.40), (PENSION, 0.1))
    out = m.handle(heard, 1.0)
    assert heard.result is not None
    d = decide(heard.result, THRESHOLD)
    assert _says(out) == [clarify_prompt(d, "ru")]
    assert out[-1] == Collect(1)
    out = m.handle(Digits("2"), 3.0)
    assert _says(out) == ["egov_login ответ.", texts()["more"]["ru"]]
    assert _events(out)[0] == {"step": "clarified", "outcome": "answered", "entry": "egov_login"}


def test_a_wrong_key_after_clarifying_hands_over_with_the_best_guess() -> None:
    m = _machine()
    m.handle(_heard("госуслуга", (PASSPORT, 0.45), (EGOV, 0.40)), 1.0)
    out = m.handle(Digits("7"), 2.0)
    assert out[-1] == Transfer("not_understood", "passport")
    assert m.done and m.outcome == "handed_over:not_understood"


def test_nothing_close_asks_once_to_rephrase_then_hands_over() -> None:
    m = _machine()
    out = m.handle(_heard("ээ", (PENSION, 0.12), (EGOV, 0.1)), 1.0)
    assert _says(out) == [texts()["rephrase"]["ru"]]
    assert isinstance(out[-1], Listen)
    out = m.handle(_heard("ну это", (PENSION, 0.2), (EGOV, 0.1)), 5.0)
    assert out[-1] == Transfer("not_understood", None)


def test_a_second_attempt_is_answered_when_confident() -> None:
    m = _machine()
    m.handle(_heard("ээ", (PENSION, 0.12), (EGOV, 0.1)), 1.0)
    out = m.handle(_heard("когда пенсия", (PENSION, 0.9)), 5.0)
    assert _says(out)[0] == "pension_age ответ."
    ev = _events(out)[0]
    assert ev["attempt"] == 2


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_a_noise_turn_is_re_asked_once_then_takes_the_usual_path(lang: str) -> None:
    m = _machine(lang)
    out = m.handle(Heard("", None), 1.0)  # recognised as nothing
    assert _says(out) == [texts()["reask"][lang]] and out[-1] == Listen()
    assert _events(out) == [{"step": "question", "outcome": "noise", "attempt": 1}]
    out = m.handle(Heard("а", None, noise=True), 2.0)  # too short: noise again
    assert _says(out) == [texts()["rephrase"][lang]]
    assert _events(out)[0]["outcome"] == "not_recognised"
    out = m.handle(Heard("", None), 3.0)
    assert out[-1] == Transfer("not_understood", None)


def test_after_a_re_ask_the_repeated_question_is_answered() -> None:
    m = _machine()
    m.handle(Heard("", None), 1.0)
    out = m.handle(_heard("когда пенсия", (PENSION, 0.9)), 2.0)
    assert _says(out)[0] == "pension_age ответ."
    assert _events(out)[0]["attempt"] == 1  # the re-ask spent no attempt
    out = m.handle(Heard("", None), 9.0)  # the next question gets its own re-ask
    assert _says(out) == [texts()["reask"]["ru"]]


def test_a_re_ask_keeps_the_sms_offer() -> None:
    m = _machine()
    m.handle(_heard("паспорт", (PASSPORT, 0.95)), 1.0)
    m.handle(Heard("", None), 2.0)
    assert m.handle(Digits("1"), 3.0) == [SendSms(PASSPORT.sms["ru"])]  # type: ignore[index]


def test_an_answer_cut_by_speech_is_logged_with_the_seconds_heard() -> None:
    m = _machine("kk")
    out = m.handle(_heard("зейнет", (PENSION, 0.9)), 1.0)
    answer = _says(out)[0]
    out = m.handle(Interrupted(answer, 1.234, 6.5, "speech"), 3.0)
    assert out == [Emit(RobotFaq(step="answer", outcome="interrupted:speech",
                                 entry="pension_age", played_s=1.23, length_s=6.5))]
    assert m.phase.value == "menu"  # nothing else changes: the words are the next turn
    out = m.handle(_heard("паспорт", (PASSPORT, 0.95)), 4.0)
    assert _says(out)[0] == "passport_get жауап."


def test_other_prompts_cut_are_not_logged() -> None:
    m = _machine()
    assert m.handle(Interrupted(texts()["menu"]["ru"], 1.0, 9.0, "speech"), 1.0) == []
    m.handle(_heard("когда пенсия", (PENSION, 0.9)), 2.0)
    assert m.handle(Interrupted(texts()["more"]["ru"], 0.5, 3.0, "key"), 3.0) == []
    out = m.handle(Interrupted("pension_age ответ.", 0.5, 3.0, "key"), 3.0)
    assert _events(out)[0]["outcome"] == "interrupted:key"


def test_asking_for_an_operator_hands_over_with_the_topic() -> None:
    m = _machine()
    out = m.handle(_heard("оператор по пенсии", (PENSION, 0.6), operator=True), 1.0)
    assert out[-1] == Transfer("operator_asked", "pension")


def test_key_0_hands_over_with_the_last_topic() -> None:
    m = _machine()
    m.handle(_heard("пенсия", (PENSION, 0.95)), 1.0)
    out = m.handle(Digits("0"), 2.0)
    assert out[-1] == Transfer("operator_key", "pension")


@pytest.mark.parametrize("key", sorted(SERVICE_KEYS))
def test_keys_run_the_services_and_the_caller_may_ask_again(key: str) -> None:
    m = _machine()
    out = m.handle(Digits(key), 1.0)
    assert out[-1] == RunService(SERVICE_KEYS[key])
    out = m.handle(ServiceDone("completed"), 30.0)
    assert _says(out) == [texts()["more"]["ru"]]
    assert isinstance(out[-1], Listen)


def test_a_service_that_hands_over_hands_the_call_over() -> None:
    m = _machine()
    m.handle(Digits("3"), 1.0)
    out = m.handle(ServiceDone("handed_over:input", handed_over=True), 5.0)
    assert out[-1] == Transfer("service", None)


def test_a_wrong_key_repeats_the_menu() -> None:
    m = _machine()
    out = m.handle(Digits("9"), 1.0)
    assert _says(out) == [texts()["bad_key"]["ru"], texts()["menu"]["ru"]]
    assert not m.done


def test_silence_twice_hands_over() -> None:
    m = _machine()
    for _ in range(MAX_SILENCES - 1):
        out = m.handle(NoInput(), 8.0)
        assert _says(out) == [texts()["silence"]["ru"], texts()["menu"]["ru"]]
    out = m.handle(NoInput(), 16.0)
    assert out[-1] == Transfer("no_input", None)


def test_after_max_turns_goodbye() -> None:
    m = AssistantMachine("ru", threshold=THRESHOLD, max_turns=2)
    m.start(0.0)
    m.handle(_heard("пенсия", (PENSION, 0.95)), 1.0)
    out = m.handle(_heard("пенсия", (PENSION, 0.95)), 2.0)
    assert _says(out)[-1] == texts()["bye"]["ru"]
    assert out[-1] == End("completed")
    assert m.done and m.handle(Digits("1"), 3.0) == []


def test_hang_up_ends_quietly() -> None:
    m = _machine()
    m.handle(Digits("2"), 1.0)
    out = m.handle(HungUp(), 2.0)
    assert not _says(out) and m.done and m.outcome == "hung_up"


def test_inputs_of_the_wrong_kind_are_ignored_while_a_service_runs() -> None:
    m = _machine()
    m.handle(Digits("1"), 1.0)
    assert m.handle(Digits("5"), 2.0) == []
    assert m.handle(SmsResult(True), 2.0) == []


def test_every_sentence_exists_in_both_languages_without_digits() -> None:
    for key, by_lang in texts().items():
        assert set(by_lang) == {"kk", "ru"}, key
        for lang, text in by_lang.items():
            assert text.strip() and not re.search(r"\d", text), (key, lang)
        assert re.search("[әғқңөұүһі]", by_lang["kk"]), key  # really Kazakh


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        AssistantMachine("en", threshold=THRESHOLD)
