"""Number words -> digits, checked both ways against the voice's phrase tables (issue 15)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from bailanys.analytics import itn
from bailanys.voice.phrases import numbers_kk as kk
from bailanys.voice.phrases import numbers_ru as ru

LIMIT = 1_000_000  # every number 0..999,999


def _read(words: list[str], lang: str, reader: itn.NumberReader | None = None) -> itn.NumberReader:
    vocab = itn.vocabulary(lang)
    r = reader.copy() if reader is not None else itn.NumberReader()
    for w in words:
        assert r.feed(vocab[w]), (words, w)
    return r


def _round_trip(spell: Callable[[int], str], lang: str) -> None:
    """Every number 0..999,999 spelled by ``spell`` reads back as itself.

    A phrase is ``thousands part + rest`` (checked for every number below,
    on the strings), and the reader is a left fold whose state after a
    thousands part is "c thousand, group empty"; so reading each of the
    1,000 thousands parts, then each of the 1,000 rests from that state
    (with the total it carries), reads every phrase word by word, as
    :func:`itn.normalize` does, in well under a second.
    """
    rests = [spell(r).split() for r in range(1000)]
    heads: list[list[str]] = [[]]
    for c in range(1, 1000):
        words = spell(c * 1000).split()
        heads.append(words)
        state = _read(words, lang)
        assert (state.value, state.cur, state.low, state.floor) == (c * 1000, 0, 3, 1000)
    for r, words in enumerate(rests):
        assert _read(words, lang).value == r
        after = _read(words, lang, _read(heads[1], lang)) if r else None
        assert after is None or after.value == 1000 + r
    # The phrase of every number is the head of its thousands and the phrase of its rest.
    head = [" ".join(h) for h in heads]
    prefix = [h + " " if h else "" for h in head]
    rest = [" ".join(r) for r in rests]
    expected = [head[c] if c and not r else prefix[c] + rest[r]
                for c in range(1000) for r in range(1000)]
    bad = [n for n, text in enumerate(map(spell, range(LIMIT))) if text != expected[n]]
    assert bad == []


def test_every_russian_number_reads_back() -> None:
    _round_trip(ru.cardinal, "ru")


def test_every_kazakh_number_reads_back() -> None:
    _round_trip(kk.cardinal, "kk")


@pytest.mark.parametrize("gender", list(ru.Gender))
@pytest.mark.parametrize("case", list(ru.Case))
def test_russian_genders_and_cases_read_back(gender: ru.Gender, case: ru.Case) -> None:
    numbers = [*range(2000), *random.Random(f"{gender}{case}").sample(range(2000, LIMIT), 3000)]
    for n in numbers:
        assert itn.parse(ru.cardinal(n, gender, case).split(), "ru") == n, n


def test_ordinals_read_back() -> None:
    rng = random.Random(15)
    for n in [*range(10, 1200), *rng.sample(range(1200, LIMIT), 2000)]:
        for gender in ru.Gender:
            spans = itn.normalize(ru.ordinal(n, gender).split(), "ru")
            assert len(spans) == 1 and spans[0].text.split("-")[0] == str(n), (n, spans)
        spans = itn.normalize(kk.ordinal(n).split(), "kk")
        assert len(spans) == 1 and spans[0].text.split("-")[0] == str(n), (n, spans)


def test_a_sample_of_whole_phrases_through_normalize() -> None:
    rng = random.Random(1414)
    for n in rng.sample(range(10, LIMIT), 3000):
        for phrase, lang in ((ru.cardinal(n), "ru"), (kk.cardinal(n), "kk")):
            assert [s.text for s in itn.normalize(phrase.split(), lang)] == [str(n)], phrase


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("восемьсот пятьдесят три", "ru", "853"),
    ("сегіз жүз елу үш", "kk", "853"),
    ("две тысячи двадцать четыре", "ru", "2024"),
    ("екі мың жиырма төрт", "kk", "2024"),
    ("восемь семь ноль один", "ru", "8701"),
    ("сегіз жеті нөл бір", "kk", "8701"),
    ("восемьсот 53", "ru", "853"),
    ("800 пятьдесят три", "ru", "853"),
    ("мой номер восемь семьсот один пятьсот пятьдесят пять двенадцать тридцать четыре",
     "ru", "мой номер 87015551234"),
    ("нөмірім сегіз жеті жүз бір бес жүз елу бес он екі отыз төрт", "kk",
     "нөмірім 87015551234"),
    ("в две тысячи двадцать четвёртом году", "ru", "в 2024-м году"),
    ("тысяча девятьсот девяносто пятого года", "ru", "1995-го года"),
    ("двадцать первый век", "ru", "21-й век"),
    ("жиырма бірінші ғасыр", "kk", "21-ші ғасыр"),
    ("алтыншы терезе", "kk", "алтыншы терезе"),
    ("первый раз", "ru", "первый раз"),
    ("один вопрос", "ru", "один вопрос"),
    ("бір сұрақ", "kk", "бір сұрақ"),
    ("он сказал пять", "ru", "он сказал пять"),
    ("он бес минут", "kk", "15 минут"),
    ("жүз", "kk", "жүз"),
    ("мың тоғыз жүз сексен алты", "kk", "1986"),
    ("пятьдесят тысяч тенге", "ru", "50000 тенге"),
    ("миллион", "ru", "1000000"),
    ("ноль", "ru", "ноль"),
    ("ноль ноль семь", "ru", "007"),
    ("двадцати трёх", "ru", "23"),
    ("Восемьсот ПЯТЬДЕСЯТ три", "ru", "853"),
    ("сто сорок четыре сто сорок четыре", "ru", "144144"),
    ("", "ru", ""),
    ("просто слова без чисел", "ru", "просто слова без чисел"),
])  # fmt: skip
def test_normalize(text: str, lang: str, expected: str) -> None:
    assert itn.itn_text(text, lang) == expected


def test_spans_cover_their_source_words() -> None:
    words = "мой иин девяносто ноль один ноль один три ноль ноль один два три четыре".split()
    spans = itn.normalize(words, "ru")
    assert [(s.text, s.first, s.last) for s in spans] == [
        ("мой", 0, 0), ("иин", 1, 1), ("9001013001234", 2, 13)]


def test_huge_input_is_linear() -> None:
    words = ["девять"] * 20_000 + ["слово"] + ["сто"] * 20_000
    spans = itn.normalize(words, "ru")
    assert [len(s.text) for s in spans] == [20_000, 5, 60_000]
