"""Clean-up of recognised words: ITN then masking; a dictated IIN leaves no digits behind."""

from __future__ import annotations

import re

import pytest

from bailanys.analytics import morph
from bailanys.analytics.clean import clean_utterances, clean_words
from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.iin import check_digit, is_valid_iin

IIN = "85061240003" + str(check_digit("85061240003"))  # 850612400032

# A caller dictates the IIN in groups, as callers do (with fillers and a pause).
RU_CALL = (
    "здравствуйте мне нужна справка о пенсионных отчислениях мой иин "
    "восемьдесят пять ноль шесть двенадцать э четыре ноль ноль ноль три два "
    "и телефон восемь семьсот один пятьсот пятьдесят пять двенадцать тридцать четыре "
    "почта асель собака мейл точка ру спасибо"
)
RU_CALL_GROUPS_OF_THREE = (
    "мой иин восемьсот пятьдесят шестьсот двенадцать четыреста ноль тридцать два записали"
)
KK_CALL = (
    "сәлеметсіз бе маған зейнетақы туралы анықтама керек менің жсн "
    "сексен бес нөл алты он екі төрт нөл нөл нөл үш екі "
    "телефоным сегіз жеті жүз бір бес жүз елу бес он екі отыз төрт рахмет"
)


def _words(text: str, start: float = 0.0) -> list[Word]:
    """One word every 0.5 s, 0.4 s long, confidence falling a little each word."""
    return [Word(w, start + 0.5 * i, start + 0.5 * i + 0.4, 1.0 - 0.001 * i)
            for i, w in enumerate(text.split())]


def _leaks(text: str, secret: str = IIN, run: int = 4) -> list[str]:
    digits = re.sub(r"\D", "", text)
    return [secret[i:i + run] for i in range(len(secret) - run + 1)
            if secret[i:i + run] in digits or secret[i:i + run] in text]


def test_the_iin_is_valid() -> None:
    assert is_valid_iin(IIN)


@pytest.mark.parametrize(("text", "lang"), [
    (RU_CALL, "ru"), (RU_CALL_GROUPS_OF_THREE, "ru"), (KK_CALL, "kk"),
])  # fmt: skip
def test_a_dictated_iin_leaves_no_run_of_its_digits(text: str, lang: str) -> None:
    cleaned = clean_words(_words(text), lang)
    joined = " ".join(w.text for w in cleaned)
    assert "[IIN]" in joined
    assert _leaks(joined) == []
    assert _leaks(" ".join(morph.terms(joined))) == []
    assert "[IIN]" in morph.terms(joined)


def test_the_russian_call_is_cleaned_entirely() -> None:
    cleaned = " ".join(w.text for w in clean_words(_words(RU_CALL), "ru"))
    assert cleaned.endswith("мой иин [IIN] и телефон [PHONE] почта [EMAIL] спасибо")


def test_the_kazakh_call_is_cleaned_entirely() -> None:
    cleaned = " ".join(w.text for w in clean_words(_words(KK_CALL), "kk"))
    assert cleaned.endswith("менің жсн [IIN] телефоным [PHONE] рахмет")


def test_a_merged_word_spans_its_sources() -> None:
    words = [Word("иин", 1.0, 1.3, 0.9), Word("восемьдесят", 1.5, 2.0, 0.8),
             Word("пять", 2.0, 2.2, 0.95), Word("ноль", 2.3, 2.5, 0.7),
             Word("шесть", 2.5, 2.8, 0.99), Word("двенадцать", 3.0, 3.5, 0.9),
             Word("четыре", 3.6, 3.9, 0.9), Word("ноль", 4.0, 4.2, 0.9),
             Word("ноль", 4.2, 4.4, 0.9), Word("ноль", 4.4, 4.6, 0.6),
             Word("три", 4.7, 4.9, 0.9), Word("два", 5.0, 5.4, 0.9),
             Word("спасибо", 6.0, 6.5, 0.5)]
    assert clean_words(words, "ru") == (
        Word("иин", 1.0, 1.3, 0.9), Word("[IIN]", 1.5, 5.4, 0.6), Word("спасибо", 6.0, 6.5, 0.5))


def test_numbers_become_one_word_with_their_times() -> None:
    words = [Word("две", 0.0, 0.2, 0.9), Word("тысячи", 0.2, 0.6, 0.8),
             Word("двадцать", 0.6, 1.0, 0.95), Word("четыре", 1.0, 1.3, 0.7),
             Word("года", 1.3, 1.6, 0.9)]
    assert clean_words(words, "ru") == (Word("2024", 0.0, 1.3, 0.7), Word("года", 1.3, 1.6, 0.9))


def test_untouched_words_are_the_same_objects_and_blanks_are_dropped() -> None:
    words = [Word("сәлем", 0.0, 0.5), Word("", 0.5, 0.6), Word("  ", 0.6, 0.7)]
    out = clean_words(words, "kk")
    assert out == (words[0],) and out[0] is words[0]
    assert clean_words([], "ru") == ()


def test_an_iin_split_across_utterances_is_masked() -> None:
    first = Utterance(Channel.CALLER, "ru", tuple(_words("мой иин восемьдесят пять ноль шесть")))
    second = Utterance(Channel.CALLER, "kk", tuple(_words("он екі төрт нөл нөл нөл үш екі", 5.0)))
    agent = Utterance(Channel.AGENT, "ru", tuple(_words("записала ваш номер", 3.0)))
    out = clean_utterances([first, agent, second])
    assert [u.text for u in out] == ["мой иин [IIN]", "записала ваш номер"]
    assert out[0].words[-1].end == pytest.approx(5.0 + 0.5 * 7 + 0.4)
    assert out[1].channel is Channel.AGENT


def test_utterances_without_personal_data_keep_their_words() -> None:
    u = Utterance(Channel.AGENT, "ru", tuple(_words("две тысячи двадцать четыре год")))
    assert [x.text for x in clean_utterances([u])] == ["2024 год"]
