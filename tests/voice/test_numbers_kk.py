"""Kazakh numerals (bailanys.voice.phrases.numbers_kk).

Cardinals 0..1000 (every value) and a sample above are cross-checked against
num2words(lang="kz"). We differ in one place on purpose: num2words writes
"бір мың" (1000) and "бір миллион", the written style of amounts, where speech
and the grammars cited in the module say "мың", "мың тоғыз жүз сексен алты"
(1986), "миллион"; :func:`_spoken` drops that "бір" from its answer. Only a
leading "бір" before мың goes: "жүз бір мың" (101,000) keeps it.

num2words has no Kazakh ordinals, so those are hand tables: 1-10 and the tens
written out, 11-99 built from them by the rule "suffix on the last word only",
and the round hundreds.
"""

from __future__ import annotations

import re

import pytest
from num2words import num2words

from bailanys.voice.phrases.numbers_kk import (
    HOUR,
    MAX_NUMBER,
    MINUTE,
    SECOND,
    cardinal,
    count_phrase,
    dative,
    ordinal,
    ordinal_word,
)

_KAZAKH_WORD = re.compile(r"[а-яёәғқңөұүһі]+")


def _spoken(text: str) -> str:
    return re.sub(r"^бір (мың|миллион)", r"\1", text)


def _n2w(n: int) -> str:
    return _spoken(str(num2words(n, lang="kz")))


# ---------------------------------------------------------------- cardinals


@pytest.mark.parametrize("n", range(0, 1001))
def test_every_cardinal_up_to_1000_matches_num2words(n: int) -> None:
    assert cardinal(n) == _n2w(n)


@pytest.mark.parametrize(
    "n",
    [*range(1001, MAX_NUMBER, 991), 1001, 1986, 2000, 11000, 21000, 100000, 101000, 121000,
     999999, MAX_NUMBER],
)  # fmt: skip
def test_cardinals_above_1000_match_num2words(n: int) -> None:
    assert cardinal(n) == _n2w(n)


def test_spoken_one_thousand_differs_from_num2words_only_by_bir() -> None:
    assert num2words(1000, lang="kz") == "бір мың"
    assert cardinal(1000) == "мың"
    assert cardinal(101000) == "жүз бір мың"


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "нөл"),
        (1, "бір"),
        (10, "он"),
        (11, "он бір"),
        (15, "он бес"),
        (20, "жиырма"),
        (30, "отыз"),
        (40, "қырық"),
        (50, "елу"),
        (60, "алпыс"),
        (70, "жетпіс"),
        (80, "сексен"),
        (90, "тоқсан"),
        (100, "жүз"),
        (101, "жүз бір"),
        (123, "жүз жиырма үш"),
        (200, "екі жүз"),
        (999, "тоғыз жүз тоқсан тоғыз"),
        (1000, "мың"),
        (1001, "мың бір"),
        (1986, "мың тоғыз жүз сексен алты"),
        (2000, "екі мың"),
        (21000, "жиырма бір мың"),
        (MAX_NUMBER, "миллион"),
    ],
)
def test_cardinal_table(n: int, expected: str) -> None:
    assert cardinal(n) == expected


@pytest.mark.parametrize("n", range(0, 1001))
def test_every_value_up_to_1000_has_the_right_shape(n: int) -> None:
    words = cardinal(n).split(" ")
    assert all(_KAZAKH_WORD.fullmatch(w) for w in words), words
    ord_words = ordinal(n).split(" ")
    assert ord_words[:-1] == words[:-1]
    last = ord_words[-1]
    assert last.endswith(("ыншы", "інші", "ншы", "нші"))
    # Harmony: a back suffix (-ншы) after a back word, a front one (-нші) after a front one.
    back = any(ch in "аоұы" for ch in words[-1])
    assert last.endswith("ншы") == back, (words[-1], last)


# ---------------------------------------------------------------- ordinals

UNIT_ORDINALS = {
    1: "бірінші",
    2: "екінші",
    3: "үшінші",
    4: "төртінші",
    5: "бесінші",
    6: "алтыншы",
    7: "жетінші",
    8: "сегізінші",
    9: "тоғызыншы",
}
UNIT_CARDINALS = {
    1: "бір", 2: "екі", 3: "үш", 4: "төрт", 5: "бес",
    6: "алты", 7: "жеті", 8: "сегіз", 9: "тоғыз",
}  # fmt: skip
TEN_ORDINALS = {
    10: "оныншы",
    20: "жиырмасыншы",
    30: "отызыншы",
    40: "қырқыншы",
    50: "елуінші",
    60: "алпысыншы",
    70: "жетпісінші",
    80: "сексенінші",
    90: "тоқсаныншы",
}
TEN_CARDINALS = {
    10: "он", 20: "жиырма", 30: "отыз", 40: "қырық", 50: "елу",
    60: "алпыс", 70: "жетпіс", 80: "сексен", 90: "тоқсан",
}  # fmt: skip
HUNDRED_ORDINALS = {
    100: "жүзінші",
    200: "екі жүзінші",
    300: "үш жүзінші",
    400: "төрт жүзінші",
    500: "бес жүзінші",
    600: "алты жүзінші",
    700: "жеті жүзінші",
    800: "сегіз жүзінші",
    900: "тоғыз жүзінші",
    1000: "мыңыншы",
}


