"""Kazakh numerals as words: cardinals (есептік сан есім) and ordinals (реттік).

Pure text for espeak-ng's ``kk`` voice, which must never see digits: it reads
"3-ші" as two words, "үш" and a stray "ші" (``espeak-ng -v kk -x``:
"'u#SS'I"), where "үшінші" is one ("u#SInS'I"). Numbers 0..1,000,000.

Cardinals are built from the words for 0-9, the tens он, жиырма, отыз, қырық,
елу, алпыс, жетпіс, сексен, тоқсан and the scale words жүз (100), мың (1,000),
миллион (1,000,000), bigger before smaller, without inflection:
"жүз жиырма үш", "екі жүз", "он бір мың". A single hundred, thousand or
million is said without "бір": "жүз", "мың", "мың тоғыз жүз сексен алты"
(1986), "миллион". The independent speller num2words (``lang='kz'``) writes
"бір мың" and "бір миллион"; that is the written, bookkeeping style, and the
tests note where they differ.

A noun after a numeral stays singular: "екі минут", "бір сағат он бес минут"
(:func:`count_phrase`); Kazakh has no agreement in number or case with
numerals.

Ordinals take -ыншы / -інші after a consonant and -ншы / -нші after a vowel;
back or front by the last vowel of the word (vowel harmony): бірінші,
екінші, үшінші, алтыншы, оныншы, отызыншы, жүзінші, мыңыншы. Irregular:
қырық drops its second ы before the suffix (қырқыншы), жиырма takes -сыншы
(жиырмасыншы, the form of the orthographic dictionaries; Байтұрсынұлы wrote
жиырманшы, see abai.kz below). The letters у and и stand for a vowel plus a
glide, so a word ending in them takes the consonant form: елу -> елуінші.
In a compound only the last word takes the suffix: "жиырма бірінші",
"екі жүзінші", "мың бірінші".

References (cited, not copied):

* «Қазақ грамматикасы. Фонетика, сөзжасам, морфология, синтаксис»,
  section 5.3 «Реттік сандар сөзжасамы» (the -ыншы/-інші/-ншы/-нші suffix):
  https://emirb.org/bafdarlamasi-bo-j-i-n-sh-a-sh-i-fa-ri-l-d-i-lp--aza-grammatika.html?page=609
* SoftMaker.kz, «Cardinal numeral (eseptik san esim) of the Kazakh language»
  and «Ordinal numeral (rettik san esim) of the Kazakh language», with the
  жиырма -> жиырмасыншы exception and the suffix on the last word only:
  https://tili.softmaker.kz/en/san-esimder-numerals/ordinal-numeral-rettik-san-esim-of-the-kazakh-language.html
* «"Жиырмасыншы" ма, "жиырманшы" ма?», abai.kz, citing А. Байтұрсынұлы,
  «Тіл – құрал» (1918, 1924): https://abai.kz/index.php/post/107881
"""

from __future__ import annotations

from typing import Final

#: The largest number spelled out.
MAX_NUMBER: Final = 1_000_000

#: Nouns used after numerals; they stay singular ("екі минут").
HOUR: Final = "сағат"
MINUTE: Final = "минут"
SECOND: Final = "секунд"

_UNITS: Final = ("нөл", "бір", "екі", "үш", "төрт", "бес", "алты", "жеті", "сегіз", "тоғыз")
_TENS: Final = ("", "он", "жиырма", "отыз", "қырық", "елу", "алпыс", "жетпіс", "сексен", "тоқсан")
_HUNDRED: Final = "жүз"
_THOUSAND: Final = "мың"
_MILLION: Final = "миллион"

_BACK_VOWELS: Final = frozenset("аоұыя")
_FRONT_VOWELS: Final = frozenset("әеөүіэ")
# у and и are a vowel with a glide (елу [jelʊw]): a word ending in them takes the
# consonant form of the suffix, and they do not decide its harmony.

# Irregular ordinals and stems that change before the suffix.
_ORDINAL_EXCEPTIONS: Final = {"жиырма": "жиырмасыншы"}
_STEM_BEFORE_VOWEL: Final = {"қырық": "қырқ"}


def _check_number(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected an int, got {type(n).__name__}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"number out of range 0..{MAX_NUMBER}: {n}")


def _below_thousand(n: int) -> list[str]:
    """Words of 1..999: "жүз", "екі жүз жиырма үш"."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds:
        words += [_HUNDRED] if hundreds == 1 else [_UNITS[hundreds], _HUNDRED]
    if tens:
        words.append(_TENS[tens])
    if units:
        words.append(_UNITS[units])
    return words


def cardinal(n: int) -> str:
    """``n`` as a Kazakh cardinal: 123 -> "жүз жиырма үш", 1000 -> "мың"."""
    _check_number(n)
    if n == 0:
        return _UNITS[0]
    if n == MAX_NUMBER:
        return _MILLION
    count, rest = divmod(n, 1000)
    words: list[str] = []
    if count:
        words += [_THOUSAND] if count == 1 else [*_below_thousand(count), _THOUSAND]
    if rest:
        words += _below_thousand(rest)
    return " ".join(words)


def _is_back(word: str) -> bool:
    """Whether the last harmonising vowel of ``word`` is a back vowel."""
    for ch in reversed(word):
        if ch in _BACK_VOWELS:
            return True
        if ch in _FRONT_VOWELS:
            return False
    raise ValueError(f"no harmonising vowel in {word!r}")


def ordinal_word(word: str) -> str:
    """One cardinal word made ordinal: "бір" -> "бірінші", "алты" -> "алтыншы"."""
    if word in _ORDINAL_EXCEPTIONS:
        return _ORDINAL_EXCEPTIONS[word]
    back = _is_back(word)
    if word[-1] in _BACK_VOWELS or word[-1] in _FRONT_VOWELS:
        return word + ("ншы" if back else "нші")
    return _STEM_BEFORE_VOWEL.get(word, word) + ("ыншы" if back else "інші")


def ordinal(n: int) -> str:
    """``n`` as a Kazakh ordinal: 3 -> "үшінші", 21 -> "жиырма бірінші"."""
    words = cardinal(n).split(" ")
    words[-1] = ordinal_word(words[-1])
    return " ".join(words)


def count_phrase(n: int, noun: str) -> str:
    """``n`` and a noun, which stays singular: (2, "минут") -> "екі минут"."""
    return f"{cardinal(n)} {noun}"


#: Voiceless consonants: after them the dative is -қа/-ке, else -ға/-ге.
_VOICELESS: Final = frozenset("кқпстфхцчшщ")


def dative(word: str) -> str:
    """``word`` in the dative (барыс септік): "наурыз" -> "наурызға", "отыз" ->
    "отызға", "бес" -> "беске", "қыркүйек" -> "қыркүйекке", "жеті" -> "жетіге".

    The suffix harmonises with the last vowel (-ға/-қа back, -ге/-ке front)
    and is -қа/-ке after a voiceless consonant; у and и end like a vowel
    ("елуге"). For the booking line (language review 2026-12, item 11:
    "наурызға, сағат он отызға жазылдыңыз").
    """
    back = _is_back(word)
    if word[-1] in _VOICELESS:
        return word + ("қа" if back else "ке")
    return word + ("ға" if back else "ге")
