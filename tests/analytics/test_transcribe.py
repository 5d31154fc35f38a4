"""transcribe_pcm's logic with fake recognisers: offsets, utterances, language (issue 15).

A fake "model" hears tone bursts as words: a burst under 600 Hz is Kazakh,
over it Russian (say); each model is sure (0.95) of words in its language
and unsure (0.3) of the others, as a real model forced onto a foreign
language is. The real Vosk path is in test_transcribe_vosk.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from bailanys.analytics import langid
from bailanys.analytics.audio import RATE, speech_regions
from bailanys.analytics.model import Channel, Word
from bailanys.analytics.transcribe import Decode, Pcm, split_utterances, transcribe_pcm

KK_HZ, RU_HZ = 300.0, 1000.0


def burst(hz: float, seconds: float = 0.4) -> Pcm:
    t = np.arange(round(seconds * RATE)) / RATE
    return (3000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def gap(seconds: float) -> Pcm:
    return np.zeros(round(seconds * RATE), dtype=np.int16)


def sentence(hz: float, words: int = 4) -> Pcm:
    """``words`` bursts 0.2 s apart: one region, one recogniser result."""
    parts: list[Pcm] = []
    for _ in range(words):
        parts += [burst(hz), gap(0.2)]
    return np.concatenate(parts[:-1])


def fake(lang: str, fed: list[float]) -> Decode:
    """A model of ``lang``: one word per burst, times from the segment's start."""

    def decode(pcm: Pcm) -> list[list[Word]]:
        fed.append(pcm.size / RATE)
        words = []
        for r in speech_regions(pcm, pad_s=0.0, join_gap_s=0.05):
            seg = pcm[r.start : r.end].astype(np.float64)
            hz = np.count_nonzero(np.diff(np.signbit(seg))) / 2 / (seg.size / RATE)
            mine = (hz < 600) == (lang == "kk")
            text = f"{lang}{'' if mine else '?'}"
            words.append(Word(text, r.start / RATE, r.end / RATE, 0.95 if mine else 0.3))
        return [words] if words else []

    return decode


def models(*langs: str) -> tuple[dict[str, Decode], dict[str, list[float]]]:
    fed: dict[str, list[float]] = {lang: [] for lang in langs}
    return {lang: fake(lang, fed[lang]) for lang in langs}, fed


def texts(utterances: Sequence[object]) -> list[str]:
    return [u.text for u in utterances]  # type: ignore[attr-defined]


def test_words_keep_their_offsets_in_the_recording() -> None:
    pcm = np.concatenate([gap(5.0), sentence(KK_HZ, 2), gap(7.0), sentence(KK_HZ, 1), gap(1.0)])
    decoders, fed = models("kk")
    utterances, lang, speech = transcribe_pcm(pcm, Channel.AGENT, "kk", decoders)
    assert lang == "kk" and texts(utterances) == ["kk kk", "kk"]
    first, second = utterances
    assert first.words[0].start == pytest.approx(5.0, abs=0.03)
    assert first.words[1].start == pytest.approx(5.6, abs=0.03)
    assert second.start == pytest.approx(5.0 + 1.0 + 7.0, abs=0.03)
    assert all(u.channel is Channel.AGENT for u in utterances)
    # Only the two regions (with padding) reached the model, not the 13 s of silence.
    assert sum(fed["kk"]) == pytest.approx(speech) and speech < 3.0


def test_the_language_is_detected_from_what_each_model_makes_of_the_speech() -> None:
    for hz, expected in ((KK_HZ, "kk"), (RU_HZ, "ru")):
        pcm = np.concatenate([gap(1), sentence(hz), gap(2), sentence(hz), gap(1)])
        for order in (("kk", "ru"), ("ru", "kk")):
            decoders, _ = models(*order)
            utterances, lang, _ = transcribe_pcm(pcm, Channel.CALLER, None, decoders)
            assert lang == expected
            assert all(u.language == expected and "?" not in u.text for u in utterances)


def test_detection_decodes_only_the_first_twenty_seconds_under_the_other_model() -> None:
    pcm = np.concatenate([np.concatenate([sentence(KK_HZ), gap(1.5)]) for _ in range(20)])
    decoders, fed = models("kk", "ru")
    _, lang, speech = transcribe_pcm(pcm, Channel.CALLER, None, decoders)
    assert lang == "kk" and speech > 2 * langid.DETECT_SPEECH_S
    assert langid.DETECT_SPEECH_S <= sum(fed["ru"]) < langid.DETECT_SPEECH_S + 3
    assert sum(fed["kk"]) == pytest.approx(speech)  # each region decoded once under kk


