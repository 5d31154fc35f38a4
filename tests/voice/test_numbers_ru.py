"""Russian numerals (bailanys.voice.phrases.numbers_ru).

Every value 0..1000 is cross-checked against the independent speller
num2words in all genders, in the nominative and the genitive, and as an
ordinal. We differ from num2words in one place on purpose: it writes "одна
тысяча" / "одной тысячи" (and "один миллион") where speech, and we, say
"тысяча" / "тысячи" / "миллион"; :func:`_spoken` removes that word from its
answer. Above 1000 num2words puts a round-ten or teen thousands count into the
ordinal form ("десятый тысяч девятьсот семьдесят первый" for 10971), which is
wrong (only the last word is ordinal), so those are checked by hand instead.
"""

from __future__ import annotations

import re

import pytest
from num2words import num2words

from bailanys.voice.phrases.numbers_ru import (
    HOUR,
    MAX_NUMBER,
    MINUTE,
    SECOND,
    Case,
    Gender,
    Noun,
    cardinal,
    count_phrase,
    noun_form,
    ordinal,
)

_N2W_GENDER = {Gender.MASC: "m", Gender.FEM: "f", Gender.NEUT: "n"}
_N2W_CASE = {Case.NOM: "n", Case.GEN: "g"}
_WORD = re.compile(r"[а-яё]+")


def _spoken(text: str) -> str:
    """num2words' text with "одна" before a lone тысяча / "один" before миллион dropped."""
    return re.sub(r"^(?:одна|одной|одно|один|одного) (тысяч|миллион)", r"\1", text)


def _n2w(n: int, gender: Gender = Gender.MASC, case: Case = Case.NOM) -> str:
    text = num2words(n, lang="ru", gender=_N2W_GENDER[gender], case=_N2W_CASE[case])
    return _spoken(text)


def _n2w_ordinal(n: int, gender: Gender = Gender.MASC) -> str:
    return str(num2words(n, lang="ru", to="ordinal", gender=_N2W_GENDER[gender]))


# ---------------------------------------------------------------- 0..1000, every value


@pytest.mark.parametrize("n", range(0, 1001))
def test_every_value_up_to_1000_matches_num2words(n: int) -> None:
    for gender in Gender:
        for case in Case:
            assert cardinal(n, gender, case) == _n2w(n, gender, case), (n, gender, case)
        assert ordinal(n, gender) == _n2w_ordinal(n, gender), (n, gender)


@pytest.mark.parametrize("n", range(0, 1001))
def test_every_value_up_to_1000_has_the_right_shape(n: int) -> None:
    words = cardinal(n).split(" ")
    assert all(_WORD.fullmatch(w) for w in words), words
    # One word per non-zero hundreds, tens (or teen) and units digit.
    hundreds, rest = divmod(n % 1000, 100)
    expected = (hundreds > 0) + (rest >= 10) + (rest % 10 > 0 and not 10 <= rest <= 19)
    if n in (0, 1000):
        expected = 1
    assert len(words) == expected
    # Only the last word of an ordinal differs from the cardinal.
    ord_words = ordinal(n).split(" ")
    assert ord_words[:-1] == words[:-1]
    assert ord_words[-1].endswith(("ый", "ой", "ий"))
    assert ordinal(n, Gender.FEM).endswith(("ая", "ья"))
    assert ordinal(n, Gender.NEUT).endswith(("ое", "ье"))
    # Only один and два have gender forms, and only in the last word.
    fem = cardinal(n, Gender.FEM).split(" ")
    assert fem[:-1] == words[:-1]
    if fem[-1] != words[-1]:
        assert (words[-1], fem[-1]) in {("один", "одна"), ("два", "две")}


# ---------------------------------------------------------------- above 1000


@pytest.mark.parametrize(
    "n",
    [*range(1001, MAX_NUMBER, 997), 1001, 2000, 5000, 11000, 21000, 40000, 90000, 100000,
     101000, 121000, 200000, 999000, 999999, MAX_NUMBER],
)  # fmt: skip
def test_cardinals_above_1000_match_num2words(n: int) -> None:
    for gender in Gender:
        for case in Case:
            if n == MAX_NUMBER and gender is not Gender.MASC:
                continue  # num2words gives "одна миллион" for the feminine
            assert cardinal(n, gender, case) == _n2w(n, gender, case), (n, gender, case)


@pytest.mark.parametrize(
    "n",
    [n for n in range(1001, MAX_NUMBER, 997) if not 10 <= n // 1000 % 100 <= 19
     and n // 1000 % 10 != 0] + [1001, 2000, 5000, 11000, 21000, 40000, 90000, 100000, 101000,
                                 121000, 200000, 999000, 999999, MAX_NUMBER],
)  # fmt: skip
def test_ordinals_above_1000_match_num2words(n: int) -> None:
    for gender in Gender:
        assert ordinal(n, gender) == _n2w_ordinal(n, gender), (n, gender)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (10971, "десять тысяч девятьсот семьдесят первый"),
        (11968, "одиннадцать тысяч девятьсот шестьдесят восьмой"),
        (40881, "сорок тысяч восемьсот восемьдесят первый"),
        (120001, "сто двадцать тысяч первый"),
    ],
)
def test_ordinals_where_num2words_is_wrong(n: int, expected: str) -> None:
    assert ordinal(n) == expected


