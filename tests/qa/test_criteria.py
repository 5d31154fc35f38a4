"""One evaluator per criterion kind: outcome, evidence and the n.a. cases (issue 16)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bailanys.analytics.model import Channel
from bailanys.qa import criteria, phrases
from bailanys.qa.criteria import Context, evaluate
from bailanys.qa.model import CallInputs, CallOutcome, Criterion, Evidence, Measure, Outcome
from tests.qa import modelcards as cards
from tests.qa.modelcards import acoustics, utt

A, C = Channel.AGENT, Channel.CALLER


NONE = CallOutcome()


def ctx(*utterances: object, duration: float = 120.0,
        silences: tuple[tuple[float, float], ...] = (),
        outcome: CallOutcome = NONE, with_audio: bool = True) -> Context:
    return Context(CallInputs(
        call_id="c1", utterances=tuple(utterances),  # type: ignore[arg-type]
        acoustics=acoustics(duration, silences) if with_audio else None,
        outcome=outcome, duration_s=duration))


def test_said_within_the_window_with_words_and_time() -> None:
    r = evaluate(cards.GREETING, ctx(utt(A, 1.0, "алло салеметсиз бе тыңдап тұрмын", "kk")))
    assert r.outcome is Outcome.PASS
    assert r.evidence == (Evidence(channel="agent", text="салеметсиз бе", start=1.4, end=2.1),)


def test_said_too_late_or_by_the_caller_fails() -> None:
    late = evaluate(cards.GREETING, ctx(utt(A, 12.0, "здравствуйте слушаю")))
    assert late.outcome is Outcome.FAIL and late.evidence[0].note == criteria.NOT_SAID
    caller = evaluate(cards.GREETING, ctx(utt(C, 1.0, "здравствуйте"), utt(A, 3.0, "слушаю")))
    assert caller.outcome is Outcome.FAIL


def test_closing_in_the_last_seconds() -> None:
    said_early = ctx(utt(A, 50.0, "до свидания"), utt(A, 110.0, "всё хорошо"))
    assert evaluate(cards.CLOSING, said_early).outcome is Outcome.FAIL
    said_last = ctx(utt(A, 50.0, "да"), utt(A, 110.0, "всего вам доброго"))
    r = evaluate(cards.CLOSING, said_last)
    assert r.outcome is Outcome.PASS and r.evidence[0].start == 110.0


def test_closing_across_the_border_of_the_last_seconds() -> None:
    across = ctx(utt(A, 99.5, "всего вам доброго"), utt(C, 110.0, "спасибо"))
    assert evaluate(cards.CLOSING, across).outcome is Outcome.PASS  # ends at 100.6
    before = ctx(utt(A, 98.0, "всего вам доброго"), utt(C, 110.0, "спасибо"))
    assert evaluate(cards.CLOSING, before).outcome is Outcome.FAIL  # ends at 99.1


def test_closing_counts_back_from_the_last_word_without_a_duration() -> None:
    said = (utt(A, 0.0, "да"), utt(A, 300.0, "сау болыңыз", "kk"))
    inputs = CallInputs(call_id="c", utterances=said,
                        acoustics=None, outcome=CallOutcome())
    assert evaluate(cards.CLOSING, Context(inputs)).outcome is Outcome.PASS


def test_no_words_on_the_channel_is_na_with_a_note() -> None:
    for c in (cards.GREETING, cards.FORBIDDEN, cards.PERSONAL):
        r = evaluate(c, ctx(utt(C, 1.0, "здравствуйте")))
        assert r.outcome is Outcome.NA and r.evidence[0].note == criteria.NO_TRANSCRIPT


def test_not_said_fails_with_every_hit() -> None:
    r = evaluate(cards.FORBIDDEN,
                 ctx(utt(A, 5.0, "я не знаю"), utt(A, 30.0, "мен білмеймін", "kk")))
    assert r.outcome is Outcome.FAIL and r.value == 2.0
    assert [(e.text, e.start) for e in r.evidence] == [("не знаю", 5.4), ("білмеймін", 30.4)]
    ok = evaluate(cards.FORBIDDEN, ctx(utt(A, 5.0, "я знаю мен білемін")))
    assert ok.outcome is Outcome.PASS and ok.evidence == ()


def test_personal_data_by_mask() -> None:
    r = evaluate(cards.PERSONAL, ctx(utt(A, 5.0, "ваш иин [IIN] верно"), utt(A, 9.0, "[PHONE]")))
    assert r.outcome is Outcome.FAIL
    assert r.evidence == (Evidence(channel="agent", text="[IIN]", start=5.8, end=6.1),)
    assert evaluate(cards.PERSONAL, ctx(utt(A, 9.0, "номер [PHONE]"))).outcome is Outcome.PASS
    callers = ctx(utt(C, 9.0, "[IIN]"), utt(A, 1.0, "да"))
    assert evaluate(cards.PERSONAL, callers).outcome is Outcome.PASS
    bare = replace(cards.PERSONAL, masks=("IIN",))
    assert evaluate(bare, ctx(utt(A, 9.0, "[IIN]"))).outcome is Outcome.FAIL
    every = replace(cards.PERSONAL, masks=())
    assert evaluate(every, ctx(utt(A, 9.0, "[PHONE]"))).outcome is Outcome.FAIL


def test_hold_etiquette() -> None:
    warned = ctx(utt(A, 30.0, "сейчас проверю подождите пожалуйста"), silences=((33.0, 60.0),))
    r = evaluate(cards.HOLD, warned)
    assert r.outcome is Outcome.PASS and r.evidence[0].text == "подождите пожалуйста"
    too_early = ctx(utt(A, 5.0, "подождите пожалуйста"), utt(A, 40.0, "да"),
                    silences=((33.0, 60.0),))
    r = evaluate(cards.HOLD, too_early)
    assert r.outcome is Outcome.FAIL
    assert r.evidence == (Evidence(start=33.0, end=60.0, value=27.0, note=criteria.NO_HOLD_PHRASE),)
    short = ctx(utt(A, 5.0, "да"), silences=((33.0, 40.0),))
    assert evaluate(cards.HOLD, short).outcome is Outcome.NA
    assert evaluate(cards.HOLD, ctx(utt(A, 1.0, "да"), with_audio=False)).outcome is Outcome.NA
    no_words = evaluate(cards.HOLD, ctx(utt(C, 1.0, "да"), silences=((33.0, 60.0),)))
    assert no_words.outcome is Outcome.NA and no_words.evidence[0].note == criteria.NO_TRANSCRIPT
    two = ctx(utt(A, 30.0, "күте тұрыңыз", "kk"), utt(A, 70.0, "так"),
              silences=((33.0, 60.0), (72.0, 100.0)))
    r = evaluate(cards.HOLD, two)
    assert r.outcome is Outcome.FAIL and [e.start for e in r.evidence] == [72.0]


@pytest.mark.parametrize(("criterion", "want", "value"), [
    (cards.TALK, Outcome.PASS, 50 / 90),
    (replace(cards.TALK, max=0.5), Outcome.FAIL, 50 / 90),
    (cards.SILENCE, Outcome.PASS, 10.0),
    (replace(cards.SILENCE, max=5.0), Outcome.FAIL, 10.0),
    (replace(cards.TALK, measure=Measure.OVERTALK_RATIO, min=None, max=0.05), Outcome.PASS,
     2 / 120),
    (replace(cards.TALK, measure=Measure.SPEECH_RATE, min=None, max=4.0), Outcome.FAIL, 4.2),
])
def test_acoustic(criterion: Criterion, want: Outcome, value: float) -> None:
    r = evaluate(criterion, ctx(silences=((20.0, 30.0),)))
    assert (r.outcome, r.value) == (want, pytest.approx(value))
    assert evaluate(criterion, ctx(with_audio=False)).outcome is Outcome.NA


def test_longest_silence_evidence_has_its_moment() -> None:
    r = evaluate(cards.SILENCE, ctx(silences=((20.0, 30.0),)))
    assert r.evidence == (Evidence(value=10.0, start=20.0),)


@pytest.mark.parametrize(("criterion", "outcome", "want"), [
    (cards.ANSWER, CallOutcome(wait_s=12.0), Outcome.PASS),
    (cards.ANSWER, CallOutcome(wait_s=31.0), Outcome.FAIL),
    (cards.ANSWER, CallOutcome(), Outcome.NA),
    (cards.DISPOSITION, CallOutcome(disposition="resolved"), Outcome.PASS),
    (cards.DISPOSITION, CallOutcome(), Outcome.FAIL),
    (cards.SURVEY, CallOutcome(survey_score=4), Outcome.PASS),
    (cards.SURVEY, CallOutcome(survey_score=2), Outcome.FAIL),
    (cards.SURVEY, CallOutcome(), Outcome.NA),
])
def test_outcome(criterion: Criterion, outcome: CallOutcome, want: Outcome) -> None:
    assert evaluate(criterion, ctx(outcome=outcome)).outcome is want


def test_manual_is_pending_and_every_kind_has_an_evaluator() -> None:
    assert evaluate(cards.ACCURATE, ctx()).outcome is Outcome.PENDING
    assert set(criteria.EVALUATORS) == {c.kind for c in cards.CARD.criteria}


def test_hold_phrase_of_the_agents_own_action_must_come_last() -> None:
    """«сейчас посмотрю» said in passing while the agent talks on does not
    announce a later silence; said last before it, it does; a request to wait
    holds for the whole lookback however the agent goes on (HOLD_TAIL_S)."""
    card = replace(cards.HOLD, variants={"ru": ("сейчас посмотрю", "подождите пожалуйста")})
    talk_on = ("так сейчас посмотрю по вашему иину результат придёт вам смс сообщением "
               "на номер в течение десяти рабочих дней")
    r = evaluate(card, ctx(utt(A, 18.0, talk_on), silences=((26.0, 60.0),)))
    assert r.outcome is Outcome.FAIL
    last = "так сейчас посмотрю по вашему иину"
    r = evaluate(card, ctx(utt(A, 22.0, last), utt(C, 25.0, "хорошо"), silences=((26.0, 60.0),)))
    assert r.outcome is Outcome.PASS and r.evidence[0].text == "сейчас посмотрю"
    asked = f"подождите пожалуйста {talk_on}"
    r = evaluate(card, ctx(utt(A, 16.0, asked), silences=((26.0, 60.0),)))
    assert r.outcome is Outcome.PASS and r.evidence[0].text == "подождите пожалуйста"


@pytest.mark.parametrize(("text", "language", "asks"), [
    ("подождите пожалуйста", "ru", True), ("не кладите трубку", "ru", True),
    ("оставайтесь на линии", "ru", True), ("одну минуту", "ru", True),
    ("минуточку", "ru", True), ("күте тұрыңыз", "kk", True), ("бір минут күтіңіз", "kk", True),
    ("тұтқаны қоймаңыз", "kk", True), ("сейчас посмотрю", "ru", False),
    ("я уточню информацию", "ru", False), ("қазір қарап көрейін", "kk", False),
    ("ақпаратты нақтылап берейін", "kk", False),
])
def test_is_request(text: str, language: str, asks: bool) -> None:
    assert phrases.is_request(phrases.compile_phrase(text, language)) is asks