def _expected_ordinal_below_100(n: int) -> str:
    tens, units = divmod(n, 10)
    if units == 0:
        return TEN_ORDINALS[n]
    if tens == 0:
        return UNIT_ORDINALS[n]
    return f"{TEN_CARDINALS[tens * 10]} {UNIT_ORDINALS[units]}"


@pytest.mark.parametrize("n", range(1, 100))
def test_ordinals_1_to_99(n: int) -> None:
    assert ordinal(n) == _expected_ordinal_below_100(n)


@pytest.mark.parametrize(("n", "expected"), sorted(HUNDRED_ORDINALS.items()))
def test_round_hundred_ordinals(n: int, expected: str) -> None:
    assert ordinal(n) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (11, "он бірінші"),
        (12, "он екінші"),
        (16, "он алтыншы"),
        (19, "он тоғызыншы"),
        (21, "жиырма бірінші"),
        (42, "қырық екінші"),
        (55, "елу бесінші"),
        (101, "жүз бірінші"),
        (109, "жүз тоғызыншы"),
        (120, "жүз жиырмасыншы"),
        (140, "жүз қырқыншы"),
        (302, "үш жүз екінші"),
        (410, "төрт жүз оныншы"),
        (566, "бес жүз алпыс алтыншы"),
        (608, "алты жүз сегізінші"),
        (1001, "мың бірінші"),
        (1986, "мың тоғыз жүз сексен алтыншы"),
        (2000, "екі мыңыншы"),
        (MAX_NUMBER, "миллионыншы"),
    ],
)
def test_compound_ordinals_take_the_suffix_on_the_last_word(n: int, expected: str) -> None:
    assert ordinal(n) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        (w, o)
        for w, o in [*zip(UNIT_CARDINALS.values(), UNIT_ORDINALS.values(), strict=True),
                     *zip(TEN_CARDINALS.values(), TEN_ORDINALS.values(), strict=True),
                     ("жүз", "жүзінші"), ("мың", "мыңыншы"), ("миллион", "миллионыншы")]
    ],
)  # fmt: skip
def test_ordinal_word(word: str, expected: str) -> None:
    assert ordinal_word(word) == expected


# ---------------------------------------------------------------- nouns


@pytest.mark.parametrize(
    ("n", "noun", "expected"),
    [
        (1, MINUTE, "бір минут"),
        (2, MINUTE, "екі минут"),
        (15, MINUTE, "он бес минут"),
        (21, MINUTE, "жиырма бір минут"),
        (1, HOUR, "бір сағат"),
        (3, HOUR, "үш сағат"),
        (30, SECOND, "отыз секунд"),
    ],
)
def test_nouns_after_numerals_stay_singular(n: int, noun: str, expected: str) -> None:
    assert count_phrase(n, noun) == expected


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("n", [-1, MAX_NUMBER + 1])
def test_out_of_range(n: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        cardinal(n)
    with pytest.raises(ValueError, match="out of range"):
        ordinal(n)


@pytest.mark.parametrize("n", [True, 2.0, "2"])
def test_not_an_int(n: object) -> None:
    with pytest.raises(TypeError):
        cardinal(n)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("word", "expected"),
    [  # the months and the numbers a booking time ends with (language review item 11)
        ("қаңтар", "қаңтарға"), ("ақпан", "ақпанға"), ("наурыз", "наурызға"),
        ("сәуір", "сәуірге"), ("мамыр", "мамырға"), ("маусым", "маусымға"),
        ("шілде", "шілдеге"), ("тамыз", "тамызға"), ("қыркүйек", "қыркүйекке"),
        ("қазан", "қазанға"), ("қараша", "қарашаға"), ("желтоқсан", "желтоқсанға"),
        ("нөл", "нөлге"), ("бір", "бірге"), ("екі", "екіге"), ("үш", "үшке"),
        ("төрт", "төртке"), ("бес", "беске"), ("алты", "алтыға"), ("жеті", "жетіге"),
        ("сегіз", "сегізге"), ("тоғыз", "тоғызға"), ("он", "онға"), ("жиырма", "жиырмаға"),
        ("отыз", "отызға"), ("қырық", "қырыққа"), ("елу", "елуге"),
    ],
)
def test_dative(word: str, expected: str) -> None:
    assert dative(word) == expected