# ---------------------------------------------------------------- hand tables


@pytest.mark.parametrize(
    ("n", "gender", "case", "expected"),
    [
        (0, Gender.MASC, Case.NOM, "ноль"),
        (0, Gender.FEM, Case.GEN, "ноля"),
        (1, Gender.MASC, Case.NOM, "один"),
        (1, Gender.FEM, Case.NOM, "одна"),
        (1, Gender.NEUT, Case.NOM, "одно"),
        (1, Gender.MASC, Case.GEN, "одного"),
        (1, Gender.FEM, Case.GEN, "одной"),
        (1, Gender.NEUT, Case.GEN, "одного"),
        (2, Gender.MASC, Case.NOM, "два"),
        (2, Gender.FEM, Case.NOM, "две"),
        (2, Gender.NEUT, Case.NOM, "два"),
        (2, Gender.FEM, Case.GEN, "двух"),
        (3, Gender.MASC, Case.GEN, "трёх"),
        (4, Gender.MASC, Case.GEN, "четырёх"),
        (11, Gender.FEM, Case.NOM, "одиннадцать"),
        (12, Gender.FEM, Case.NOM, "двенадцать"),
        (21, Gender.FEM, Case.NOM, "двадцать одна"),
        (21, Gender.FEM, Case.GEN, "двадцати одной"),
        (21, Gender.MASC, Case.GEN, "двадцати одного"),
        (22, Gender.FEM, Case.NOM, "двадцать две"),
        (40, Gender.MASC, Case.GEN, "сорока"),
        (50, Gender.MASC, Case.GEN, "пятидесяти"),
        (90, Gender.MASC, Case.GEN, "девяноста"),
        (100, Gender.MASC, Case.NOM, "сто"),
        (100, Gender.MASC, Case.GEN, "ста"),
        (200, Gender.MASC, Case.GEN, "двухсот"),
        (300, Gender.MASC, Case.GEN, "трёхсот"),
        (500, Gender.MASC, Case.GEN, "пятисот"),
        (221, Gender.FEM, Case.GEN, "двухсот двадцати одной"),
        (1000, Gender.MASC, Case.NOM, "тысяча"),
        (1000, Gender.MASC, Case.GEN, "тысячи"),
        (1001, Gender.FEM, Case.NOM, "тысяча одна"),
        (2000, Gender.MASC, Case.NOM, "две тысячи"),
        (2000, Gender.MASC, Case.GEN, "двух тысяч"),
        (5000, Gender.MASC, Case.NOM, "пять тысяч"),
        (21000, Gender.MASC, Case.NOM, "двадцать одна тысяча"),
        (21000, Gender.MASC, Case.GEN, "двадцати одной тысячи"),
        (22000, Gender.MASC, Case.NOM, "двадцать две тысячи"),
        (MAX_NUMBER, Gender.MASC, Case.NOM, "миллион"),
        (MAX_NUMBER, Gender.MASC, Case.GEN, "миллиона"),
    ],
)
def test_cardinal_table(n: int, gender: Gender, case: Case, expected: str) -> None:
    assert cardinal(n, gender, case) == expected


@pytest.mark.parametrize(
    ("n", "masc", "fem", "neut"),
    [
        (0, "нулевой", "нулевая", "нулевое"),
        (1, "первый", "первая", "первое"),
        (2, "второй", "вторая", "второе"),
        (3, "третий", "третья", "третье"),
        (4, "четвёртый", "четвёртая", "четвёртое"),
        (6, "шестой", "шестая", "шестое"),
        (7, "седьмой", "седьмая", "седьмое"),
        (8, "восьмой", "восьмая", "восьмое"),
        (11, "одиннадцатый", "одиннадцатая", "одиннадцатое"),
        (20, "двадцатый", "двадцатая", "двадцатое"),
        (21, "двадцать первый", "двадцать первая", "двадцать первое"),
        (23, "двадцать третий", "двадцать третья", "двадцать третье"),
        (40, "сороковой", "сороковая", "сороковое"),
        (90, "девяностый", "девяностая", "девяностое"),
        (100, "сотый", "сотая", "сотое"),
        (101, "сто первый", "сто первая", "сто первое"),
        (140, "сто сороковой", "сто сороковая", "сто сороковое"),
        (200, "двухсотый", "двухсотая", "двухсотое"),
        (300, "трёхсотый", "трёхсотая", "трёхсотое"),
        (400, "четырёхсотый", "четырёхсотая", "четырёхсотое"),
        (1000, "тысячный", "тысячная", "тысячное"),
        (1001, "тысяча первый", "тысяча первая", "тысяча первое"),
        (2000, "двухтысячный", "двухтысячная", "двухтысячное"),
        (2003, "две тысячи третий", "две тысячи третья", "две тысячи третье"),
        (21000, "двадцатиоднотысячный", "двадцатиоднотысячная", "двадцатиоднотысячное"),
        (90000, "девяностотысячный", "девяностотысячная", "девяностотысячное"),
        (100000, "стотысячный", "стотысячная", "стотысячное"),
        (MAX_NUMBER, "миллионный", "миллионная", "миллионное"),
    ],
)
def test_ordinal_table(n: int, masc: str, fem: str, neut: str) -> None:
    assert ordinal(n) == masc
    assert ordinal(n, Gender.FEM) == fem
    assert ordinal(n, Gender.NEUT) == neut


