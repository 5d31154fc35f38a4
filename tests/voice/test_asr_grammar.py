"""Grammar phrases and Vosk result parsing (bailanys.voice.grammar); pure, no Vosk."""

from __future__ import annotations

import json
import logging

import pytest

from bailanys.errors import VoiceError
from bailanys.voice.grammar import UNK, Grammar, SpeechResult, compile_grammar, parse_result

VOCAB = {"оператор", "запись", "баланс", "да", "нет", "один", UNK}


def knows(word: str) -> bool:
    return word in VOCAB


def vosk_json(text: str, confs: list[float] | None = None) -> str:
    """A Vosk result as ``Result()`` gives it with ``SetWords(True)``."""
    words = text.split()
    confs = confs if confs is not None else [1.0] * len(words)
    result = [
        {"conf": c, "end": 0.5 + i, "start": 0.1 + i, "word": w}
        for i, (w, c) in enumerate(zip(words, confs, strict=True))
    ]
    return json.dumps(
        {"result": result, "text": text} if words else {"text": ""}, ensure_ascii=False
    )


@pytest.fixture
def grammar() -> Grammar:
    return compile_grammar(["Оператор", "запись  на приём", "баланс", "Да"], knows)


def test_compile_normalises_and_adds_unk(grammar: Grammar) -> None:
    assert grammar.phrases == ("оператор", "запись", "баланс", "да", UNK)
    assert dict(grammar.lookup) == {
        "оператор": "Оператор",
        "запись": "запись  на приём",
        "баланс": "баланс",
        "да": "Да",
    }
    assert grammar.unknown_words == ("на", "приём")


def test_compile_without_unk_in_the_model() -> None:
    g = compile_grammar(["да", "нет"], lambda w: w in {"да", "нет"})
    assert g.phrases == ("да", "нет")


def test_compile_ignores_unk_given_by_the_caller() -> None:
    g = compile_grammar(["да", UNK, f"{UNK} нет"], knows)
    assert g.phrases == ("да", "нет", UNK)
    assert dict(g.lookup) == {"да": "да", "нет": f"{UNK} нет"}


def test_compile_drops_phrases_without_known_words() -> None:
    g = compile_grammar(["абракадабра", "да"], knows)
    assert dict(g.lookup) == {"да": "да"}
    assert g.unknown_words == ("абракадабра",)


def test_compile_same_phrase_after_normalising_keeps_the_first(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="bailanys.voice.grammar"):
        g = compile_grammar(["да", "ДА", "да хорошо", "да"], knows)
    assert dict(g.lookup) == {"да": "да"}
    assert g.phrases == ("да", UNK)
    assert caplog.text.count("the first wins") == 2  # "ДА" and "да хорошо", not the repeat


def test_compile_nothing_usable_is_a_voice_error() -> None:
    with pytest.raises(VoiceError, match="no phrase of"):
        compile_grammar(["абра", "кадабра"], knows)
    with pytest.raises(VoiceError):
        compile_grammar([], knows)


def test_parse_match_and_confidence(grammar: Grammar) -> None:
    r = parse_result(vosk_json("оператор", [0.9]), "ru", grammar, 0.6)
    assert r == SpeechResult("ru", "оператор", 0.9, "Оператор", True)


def test_parse_maps_back_to_the_phrase_with_unknown_words(grammar: Grammar) -> None:
    r = parse_result(vosk_json("запись", [0.8]), "ru", grammar, 0.6)
    assert r is not None and r.phrase == "запись  на приём" and r.accepted


def test_parse_low_confidence_is_delivered_not_accepted(grammar: Grammar) -> None:
    r = parse_result(vosk_json("баланс", [0.4]), "ru", grammar, 0.6)
    assert r == SpeechResult("ru", "баланс", 0.4, "баланс", False)


def test_parse_threshold_is_inclusive(grammar: Grammar) -> None:
    r = parse_result(vosk_json("да", [0.6]), "ru", grammar, 0.6)
    assert r is not None and r.accepted


def test_parse_unk_only_has_no_phrase(grammar: Grammar) -> None:
    r = parse_result(vosk_json(UNK, [1.0]), "ru", grammar, 0.6)
    assert r == SpeechResult("ru", UNK, 1.0, None, False)


def test_parse_unk_around_a_phrase_matches_it(grammar: Grammar) -> None:
    r = parse_result(vosk_json(f"{UNK} оператор {UNK}", [1.0, 0.7, 0.4]), "ru", grammar, 0.6)
    assert r is not None
    assert r.phrase == "Оператор" and r.confidence == pytest.approx(0.7) and r.accepted


def test_parse_two_phrases_is_no_match(grammar: Grammar) -> None:
    r = parse_result(vosk_json("да баланс"), "ru", grammar, 0.6)
    assert r is not None and r.phrase is None and not r.accepted
    r = parse_result(vosk_json("да да"), "ru", grammar, 0.6)
    assert r is not None and r.phrase is None


@pytest.mark.parametrize("raw", ['{"text": ""}', '{"text": "  "}', "{}", '{"partial": "да"}'])
def test_parse_empty_is_none(grammar: Grammar, raw: str) -> None:
    assert parse_result(raw, "ru", grammar, 0.6) is None


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", '"text"', "null"])
def test_parse_garbage_is_none(grammar: Grammar, raw: str) -> None:
    assert parse_result(raw, "ru", grammar, 0.6) is None


def test_parse_without_word_list_has_zero_confidence(grammar: Grammar) -> None:
    r = parse_result('{"text": "да"}', "ru", grammar, 0.6)
    assert r == SpeechResult("ru", "да", 0.0, "Да", False)


def test_parse_skips_malformed_words(grammar: Grammar) -> None:
    raw = json.dumps(
        {"text": "да", "result": [{"conf": 0.8, "word": "да"}, {"conf": "x"}, 3, {"word": "a"}]}
    )
    r = parse_result(raw, "ru", grammar, 0.6)
    assert r is not None and r.confidence == pytest.approx(0.8)
