"""Table tests of the caller-facing phrases (bailanys.voice.phrases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys.voice import phrases
from bailanys.voice.phrases import (
    DEMO_PROMPTS,
    LANGUAGES,
    demo_prompt,
    digit_word,
    digits_readback,
    readback_intro,
)

DIGITS = [
    ("0", "нөл", "ноль"),
    ("1", "бір", "один"),
    ("2", "екі", "два"),
    ("3", "үш", "три"),
    ("4", "төрт", "четыре"),
    ("5", "бес", "пять"),
    ("6", "алты", "шесть"),
    ("7", "жеті", "семь"),
    ("8", "сегіз", "восемь"),
    ("9", "тоғыз", "девять"),
    ("*", "жұлдызша", "звёздочка"),
    ("#", "тор", "решётка"),
]


@pytest.mark.parametrize(("key", "kk", "ru"), DIGITS)
def test_digit_word(key: str, kk: str, ru: str) -> None:
    assert digit_word("kk", key) == kk
    assert digit_word("ru", key) == ru


def test_every_keypad_key_has_a_distinct_word() -> None:
    for lang in LANGUAGES:
        words = [digit_word(lang, key) for key in "0123456789*#"]
        assert len(set(words)) == 12


@pytest.mark.parametrize("key", ["", "A", "D", "10", " ", "٣", "a", "+"])
def test_digit_word_rejects_non_keys(key: str) -> None:
    with pytest.raises(ValueError, match="keypad key"):
        digit_word("ru", key)


@pytest.mark.parametrize("lang", ["en", "", "KK", "rus", "kz"])
def test_unknown_language(lang: str) -> None:
    with pytest.raises(ValueError, match="unknown language"):
        digit_word(lang, "1")
    with pytest.raises(ValueError, match="unknown language"):
        digits_readback(lang, "1")
    with pytest.raises(ValueError, match="unknown language"):
        demo_prompt("greeting", lang)


@pytest.mark.parametrize(
    ("lang", "digits", "expected"),
    [
        ("ru", "123", "Вы нажали: один, два, три."),
        ("kk", "123", "Сіз тердіңіз: бір, екі, үш."),
        ("ru", "0", "Вы нажали: ноль."),
        ("kk", "9", "Сіз тердіңіз: тоғыз."),
        ("ru", "*0#", "Вы нажали: звёздочка, ноль, решётка."),
        ("kk", "*0#", "Сіз тердіңіз: жұлдызша, нөл, тор."),
        ("ru", "", "Вы ничего не нажали."),
        ("kk", "", "Сіз ештеңе термедіңіз."),
    ],
)
def test_digits_readback(lang: str, digits: str, expected: str) -> None:
    assert digits_readback(lang, digits) == expected


def test_readback_starts_with_intro() -> None:
    for lang in LANGUAGES:
        assert digits_readback(lang, "42").startswith(readback_intro(lang) + " ")


def test_readback_rejects_non_keys() -> None:
    with pytest.raises(ValueError, match="keypad key"):
        digits_readback("ru", "12a")


def test_demo_prompts_cover_every_id_and_language() -> None:
    assert set(DEMO_PROMPTS) == {
        "greeting",
        "choose_language",
        "enter_digits",
        "goodbye",
        "invalid_choice",
    }
    for prompt_id, by_lang in DEMO_PROMPTS.items():
        assert set(by_lang) == set(LANGUAGES), prompt_id
        for lang, text in by_lang.items():
            assert text.strip() == text and text, (prompt_id, lang)
            assert demo_prompt(prompt_id, lang) == text


@pytest.mark.parametrize(
    ("prompt_id", "lang", "fragment"),
    [
        ("greeting", "kk", "Бірыңғай байланыс орталығына қош келдіңіз"),
        ("greeting", "ru", "Добро пожаловать в единый контакт-центр"),
        ("choose_language", "kk", "Қазақ тілі үшін"),
        ("choose_language", "ru", "Для русского языка нажмите"),
        ("enter_digits", "kk", "тор"),
        ("enter_digits", "ru", "решётку"),
    ],
)
def test_demo_prompt_wording(prompt_id: str, lang: str, fragment: str) -> None:
    assert fragment in demo_prompt(prompt_id, lang)


def test_spoken_texts_have_no_numerals() -> None:
    # espeak-ng reads "1-ді" badly; digits to be spoken are written as words.
    for by_lang in DEMO_PROMPTS.values():
        for text in by_lang.values():
            assert not any(ch.isdigit() for ch in text), text


def test_kazakh_texts_are_in_kazakh_cyrillic() -> None:
    kazakh_letters = set("әғқңөұүһі")
    joined = " ".join(t["kk"] for t in DEMO_PROMPTS.values()).lower()
    assert kazakh_letters & set(joined)


def test_unknown_demo_prompt() -> None:
    with pytest.raises(ValueError, match="unknown demo prompt"):
        demo_prompt("nope", "kk")


def test_module_is_pure() -> None:
    source = Path(phrases.__file__).read_text(encoding="utf-8")
    for banned in ("import asyncio", "import os", "open("):
        assert banned not in source