# Nominative: 1 -> nom. sg; 2-4 -> gen. sg; 0, 5-20 -> gen. pl; the last two
# digits decide (111-114 behave like 11-14).
AGREEMENT_NOM = [
    (0, "минут"), (1, "минута"), (2, "минуты"), (3, "минуты"), (4, "минуты"),
    (5, "минут"), (9, "минут"), (10, "минут"), (11, "минут"), (12, "минут"),
    (13, "минут"), (14, "минут"), (15, "минут"), (19, "минут"), (20, "минут"),
    (21, "минута"), (22, "минуты"), (24, "минуты"), (25, "минут"), (30, "минут"),
    (31, "минута"), (41, "минута"), (42, "минуты"), (100, "минут"), (101, "минута"),
    (102, "минуты"), (105, "минут"), (111, "минут"), (112, "минут"), (114, "минут"),
    (121, "минута"), (122, "минуты"), (1000, "минут"), (1001, "минута"),
    (1011, "минут"), (MAX_NUMBER, "минут"),
]  # fmt: skip
# Genitive: 1, 21, 101 -> gen. sg; every other number -> gen. pl.
AGREEMENT_GEN = [
    (1, "минуты"), (2, "минут"), (4, "минут"), (5, "минут"), (11, "минут"),
    (21, "минуты"), (22, "минут"), (101, "минуты"), (111, "минут"), (121, "минуты"),
]  # fmt: skip


@pytest.mark.parametrize(("n", "expected"), AGREEMENT_NOM)
def test_noun_agreement_nominative(n: int, expected: str) -> None:
    assert noun_form(n, MINUTE) == expected


@pytest.mark.parametrize(("n", "expected"), AGREEMENT_GEN)
def test_noun_agreement_genitive(n: int, expected: str) -> None:
    assert noun_form(n, MINUTE, Case.GEN) == expected


@pytest.mark.parametrize(
    ("n", "noun", "case", "expected"),
    [
        (1, MINUTE, Case.NOM, "одна минута"),
        (2, MINUTE, Case.NOM, "две минуты"),
        (5, MINUTE, Case.NOM, "пять минут"),
        (11, MINUTE, Case.NOM, "одиннадцать минут"),
        (21, MINUTE, Case.NOM, "двадцать одна минута"),
        (22, MINUTE, Case.NOM, "двадцать две минуты"),
        (1, HOUR, Case.NOM, "один час"),
        (2, HOUR, Case.NOM, "два часа"),
        (5, HOUR, Case.NOM, "пять часов"),
        (21, HOUR, Case.NOM, "двадцать один час"),
        (24, HOUR, Case.NOM, "двадцать четыре часа"),
        (1, SECOND, Case.NOM, "одна секунда"),
        (1, MINUTE, Case.GEN, "одной минуты"),
        (2, MINUTE, Case.GEN, "двух минут"),
        (21, MINUTE, Case.GEN, "двадцати одной минуты"),
        (5, MINUTE, Case.GEN, "пяти минут"),
        (1, HOUR, Case.GEN, "одного часа"),
        (2, HOUR, Case.GEN, "двух часов"),
        (21, HOUR, Case.GEN, "двадцати одного часа"),
        (1000, MINUTE, Case.GEN, "тысячи минут"),
    ],
)
def test_count_phrase(n: int, noun: Noun, case: Case, expected: str) -> None:
    assert count_phrase(n, noun, case) == expected


def test_one_minute_is_feminine_one_hour_masculine() -> None:
    assert count_phrase(1, MINUTE) == "одна минута"
    assert count_phrase(1, HOUR) == "один час"
    assert count_phrase(2, MINUTE) == "две минуты"
    assert count_phrase(2, HOUR) == "два часа"


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("n", [-1, MAX_NUMBER + 1, 10**9])
def test_out_of_range(n: int) -> None:
    for func in (cardinal, ordinal):
        with pytest.raises(ValueError, match="out of range"):
            func(n)
    with pytest.raises(ValueError, match="out of range"):
        noun_form(n, MINUTE)


@pytest.mark.parametrize("n", [True, 1.0, "1", None])
def test_not_an_int(n: object) -> None:
    with pytest.raises(TypeError):
        cardinal(n)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ordinal(n)  # type: ignore[arg-type]
