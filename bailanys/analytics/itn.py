"""Inverse text normalisation: Kazakh and Russian number words -> digits (issue 15).

"Numbers and PII": «восемьсот пятьдесят три» and «сегіз жүз елу үш» -> 853,
«две тысячи двадцать четыре» -> 2024, «восемьсот 53» -> 853, and a number
dictated digit by digit or in groups («восемь семь ноль один» -> 8701,
«восемь семьсот один пятьсот пятьдесят пять двенадцать тридцать четыре» ->
87015551234) -> one token of the digits a person would write, so that
:mod:`bailanys.analytics.pii` sees an IIN or a phone number whole.

The vocabulary is not written here: it is read off the phrase tables the
voice speaks with (:mod:`bailanys.voice.phrases.numbers_ru`,
:mod:`~bailanys.voice.phrases.numbers_kk`) by spelling the numbers that
are single words (units, teens, tens, hundreds, the scale words, in every
gender and case they have, and their ordinals), so the two directions cannot
drift apart; ``tests/analytics/test_itn.py`` spells every number 0-999,999
with those tables and reads it back.

Reading: a number word extends the number being read when it fits below
what is already there (a unit after a ten, a ten after a hundred; Kazakh
«жүз» and «мың», Russian «тысяча» multiply what precedes); a word that
does not fit starts a new number.  Numbers read one after another with no
other word between are a dictation: their digits are written together
(«двенадцать тридцать четыре» -> 1234).  A lone one-digit word («один»,
«бір», also "a"/"one" in speech) and a lone «жүз» (also "face") stay words;
ordinals (Russian ones in any case) become ``21-й``, ``2024-м``,
``21-ші``, except a lone one-digit ordinal («первый», «бірінші»).  «он» is
Kazakh 10 only when the text is Kazakh (Russian "he").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Final

from bailanys.voice.phrases import numbers_kk as kk
from bailanys.voice.phrases import numbers_ru as ru


class Kind(Enum):
    """What a number word does to the number being read."""

    ZERO = "zero"
    UNIT = "unit"  # 1-9
    TEEN = "teen"  # 10-19 (Russian one-word teens)
    TEN = "ten"  # 20-90 (Kazakh: 10-90)
    HUNDRED = "hundred"  # Russian 100-900, one word
    HUNDRED_MUL = "hundred_mul"  # Kazakh «жүз»: x100 of a unit before it
    THOUSAND = "thousand"
    MILLION = "million"
    ROUND = "round"  # a one-word round ordinal: тысячный, двухтысячный (value in thousands)


@dataclass(frozen=True, slots=True)
class NumWord:
    kind: Kind
    value: int
    ordinal: str = ""  # "" for a cardinal, else the suffix written after the digits


#: Words a Russian speaker says for "he" that Kazakh reads as 10.
KK_ONLY: Final = frozenset({"он"})
#: Lone words kept as words (see the module's docstring).
LONE_WORDS: Final = frozenset({"жүз"})
_EMPTY: Final = 3  # slot index of an empty group (units 0, tens 1, hundreds 2)
_DIGITS: Final = re.compile(r"\d+")


def _fold(word: str) -> str:
    return word.lower().replace("ё", "е")


# The tables give an ordinal in the nominative (первый, первая, первое); in
# speech it is declined like any adjective ("в две тысячи двадцать четвёртом
# году"). Endings of the hard (-ый/-ой) and the soft (третий) declension,
# Русская грамматика (1980) §§ 1156-1159; the written suffix after the
# digits is the ending less its first letter and ь (2024-м, 1-го, 3-го, 21-й).
_ADJ_HARD: Final = ("ый", "ой", "ого", "ому", "ым", "ом", "ая", "ую", "ое", "ые", "ых", "ыми")
_ADJ_SOFT: Final = (
    "ий", "ьего", "ьему", "ьим", "ьем", "ья", "ьей", "ью", "ье", "ьи", "ьих", "ьими",
)  # fmt: skip


def _ru_ordinal_forms(masc: str) -> dict[str, str]:
    """Every case form of a masculine ordinal -> the suffix written after its digits."""
    if masc.endswith("ий"):  # третий
        stem, endings = masc[:-2], _ADJ_SOFT
    else:
        stem, endings = masc[:-2], _ADJ_HARD
    forms = {}
    for e in endings:
        short = e.lstrip("ь")  # третьего -> 3-го, третья -> 3-я
        forms[stem + e] = short[1:] if len(short) > 1 else short
    if not masc.endswith("ий"):
        forms[stem + "ой"] = "й"  # второй, второй (fem. gen.): both 2-й
    return forms


def _kind_of(n: int, kazakh: bool) -> Kind:
    if n == 0:
        return Kind.ZERO
    if n < 10:
        return Kind.UNIT
    if n < 20 and not kazakh:
        return Kind.TEEN
    if n < 100:
        return Kind.TEN
    if n < 1000:
        return Kind.HUNDRED
    return Kind.THOUSAND if n < 1_000_000 else Kind.MILLION


_ONE_WORD: Final = (*range(0, 20), *range(20, 100, 10), *range(100, 1000, 100), 1000, 1_000_000)


def _ru_words() -> dict[str, NumWord]:
    out: dict[str, NumWord] = {}
    for n in _ONE_WORD:
        for gender in ru.Gender:
            for case in ru.Case:
                card = ru.cardinal(n, gender, case).split()[-1]
                out[_fold(card)] = NumWord(_kind_of(n, False), n)
        if n in (1000, 1_000_000):
            continue  # тысячный, миллионный: below, with the fused forms
        for form, suffix in _ru_ordinal_forms(ru.ordinal(n).split()[-1]).items():
            out[_fold(form)] = NumWord(_kind_of(n, False), n, suffix)
    for count in (2, 5):  # the scale word's other forms: тысячи, тысяч
        for case in ru.Case:
            out[_fold(ru.cardinal(count * 1000, case=case).split()[-1])] = NumWord(
                Kind.THOUSAND, 1000)
    for count in range(1, 1000):  # тысячный, двухтысячный, стотысячный ...
        for form, suffix in _ru_ordinal_forms(ru.ordinal(count * 1000)).items():
            out[_fold(form)] = NumWord(Kind.ROUND, count * 1000, suffix)
    for form, suffix in _ru_ordinal_forms(ru.ordinal(1_000_000)).items():
        out[_fold(form)] = NumWord(Kind.ROUND, 1_000_000, suffix)
    return out


def _kk_words() -> dict[str, NumWord]:
    out: dict[str, NumWord] = {}
    for n in (*range(0, 10), *range(10, 100, 10), 100, 1000, 1_000_000):
        word = kk.cardinal(n)
        kind = Kind.HUNDRED_MUL if n == 100 else _kind_of(n, True)
        out[word] = NumWord(kind, n)
        ordinal = kk.ordinal_word(word)
        out[ordinal] = NumWord(kind, n, "шы" if ordinal.endswith("шы") else "ші")
    return out


def vocabulary(lang: str) -> dict[str, NumWord]:
    """Number words understood in a text of ``lang``: both languages (callers mix them)."""
    return _vocabulary(lang == "kk")


@cache
def _vocabulary(kazakh: bool) -> dict[str, NumWord]:
    words = {**_ru_words(), **_kk_words()}
    if not kazakh:
        for w in KK_ONLY:
            words.pop(w, None)
    return words


class NumberReader:
    """Reads one number word by word; :meth:`feed` says whether the word fits.

    A left fold with the state (total of the finished scales, the smallest
    scale used, the group being read, its lowest filled slot).
    """

    __slots__ = ("total", "floor", "cur", "low", "words", "ordinal", "closed", "text")

    def __init__(self) -> None:
        self.total = 0
        self.floor = 10_000_000  # a scale word must be below this
        self.cur = 0
        self.low = _EMPTY
        self.words = 0
        self.ordinal = ""
        self.closed = False
        self.text: str | None = None  # digits as written, for a token of digits

    def copy(self) -> NumberReader:
        other = NumberReader()
        for name in self.__slots__:
            setattr(other, name, getattr(self, name))
        return other

    @property
    def value(self) -> int:
        return self.total + self.cur

    @property
    def digits(self) -> str:
        return self.text if self.text is not None else str(self.value)

    def feed(self, word: NumWord | str) -> bool:
        """Take the next word (a number word or a string of digits); False if it does not fit."""
        if self.closed:
            return False
        ok = self._digits(word) if isinstance(word, str) else self._word(word)
        if ok:
            self.words += 1
            if isinstance(word, NumWord) and word.ordinal:
                self.ordinal, self.closed = word.ordinal, True
        return ok

    def _digits(self, digits: str) -> bool:
        if self.words == 0 and (len(digits) > 3 or digits.startswith("0")):
            self.text, self.closed = digits, True  # a long or zero-led run: kept as written
            return True
        if digits.startswith("0") or self.low <= len(digits) - 1 or len(digits) > 3:
            return False
        self.cur += int(digits)
        self.low = len(digits) - len(digits.rstrip("0"))  # 800: the tens and units are free
        return True

    def _word(self, w: NumWord) -> bool:
        kind, v = w.kind, w.value
        if kind is Kind.ZERO:
            if self.words:
                return False
            self.text, self.closed = "0", True
            return True
        if kind in (Kind.THOUSAND, Kind.MILLION):
            return self._scale(v)
        if kind is Kind.ROUND:
            if self.words:
                return False
            self.total = v
            return True
        if kind is Kind.HUNDRED_MUL:
            if self.low == _EMPTY:
                self.cur += 100
            elif self.low == 0 and 0 < self.cur % 1000 < 10 and self.cur < 10:
                self.cur *= 100
            else:
                return False
            self.low = 2
            return True
        slot = {Kind.UNIT: 0, Kind.TEEN: 1, Kind.TEN: 1, Kind.HUNDRED: 2}[kind]
        if self.low <= slot:
            return False
        self.cur += v
        self.low = 0 if kind is Kind.TEEN else slot
        return True

    def _scale(self, scale: int) -> bool:
        if scale >= self.floor or self.text is not None:
            return False
        self.total += (self.cur or 1) * scale
        self.cur, self.low, self.floor = 0, _EMPTY, scale
        return True


@dataclass(frozen=True, slots=True)
class Span:
    """One output token and the source words it covers (``first``..``last``, inclusive)."""

    text: str
    first: int
    last: int


def _lookup(word: str, vocab: dict[str, NumWord]) -> NumWord | str | None:
    if _DIGITS.fullmatch(word):
        return word
    return vocab.get(_fold(word))


def _read(words: Sequence[str], vocab: dict[str, NumWord]) -> list[tuple[int, int, NumberReader]]:
    """Numbers read in ``words``: (first, last, reader) each, in order."""
    found: list[tuple[int, int, NumberReader]] = []
    reader: NumberReader | None = None
    first = 0
    for i, word in enumerate(words):
        item = _lookup(word, vocab)
        if item is None:
            if reader is not None:
                found.append((first, i - 1, reader))
                reader = None
            continue
        if reader is not None and reader.feed(item):
            continue
        if reader is not None:
            found.append((first, i - 1, reader))
        reader, first = NumberReader(), i
        if not reader.feed(item):  # a scale word cannot start nothing; never happens
            reader = None
    if reader is not None:
        found.append((first, len(words) - 1, reader))
    return found


def _is_lone_word(reader: NumberReader, word: str) -> bool:
    if reader.words != 1 or reader.text is not None and reader.text != "0":
        return False
    if _DIGITS.fullmatch(word):
        return False
    return reader.value < 10 or _fold(word) in LONE_WORDS


def normalize(words: Sequence[str], lang: str, *, keep_lone_words: bool = True) -> list[Span]:
    """``words`` with each number (or dictated run of numbers) as one token of digits.

    Words that are not numbers come back unchanged, one span each.
    ``keep_lone_words=False`` converts a lone «один» / «бір» too.
    """
    vocab = vocabulary(lang)
    found = _read(words, vocab)
    out: list[Span] = []
    pos = 0
    k = 0
    while k < len(found):
        run = [found[k]]
        while (k + 1 < len(found) and found[k + 1][0] == run[-1][1] + 1
               and not run[-1][2].ordinal and not found[k + 1][2].ordinal):
            k += 1
            run.append(found[k])
        k += 1
        first, last = run[0][0], run[-1][1]
        out.extend(Span(words[i], i, i) for i in range(pos, first))
        pos = last + 1
        if len(run) == 1 and keep_lone_words and _is_lone_word(run[0][2], words[first]):
            out.append(Span(words[first], first, first))
            continue
        text = "".join(r.digits for _, _, r in run)
        suffix = run[-1][2].ordinal
        out.append(Span(f"{text}-{suffix}" if suffix else text, first, last))
    out.extend(Span(words[i], i, i) for i in range(pos, len(words)))
    return out


def itn_text(text: str, lang: str) -> str:
    """:func:`normalize` over the words of a plain text (split on white space)."""
    return " ".join(s.text for s in normalize(text.split(), lang))


def parse(words: Iterable[str], lang: str) -> int | None:
    """The number that ``words`` spell as one number, or None (for tests and tools)."""
    vocab = vocabulary(lang)
    reader = NumberReader()
    for word in words:
        item = _lookup(word, vocab)
        if item is None or not reader.feed(item):
            return None
    return reader.value if reader.words else None


