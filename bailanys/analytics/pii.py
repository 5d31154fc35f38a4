"""Personal data masked out of transcripts before they are stored or indexed (issue 15).

"Numbers and PII": the recording stays the legal record; the text that is
indexed and shown to analysts has its IINs, phone numbers, card numbers and
e-mail addresses replaced by :data:`IIN`, :data:`PHONE`, :data:`CARD`,
:data:`EMAIL`.  :func:`mask` works on the words of a transcript AFTER
:mod:`bailanys.analytics.itn` (numbers are digits, a number dictated in
groups is mostly one token already); :func:`mask_text` on free text.

Digits: digit tokens next to each other, or with at most
:data:`MAX_FILLERS` filler words between them («э», «так», «ещё», «тире»,
«және»: what a caller says while dictating), are one number, and so is a
one-digit word ITN left as a word («семь») inside such a run.  Then:

* 12 digits that :func:`bailanys.iin.is_valid_iin` accepts -> ``[IIN]``;
* a Kazakhstan (or Russian) number, +7 / 8 and 10 digits, or the 10
  digits alone starting 7 (every Kazakh number starts 7: mobile 70x/747/77x,
  cities 7172, 727...), or any number said after «плюс» -> ``[PHONE]``;
* 13-19 digits passing the Luhn check (ISO/IEC 7812-1) -> ``[CARD]``;
* any other run of :data:`MIN_MASKED_DIGITS` (9) digits or more ->
  :data:`NUMBER`.  Conservative on purpose: a 12-digit IIN the recogniser
  got one digit wrong fails the check and is still personal data, as is a
  16-digit card misheard, an ID card number (9 digits), a BIN or an IBAN's
  digits.  Amounts, dates and years (2024, 50000, 01012024) are 8 digits at
  most and stay searchable.

E-mail: «иван собака мейл точка ру», «ivan эт gmail нүкте ком» (an "at"
word between two words, then «точка»/«нүкте»/«dot» and a word, or a
known mail provider) and anything written with ``@``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from bailanys.analytics.itn import Kind, Span, vocabulary
from bailanys.iin import IIN_LENGTH, is_valid_iin

IIN: Final = "[IIN]"
PHONE: Final = "[PHONE]"
CARD: Final = "[CARD]"
EMAIL: Final = "[EMAIL]"
#: A long number that is none of the above (see the module's docstring).
NUMBER: Final = "[NUMBER]"
MASKS: Final = frozenset({IIN, PHONE, CARD, EMAIL, NUMBER})

#: Shortest digit run masked even when it matches no pattern: a Kazakh ID
#: card number has 9 digits; dates written as digits (ddmmyyyy) have 8.
MIN_MASKED_DIGITS: Final = 9
#: Payment card numbers: 13 to 19 digits (ISO/IEC 7812-1).
CARD_LENGTHS: Final = range(13, 20)
#: Filler words allowed between dictated groups of one number.
MAX_FILLERS: Final = 2
FILLERS: Final = frozenset(
    "э ээ эээ м мм а так ну вот ещё еще потом дальше далее тире дефис минус и да "
    "ал және енді сосын содан кейін иә".split()
)
PLUS_WORDS: Final = frozenset({"плюс", "+", "plus"})
AT_WORDS: Final = frozenset({"собака", "собачка", "эт", "ат", "әт", "at", "@"})
DOT_WORDS: Final = frozenset({"точка", "нүкте", "dot", "дот", "."})
MAIL_PROVIDERS: Final = frozenset(
    "gmail mail yandex inbox list bk icloud yahoo outlook hotmail rambler "
    "гмейл гмэйл джимейл джимэйл мейл мэйл майл яндекс инбокс рамблер".split()
)
_DIGITS: Final = re.compile(r"\d+")
_EMAIL_RE: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*", re.UNICODE)
_WORD_RE: Final = re.compile(r"[^\w\[@+.]*([\w\[\]@+.-]*[\w\]])[^\s]*")
_DIGIT_RUN_RE: Final = re.compile(r"(?<![\w+])(\+\s*)?\d(?:[\s\-().]{0,3}\d)*")


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check of ISO/IEC 7812-1, over a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def classify(digits: str, plus: bool = False) -> str | None:
    """The mask for a run of digits, or None to keep it (see the module's docstring)."""
    n = len(digits)
    if n == IIN_LENGTH and is_valid_iin(digits):
        return IIN
    if plus and n >= 10:
        return PHONE
    if (n == 11 and digits[0] in "78") or (n == 10 and digits[0] == "7"):
        return PHONE
    if n in CARD_LENGTHS and luhn_ok(digits):
        return CARD
    return NUMBER if n >= MIN_MASKED_DIGITS else None


def _fold(word: str) -> str:
    return word.lower().replace("ё", "е")


def _small_digit(word: str) -> str | None:
    """A one-digit number word ITN left as a word («семь», «бір») -> its digit."""
    entry = vocabulary("kk").get(_fold(word))
    if entry is None or entry.ordinal or entry.kind not in (Kind.UNIT, Kind.ZERO):
        return None
    return str(entry.value)


def _digit_runs(tokens: Sequence[str]) -> list[tuple[int, int, str, bool]]:
    """(first, last, digits, said after "plus") of each dictated number."""
    runs: list[tuple[int, int, str, bool]] = []
    n = len(tokens)
    i = 0
    while i < n:
        if not _DIGITS.fullmatch(tokens[i]):
            i += 1
            continue
        first = last = i
        digits = tokens[i]
        while True:
            k = last + 1
            while k < n and k - last <= MAX_FILLERS and _fold(tokens[k]) in FILLERS:
                k += 1
            if k >= n or (k > last + 1 and classify(digits) in (IIN, PHONE, CARD)):
                break  # a whole number already: "ИИН ... и телефон ..." stay two
            more = tokens[k] if _DIGITS.fullmatch(tokens[k]) else _small_digit(tokens[k])
            if more is None:
                break
            digits += more
            last = k
        plus = first > 0 and _fold(tokens[first - 1]) in PLUS_WORDS
        runs.append((first - 1 if plus else first, last, digits, plus))
        i = last + 1
    return runs


def _emails(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """(first, last) of each spoken or written e-mail address."""
    found: list[tuple[int, int]] = []
    folded = [_fold(t) for t in tokens]
    for i, word in enumerate(folded):
        if "@" in word and _EMAIL_RE.search(word):
            found.append((i, i))
            continue
        if word not in AT_WORDS or i == 0 or i + 1 >= len(tokens):
            continue
        last = i + 1
        while last + 2 < len(tokens) and folded[last + 1] in DOT_WORDS:
            last += 2  # мейл точка ру, mail точка co точка kz
        if last == i + 1 and folded[i + 1] not in MAIL_PROVIDERS:
            continue  # «у меня собака дома»: no domain
        first = i - 1
        while first >= 2 and folded[first - 1] in DOT_WORDS:  # иван точка петров собака
            first -= 2
        found.append((first, last))
    return found


def mask(tokens: Sequence[str]) -> list[Span]:
    """``tokens`` with each piece of personal data replaced by one mask token.

    Spans say which source tokens each output token covers (inclusive);
    unmasked tokens come back as they are, one span each.
    """
    cover: list[tuple[int, int, str]] = [(a, b, EMAIL) for a, b in _emails(tokens)]
    for first, last, digits, plus in _digit_runs(tokens):
        label = classify(digits, plus)
        if label is not None:
            cover.append((first, last, label))
    cover.sort()
    out: list[Span] = []
    pos = 0
    for first, last, label in cover:
        if first < pos:  # overlaps a span already masked: widen that one
            prev = out[-1]
            out[-1] = Span(prev.text, prev.first, max(prev.last, last))
            pos = max(pos, last + 1)
            continue
        out.extend(Span(tokens[i], i, i) for i in range(pos, first))
        out.append(Span(label, first, last))
        pos = last + 1
    out.extend(Span(tokens[i], i, i) for i in range(pos, len(tokens)))
    return out


def _mask_digits(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group())
    label = classify(digits, plus=m.group(1) is not None)
    return label if label is not None else m.group()


_SPOKEN_EMAIL_RE: Final = re.compile(
    r"\b[\w.-]+\s+(?:" + "|".join(sorted(AT_WORDS - {"@"})) + r")\s+[\w-]+"
    r"(?:\s+(?:" + "|".join(sorted(DOT_WORDS - {"."})) + r")\s+[\w-]+)+",
    re.IGNORECASE | re.UNICODE,
)


def mask_text(text: str) -> str:
    """Free text with e-mails (written or spoken) and long digit runs masked.

    Digit groups written with spaces, hyphens, dots or brackets between
    them («+7 (701) 555-12-34», «900101 300123») are read as one number;
    then the words (punctuation at their edges aside) go through
    :func:`mask`, for spoken e-mails and groups with filler words between.
    """
    text = _EMAIL_RE.sub(EMAIL, text)
    text = _SPOKEN_EMAIL_RE.sub(EMAIL, text)
    text = _DIGIT_RUN_RE.sub(_mask_digits, text)
    words = list(_WORD_RE.finditer(text))
    spans = mask([m.group(1) for m in words])
    out: list[str] = []
    pos = 0
    for span in spans:
        if span.text in MASKS and span.text != words[span.first].group(1):
            start, end = words[span.first].start(1), words[span.last].end(1)
            out += [text[pos:start], span.text]
            pos = end
    out.append(text[pos:])
    return "".join(out)
