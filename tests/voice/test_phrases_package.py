"""The phrases package as a whole: re-exports and purity."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bailanys.voice import phrases
from bailanys.voice.phrases import demo, keypad, languages

MODULES = [
    "languages", "keypad", "demo", "numbers_ru", "numbers_kk", "durations", "queue", "waiting",
    "interruption",
]


def test_old_names_are_re_exported() -> None:
    assert phrases.LANGUAGES is languages.LANGUAGES
    assert phrases.DEMO_PROMPTS is demo.DEMO_PROMPTS
    assert phrases.demo_prompt is demo.demo_prompt
    assert phrases.digit_word is keypad.digit_word
    assert phrases.readback_intro is keypad.readback_intro
    assert phrases.digits_readback is keypad.digits_readback
    assert set(phrases.__all__) == {
        "DEMO_PROMPTS",
        "LANGUAGES",
        "demo_prompt",
        "digit_word",
        "digits_readback",
        "readback_intro",
    }


def test_every_module_is_in_the_package() -> None:
    package_dir = Path(phrases.__file__).parent
    on_disk = {p.stem for p in package_dir.glob("*.py")} - {"__init__"}
    assert on_disk == set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_is_pure(name: str) -> None:
    module = importlib.import_module(f"bailanys.voice.phrases.{name}")
    assert module.__file__ is not None
    source = Path(module.__file__).read_text(encoding="utf-8")
    for banned in ("import asyncio", "import os", "open(", "import socket", "subprocess"):
        assert banned not in source, (name, banned)


def test_waiting_sentences_exist_in_both_languages_without_digits() -> None:
    from bailanys.voice.phrases import waiting

    for table in waiting.ALL:
        assert set(table) == {"kk", "ru"}
        for text in table.values():
            assert text.strip() and not any(ch.isdigit() for ch in text)


def test_the_restart_notice_exists_in_both_languages_without_digits() -> None:
    """Requirements item 34: callers are told of an interruption, in their language."""
    from bailanys.voice.phrases import interruption

    table = interruption.SERVICE_RESTARTING
    assert set(table) == {"kk", "ru"}
    for text in table.values():
        assert text.strip() and not any(ch.isdigit() for ch in text)
    assert "перезвоните" in table["ru"] and "қайта қоңырау шалыңыз" in table["kk"]
    assert interruption.texts(("ru",)) == [("ru", table["ru"])]
    with pytest.raises(ValueError):
        interruption.text(table, "en")
