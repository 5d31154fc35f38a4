"""Keypad words and the digit read-back, in Kazakh and Russian.

Pure text: no audio, no I/O. Texts are written for espeak-ng's ``kk`` and
``ru`` voices, so digits that must be spoken are written as words ("бірді",
"два") rather than numerals: espeak-ng reads "1-ді" as two stressed words
("b'Ird'I" in ``espeak-ng -v kk -x``) where "бірді" is one ("bI*d'I").

Wording. Keying in a sequence of digits is "теру" (to dial: "нөмірді теру"),
so the read-back says "Сіз тердіңіз: ...". The keypad keys are "жұлдызша" /
"звёздочка" (*) and "тор" / "решётка" (#).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from bailanys.voice.phrases.languages import check_lang

_KEY_WORDS: Final[Mapping[str, Mapping[str, str]]] = {
    "kk": {
        "0": "нөл",
        "1": "бір",
        "2": "екі",
        "3": "үш",
        "4": "төрт",
        "5": "бес",
        "6": "алты",
        "7": "жеті",
        "8": "сегіз",
        "9": "тоғыз",
        "*": "жұлдызша",
        "#": "тор",
    },
    "ru": {
        "0": "ноль",
        "1": "один",
        "2": "два",
        "3": "три",
        "4": "четыре",
        "5": "пять",
        "6": "шесть",
        "7": "семь",
        "8": "восемь",
        "9": "девять",
        "*": "звёздочка",
        "#": "решётка",
    },
}

_READBACK_INTRO: Final[Mapping[str, str]] = {
    "kk": "Сіз тердіңіз:",
    "ru": "Вы нажали:",
}

_NOTHING_PRESSED: Final[Mapping[str, str]] = {
    "kk": "Сіз ештеңе термедіңіз.",
    "ru": "Вы ничего не нажали.",
}


def digit_word(lang: str, ch: str) -> str:
    """The spoken name of one keypad key (``0``-``9``, ``*``, ``#``) in ``lang``."""
    check_lang(lang)
    try:
        return _KEY_WORDS[lang][ch]
    except KeyError:
        raise ValueError(f"not a keypad key: {ch!r}") from None


def readback_intro(lang: str) -> str:
    """The words before the keys in a read-back: "Сіз тердіңіз:" / "Вы нажали:"."""
    check_lang(lang)
    return _READBACK_INTRO[lang]


def digits_readback(lang: str, digits: str) -> str:
    """Read the keys back: ru "Вы нажали: один, два, три.", kk "Сіз тердіңіз: бір, екі, үш."

    An empty string says that nothing was pressed.
    """
    check_lang(lang)
    if not digits:
        return _NOTHING_PRESSED[lang]
    keys = ", ".join(digit_word(lang, ch) for ch in digits)
    return f"{_READBACK_INTRO[lang]} {keys}."
