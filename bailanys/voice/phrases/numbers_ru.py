"""Russian numerals as words: cardinals, ordinals and noun agreement.

Pure text for espeak-ng's ``ru`` voice, which must never see digits: it does
not agree them with the noun ("21 минута" comes out as "двадцать один минута",
"около 2 минут" as "около два минут" in ``espeak-ng -v ru -x``). Numbers
0..1,000,000.

Cardinals (:func:`cardinal`) take a grammatical gender (один / одна / одно,
два / две) and a case, nominative or genitive. In a compound cardinal every
word is declined: "двухсот двадцати одной". Genitive forms follow the
paradigms: два, три, четыре -> двух, трёх, четырёх; пять..двадцать, тридцать
-> пяти..двадцати, тридцати (3rd declension); сорок, девяносто, сто -> сорока,
девяноста, ста; пятьдесят..восемьдесят and двести..девятьсот decline both parts
(пятидесяти, двухсот, пятисот).

Ordinals (:func:`ordinal`) put only the last word in the ordinal form, the
others stay nominative cardinals: "сто двадцать первый", "тысяча первый".
A round-thousand ordinal is one word whose first part is the genitive of the
count, with "одно" for один and "сто", "девяносто" kept: "двухтысячный",
"двадцатиоднотысячный", "стотысячный", "девяностотысячный".

Noun agreement (:func:`noun_form`, :func:`count_phrase`): in the nominative a
number ending in один (not 11) takes the nominative singular ("двадцать одна
минута"); ending in два, три, четыре (not 12-14) the genitive singular ("две
минуты", "двадцать два часа"); otherwise the genitive plural ("пять минут",
"одиннадцать часов"). In the genitive ("около ...") the numeral agrees with the
noun: genitive singular after a number ending in один, genitive plural after
all others ("около двадцати одной минуты", "около двух минут").

One before a scale word. We say "тысяча" and "миллион", not "одна тысяча" and
"один миллион" (the latter is the bookkeeping style of written amounts), and
"сто", never "одна сотня". The independent speller num2words writes "одна
тысяча"; tests cross-check against it and note that difference.

References (cited, not copied):

* «Русская грамматика» (АН СССР, под ред. Н. Ю. Шведовой, 1980), т. I,
  «Склонение количественных числительных», §§ 1374-1375 (два, три, четыре;
  числительные на -дцать, -десят):
  https://fun-project.ru/handbook/grammar/40.html
* Д. Э. Розенталь, «Справочник по правописанию, произношению, литературному
  редактированию», раздел «Имя числительное», e.g. § 193 «Определение при
  существительном, зависящем от числительных два, три, четыре»:
  https://www.tepka.ru/rozental_2/193.html
* Справочное бюро «Грамоты.ру»: after два, три, четыре the noun is genitive
  singular, after пять and more genitive plural (citing Розенталь,
  Джанджакова, Кабанова): https://gramota.ru/ (справка «три розы»).
* «Правила русской орфографии и пунктуации» (1956), § 82: ordinals ending in
  -сотый, -тысячный, -миллионный are written as one word
  ("двадцатипятитысячный"): https://slovar.cc/rus/pravila/1471082.html
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

#: The largest number spelled out.
MAX_NUMBER: Final = 1_000_000


class Gender(StrEnum):
    """Grammatical gender of the counted noun (один / одна / одно)."""

    MASC = "masc"
    FEM = "fem"
    NEUT = "neut"


class Case(StrEnum):
    """Grammatical case of a numeral phrase."""

    NOM = "nom"  # именительный: "двадцать одна минута"
    GEN = "gen"  # родительный: "(около) двадцати одной минуты"


@dataclass(frozen=True, slots=True)
class Noun:
    """The three forms a noun takes after a numeral, and its gender."""

    nom_sg: str  # один час, двадцать одна минута
    gen_sg: str  # два часа; около одного часа
    gen_pl: str  # пять часов; около двух часов
    gender: Gender


HOUR: Final = Noun("час", "часа", "часов", Gender.MASC)
MINUTE: Final = Noun("минута", "минуты", "минут", Gender.FEM)
SECOND: Final = Noun("секунда", "секунды", "секунд", Gender.FEM)
_THOUSAND: Final = Noun("тысяча", "тысячи", "тысяч", Gender.FEM)

_ZERO: Final = {Case.NOM: "ноль", Case.GEN: "ноля"}
_MILLION: Final = {Case.NOM: "миллион", Case.GEN: "миллиона"}

# Index = digit. Index 0 is never used for units, tens 0-1 and hundreds 0.
_UNITS: Final = {
    Case.NOM: (
        "", "один", "два", "три", "четыре",
        "пять", "шесть", "семь", "восемь", "девять",
    ),
    Case.GEN: (
        "", "одного", "двух", "трёх", "четырёх",
        "пяти", "шести", "семи", "восьми", "девяти",
    ),
}  # fmt: skip
# один and два change with gender; the rest do not.
_GENDERED_UNITS: Final = {
    (Case.NOM, 1, Gender.FEM): "одна",
    (Case.NOM, 1, Gender.NEUT): "одно",
    (Case.NOM, 2, Gender.FEM): "две",
    (Case.GEN, 1, Gender.FEM): "одной",
}
_TEENS: Final = {
    Case.NOM: (
        "десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать",
        "пятнадцать", "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать",
    ),
    Case.GEN: (
        "десяти", "одиннадцати", "двенадцати", "тринадцати", "четырнадцати",
        "пятнадцати", "шестнадцати", "семнадцати", "восемнадцати", "девятнадцати",
    ),
}  # fmt: skip
_TENS: Final = {
    Case.NOM: (
        "", "", "двадцать", "тридцать", "сорок",
        "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто",
    ),
    Case.GEN: (
        "", "", "двадцати", "тридцати", "сорока",
        "пятидесяти", "шестидесяти", "семидесяти", "восьмидесяти", "девяноста",
    ),
}  # fmt: skip
_HUNDREDS: Final = {
    Case.NOM: (
        "", "сто", "двести", "триста", "четыреста",
        "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот",
    ),
    Case.GEN: (
        "", "ста", "двухсот", "трёхсот", "четырёхсот",
        "пятисот", "шестисот", "семисот", "восьмисот", "девятисот",
    ),
}  # fmt: skip

# Masculine nominative ordinals.
_ORD_UNITS: Final = (
    "нулевой", "первый", "второй", "третий", "четвёртый",
    "пятый", "шестой", "седьмой", "восьмой", "девятый",
)  # fmt: skip
_ORD_TEENS: Final = (
    "десятый", "одиннадцатый", "двенадцатый", "тринадцатый", "четырнадцатый",
    "пятнадцатый", "шестнадцатый", "семнадцатый", "восемнадцатый", "девятнадцатый",
)  # fmt: skip
_ORD_TENS: Final = (
    "", "", "двадцатый", "тридцатый", "сороковой",
    "пятидесятый", "шестидесятый", "семидесятый", "восьмидесятый", "девяностый",
)  # fmt: skip
_ORD_HUNDREDS: Final = (
    "", "сотый", "двухсотый", "трёхсотый", "четырёхсотый",
    "пятисотый", "шестисотый", "семисотый", "восьмисотый", "девятисотый",
)  # fmt: skip

# In a fused round-thousand ordinal the count is genitive except these words.
_FUSED_PREFIX: Final = {"ста": "сто", "девяноста": "девяносто", "одной": "одно"}


def _check_number(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected an int, got {type(n).__name__}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"number out of range 0..{MAX_NUMBER}: {n}")


def _unit(d: int, gender: Gender, case: Case) -> str:
    return _GENDERED_UNITS.get((case, d, gender), _UNITS[case][d])


def _below_thousand(n: int, gender: Gender, case: Case) -> list[str]:
    """Words of 1..999 in ``case``; the last word agrees with ``gender``."""
    hundreds, rest = divmod(n, 100)
    words = [_HUNDREDS[case][hundreds]] if hundreds else []
    if 10 <= rest <= 19:
        words.append(_TEENS[case][rest - 10])
        return words
    tens, units = divmod(rest, 10)
    if tens:
        words.append(_TENS[case][tens])
    if units:
        words.append(_unit(units, gender, case))
    return words


def _thousands(count: int, case: Case) -> list[str]:
    """Words of ``count`` thousands (1..999): "тысяча", "две тысячи", "двух тысяч"."""
    scale = noun_form(count, _THOUSAND, case)
    if count == 1:
        return [scale]
    return [*_below_thousand(count, Gender.FEM, case), scale]


def noun_form(n: int, noun: Noun, case: Case = Case.NOM) -> str:
    """The form of ``noun`` after the number ``n`` in ``case``.

    Nominative: 1, 21, 101 -> ``nom_sg``; 2-4, 22-24 -> ``gen_sg``; 0, 5-20,
    25-30, 111-114 -> ``gen_pl``. Genitive: 1, 21 -> ``gen_sg``; others ->
    ``gen_pl``.
    """
    _check_number(n)
    last, last_two = n % 10, n % 100
    ends_in_one = last == 1 and last_two != 11
    if case is Case.GEN:
        return noun.gen_sg if ends_in_one else noun.gen_pl
    if ends_in_one:
        return noun.nom_sg
    if 2 <= last <= 4 and not 12 <= last_two <= 14:
        return noun.gen_sg
    return noun.gen_pl


def cardinal(n: int, gender: Gender = Gender.MASC, case: Case = Case.NOM) -> str:
    """``n`` as a Russian cardinal: ``cardinal(21, Gender.FEM, Case.GEN)`` -> "двадцати одной"."""
    _check_number(n)
    if n == 0:
        return _ZERO[case]
    if n == MAX_NUMBER:
        return _MILLION[case]
    count, rest = divmod(n, 1000)
    words = _thousands(count, case) if count else []
    if rest:
        words += _below_thousand(rest, gender, case)
    return " ".join(words)


def count_phrase(n: int, noun: Noun, case: Case = Case.NOM) -> str:
    """``n`` and ``noun`` agreed: "двадцать одна минута", "около" + "двух часов"."""
    return f"{cardinal(n, noun.gender, case)} {noun_form(n, noun, case)}"


def _inflect_ordinal(masc: str, gender: Gender) -> str:
    """Masculine nominative ordinal -> ``gender``: первый/первая/первое, третий/третья/третье."""
    if gender is Gender.MASC:
        return masc
    if masc.endswith("ий"):  # третий: the soft stem трет'- keeps ь
        return masc[:-2] + ("ья" if gender is Gender.FEM else "ье")
    return masc[:-2] + ("ая" if gender is Gender.FEM else "ое")


def _ordinal_below_thousand(n: int) -> list[str]:
    """Words of the ordinal 1..999: cardinals, then one masculine ordinal word."""
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        return [_ORD_HUNDREDS[hundreds]]
    words = [_HUNDREDS[Case.NOM][hundreds]] if hundreds else []
    tens, units = divmod(rest, 10)
    if 10 <= rest <= 19:
        words.append(_ORD_TEENS[rest - 10])
    elif units == 0:
        words.append(_ORD_TENS[tens])
    else:
        if tens:
            words.append(_TENS[Case.NOM][tens])
        words.append(_ORD_UNITS[units])
    return words


def ordinal(n: int, gender: Gender = Gender.MASC) -> str:
    """``n`` as a nominative Russian ordinal: 3 -> "третий", (3, FEM) -> "третья"."""
    _check_number(n)
    if n == 0:
        masc = _ORD_UNITS[0]
    elif n == MAX_NUMBER:
        masc = "миллионный"
    else:
        count, rest = divmod(n, 1000)
        if rest == 0:
            prefix = "" if count == 1 else _fused_genitive(count)
            masc = prefix + "тысячный"
        else:
            words = _thousands(count, Case.NOM) if count else []
            masc = " ".join(words + _ordinal_below_thousand(rest))
    return _inflect_ordinal(masc, gender)


def _fused_genitive(count: int) -> str:
    """The first part of a round-thousand ordinal: 2 -> "двух", 121 -> "стодвадцатиодно"."""
    words = _below_thousand(count, Gender.FEM, Case.GEN)
    return "".join(_FUSED_PREFIX.get(w, w) for w in words)
