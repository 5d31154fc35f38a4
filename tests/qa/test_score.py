"""score_call: every criterion of the card, total and failed critical ones (issue 16)."""

from __future__ import annotations

from bailanys.analytics.model import Channel
from bailanys.qa.model import CallInputs, CallOutcome, Outcome, Result
from bailanys.qa.score import score_call
from bailanys.qa.totals import combine
from tests.qa.modelcards import CARD, acoustics, utt

A, C = Channel.AGENT, Channel.CALLER


QUICK = CallOutcome(wait_s=10.0)


def inputs(*utterances: object, outcome: CallOutcome = QUICK) -> CallInputs:
    return CallInputs(call_id="c7", utterances=tuple(utterances),  # type: ignore[arg-type]
                      acoustics=acoustics(120.0, ((40.0, 50.0),)), outcome=outcome,
                      language="ru", duration_s=120.0)


def test_a_good_call() -> None:
    score = score_call(CARD, inputs(
        utt(A, 0.5, "единый контакт центр здравствуйте"),
        utt(C, 3.0, "здравствуйте мне нужна справка"),
        utt(A, 6.0, "сейчас посмотрю"), utt(A, 105.0, "всего вам доброго до свидания"),
        outcome=CallOutcome(wait_s=10.0, disposition="resolved", survey_score=5)))
    got = {r.criterion: r.outcome for r in score.results}
    assert got == {"greeting": Outcome.PASS, "closing": Outcome.PASS, "forbidden": Outcome.PASS,
                   "no_personal_data": Outcome.PASS, "hold": Outcome.NA,
                   "talk_ratio": Outcome.PASS, "longest_silence": Outcome.PASS,
                   "answered": Outcome.PASS, "disposition": Outcome.PASS,
                   "survey": Outcome.PASS, "accurate": Outcome.PENDING}
    assert (score.call_id, score.scorecard, score.version) == ("c7", "test", 3)
    assert score.total == 100.0 and score.passed


def test_critical_failure_and_weights() -> None:
    score = score_call(CARD, inputs(
        utt(A, 15.0, "да ваш иин [IIN] я не знаю"), utt(A, 110.0, "всё")))
    got = {r.criterion: r.outcome for r in score.results}
    assert got["no_personal_data"] is Outcome.FAIL and got["forbidden"] is Outcome.FAIL
    assert score.critical_failed == ("no_personal_data",) and not score.passed
    # failed: greeting, closing, forbidden, personal, disposition (1 each);
    # passed: talk ratio, silence (1 each), answered (2); survey n.a.
    assert score.total == round(100 * 4 / 9, 1)
    assert (score.total, score.critical_failed) == combine(CARD, score.results)


def test_no_transcript_scores_what_it_can() -> None:
    score = score_call(CARD, inputs())
    phrase = {r.criterion: r for r in score.results}
    assert phrase["greeting"].outcome is Outcome.NA
    assert phrase["talk_ratio"].outcome is Outcome.PASS
    assert score.results == tuple(Result.from_json(r.to_json()) for r in score.results)