def test_a_switch_mid_call_is_kept_per_utterance() -> None:
    pcm = np.concatenate(
        [gap(1), sentence(KK_HZ), gap(2), sentence(RU_HZ, 3), gap(2), sentence(KK_HZ, 2), gap(1)]
    )
    decoders, fed = models("kk", "ru")
    utterances, lang, _ = transcribe_pcm(pcm, Channel.CALLER, "kk", decoders)
    assert lang == "kk"
    assert [(u.language, u.text) for u in utterances] == [
        ("kk", "kk kk kk kk"), ("ru", "ru ru ru"), ("kk", "kk kk")]
    assert utterances[1].start == pytest.approx(1 + 2.2 + 2, abs=0.05)
    assert len(fed["ru"]) == 1  # only the doubtful utterance was decoded again


def test_with_one_model_everything_is_in_its_language() -> None:
    pcm = np.concatenate([gap(1), sentence(RU_HZ), gap(1)])
    decoders, _ = models("kk")
    utterances, lang, _ = transcribe_pcm(pcm, Channel.CALLER, None, decoders)
    assert lang == "kk" and [u.language for u in utterances] == ["kk"]
    assert utterances[0].text == "kk? kk? kk? kk?"  # unsure words, kept: there is no better


def test_silence_only_gives_no_utterances_and_no_decoding() -> None:
    decoders, fed = models("kk", "ru")
    assert transcribe_pcm(gap(10), Channel.CALLER, None, decoders) == ((), "kk", 0.0)
    assert fed == {"kk": [], "ru": []}


# ------------------------------------------------------------------ utterances


def w(text: str, start: float, end: float) -> Word:
    return Word(text, start, end, 1.0)


def test_results_are_utterances_and_long_pauses_split_them() -> None:
    results = [
        [w("a", 0.0, 0.3), w("b", 0.5, 0.8), w("c", 2.0, 2.2)],  # 1.2 s pause before c
        [],
        [w("d", 3.0, 3.2)],
    ]
    assert split_utterances(results, max_pause=1.0) == [
        (w("a", 0.0, 0.3), w("b", 0.5, 0.8)), (w("c", 2.0, 2.2),), (w("d", 3.0, 3.2),)]
    assert split_utterances(results, max_pause=5.0)[0][-1].text == "c"
    assert split_utterances([]) == []


def test_a_pause_of_exactly_the_limit_stays_inside() -> None:
    assert len(split_utterances([[w("a", 0.0, 1.0), w("b", 2.0, 3.0)]], max_pause=1.0)) == 1


# ------------------------------------------------------------------ langid


def words(conf: float, n: int, seconds: float = 1.0) -> list[Word]:
    step = seconds / max(n, 1)
    return [Word("x", i * step, (i + 1) * step, conf) for i in range(n)]


def test_more_confident_words_win() -> None:
    assert langid.choose({"kk": words(0.5, 10), "ru": words(0.9, 10)}, 5.0) == "ru"


def test_a_few_sure_words_do_not_beat_the_model_that_heard_the_speech() -> None:
    # 10 s of speech: one word at 1.0 (a wrong model's stray) against 25 at 0.8.
    assert langid.choose({"kk": words(1.0, 1), "ru": words(0.8, 25)}, 10.0) == "ru"
    assert langid.score(words(1.0, 1), 10.0) == pytest.approx(0.1)


def test_ties_keep_the_configured_order_and_nothing_scores_zero() -> None:
    assert langid.choose({"ru": words(0.8, 5), "kk": words(0.8, 5)}, 2.0) == "ru"
    assert langid.choose({"kk": [], "ru": []}, 2.0) == "kk"
    assert langid.score([], 3.0) == 0.0 and langid.mean_conf([]) == 0.0
    assert langid.score(words(0.7, 2), 0.0) == pytest.approx(0.7)
    with pytest.raises(ValueError):
        langid.choose({}, 1.0)


def test_an_utterance_switches_only_by_a_clear_margin() -> None:
    assert langid.prefer(words(0.5, 4), words(0.9, 4), 2.0)
    assert not langid.prefer(words(0.8, 4), words(0.85, 4), 2.0)
    assert not langid.prefer(words(0.8, 4), [], 2.0)
