"""Search terms of Kazakh and Russian text, the same at index and at query time.

Issue 15, "Search": «паспорт», «паспорта», «паспортом», «паспортты»,
«паспорттың», «паспортымды» must all find each other with one query, and a
caller switches language inside a sentence, so the term of a word depends on
the word alone, never on the declared language.

:func:`term` of one word:

1. lower case, ё -> е; a mask (``[IIN]``) and a number (``853``, ``21-ші``
   -> ``21``) are kept as they are; a few spellings of one name are unified
   (:data:`ALIASES`: «егов» -> egov, «ЭЦҚ» -> эцп);
2. Kazakh: cut the longest inflection chain of :mod:`.kksuffix` (plural,
   possessive, case; verb tense and person) that the stem's last sound and
   vowel harmony allow, undo the к/г, қ/ғ, п/б alternation
   (куәлігі -> куәлік), then
3. Russian Snowball (PyStemmer) on what is left when it has no Kazakh
   letter (a loan), so that a Russian loan with a Kazakh ending meets its
   Russian forms: «справкаға» -> справка -> справк <- «справки».

Which applies: a word with a letter only Kazakh writes (әғқңөұүһі) is
Kazakh.  A word without one may still be a Russian stem with a Kazakh ending
(«паспортты», «паспортымды», «справканы») or a Kazakh word written without
those letters («адамдар», «жазамын»); the Kazakh reading is taken only where
a Russian one is implausible (:func:`_looks_russian`): a т-suffix after a
stem in т (паспорт+ты), a suffix after a vowel only after a typical loan
ending (-ка, -та, -ия, -ие: справка+ны) or as -лар / -й- (бала+лар,
жаса+ймын).  Russian forms like «тексты», «команда», «страны», «вопросы»,
«налогу», «граждан» keep their Snowball stems.  Known ambiguities resolved
the Russian way: «жауапты» (like «факты»), «кезекте» (like «акте»),
«мекенжайды» (like «растайды»); Snowball's own limits stay («справок»).

Fast: :func:`term` is cached per word (:data:`CACHE_WORDS` distinct words);
``python -m bailanys.analytics.morph [WORDS] [TEXT_FILE]`` prints words per
second, first pass and cached.
"""

from __future__ import annotations

import re
import sys
import time
from functools import lru_cache
from typing import Final

import Stemmer  # type: ignore[import-not-found]

from bailanys.analytics.kksuffix import (
    BACK_VOWELS,
    CHAINS,
    FRONT_VOWELS,
    KK_LETTERS,
    MAX_CHAIN,
    V,
    sound_class,
)

#: Distinct words whose terms are cached: a hotline's vocabulary with its
#: Kazakh forms is a few hundred thousand words; 2**20 entries is ~150 MB at most.
CACHE_WORDS: Final = 1 << 20
#: Longest word looked at, in letters: the longest Kazakh word forms
#: (жауапкершіліктеріміздің) are under 30; anything longer is noise.
MAX_WORD: Final = 64
#: Shortest stem left after cutting a Kazakh chain (the robot matcher's 3).
MIN_STEM: Final = 3
#: The same, for a word without Kazakh letters before a chain of one or two
#: letters (Russian forms with short stems: «новым», «фонда»).
MIN_STEM_LOAN: Final = 4
#: Ends of Russian loans after which a Kazakh suffix is plausible (справка+ны).
LOAN_FINALS: Final = ("ка", "та", "ия", "ие", "ья", "ма")
#: One spelling per name the recogniser or an analyst may write several ways.
ALIASES: Final = {
    "егов": "egov", "игов": "egov", "eгов": "egov", "эгов": "egov",
    "ецп": "эцп", "эцқ": "эцп", "ецқ": "эцп", "эцк": "эцп",
    "цон": "цон", "хқко": "цон", "спецон": "цон",
}  # fmt: skip
_DEVOICE: Final = {"г": "к", "ғ": "қ", "б": "п"}
_MASK: Final = re.compile(r"\[[A-Z]+\]")
_TOKEN: Final = re.compile(r"\[[A-Z]+\]|[^\W_]+(?:-[^\W_]+)*")
_NUMBER: Final = re.compile(r"\d+")
_NEUTRAL_CHAINS: Final = ("мен", "бен", "пен")
_STEM_VOWELS: Final = frozenset("аеыі")

_RU = Stemmer.Stemmer("russian")


def tokens(text: str) -> list[str]:
    """The words of ``text`` in order: a mask such as ``[IIN]`` is one word, a number too.

    A hyphen joins a word and a Kazakh ending written apart («ЭЦП-ны»,
    «3-ші») into one word; other hyphenated words are split («аты-жөні»).
    """
    out: list[str] = []
    for tok in _TOKEN.findall(text):
        if "-" not in tok:
            out.append(tok)
            continue
        parts = tok.split("-")
        head = parts[0]
        for part in parts[1:]:
            if _is_suffix(part.lower()) or head.isdigit():
                head = f"{head}-{part}"
            else:
                out.append(head)
                head = part
        out.append(head)
    return out


def _is_suffix(part: str) -> bool:
    return part in CHAINS or part in ("ші", "шы", "ыншы", "інші", "ншы", "нші", "й", "я", "е")


def term(word: str) -> str:
    """The search term of one word (see the module's docstring).

    A word longer than :data:`MAX_WORD` letters is cut to that first, which
    bounds what a hostile text or query can put in the cache.
    """
    return _term(word[:MAX_WORD])


@lru_cache(maxsize=CACHE_WORDS)
def _term(word: str) -> str:
    if _MASK.fullmatch(word):
        return word
    w = word.lower().replace("ё", "е")
    if "-" in w:
        head = w.split("-", 1)[0]
        if head.isdigit() or _MASK.fullmatch(word.split("-", 1)[0]):
            return head
        w = head
    if not w or w[0].isdigit() or w.isascii():
        num = _NUMBER.match(w)
        return num.group() if num and w[0].isdigit() else ALIASES.get(w, w)
    w = ALIASES.get(w, w)
    if KK_LETTERS.isdisjoint(w):
        kazakh = _kazakh_without_letters(w)
        if kazakh is None:
            return str(_RU.stemWord(w))
        return str(_RU.stemWord(kazakh))
    stem = kk_stem(w)
    if KK_LETTERS.isdisjoint(stem):  # a Russian loan: пенсия(ға) -> пенс
        stem = str(_RU.stemWord(stem))
    return ALIASES.get(stem, stem)


def terms(text: str) -> list[str]:
    """One search term per word of :func:`tokens`, in order."""
    return [term(w) for w in tokens(text)]


def _harmony_ok(stem: str, chain: str) -> bool:
    """Vowel harmony: a back chain after a back last vowel, a front one after a front."""
    if chain.startswith(_NEUTRAL_CHAINS):
        return True
    first = next((c for c in chain if c in BACK_VOWELS or c in FRONT_VOWELS), None)
    if first is None:
        return True
    last = next((c for c in reversed(stem) if c in BACK_VOWELS or c in FRONT_VOWELS), None)
    if last is None:
        return True  # an abbreviation (эцп): either harmony
    return (first in BACK_VOWELS) == (last in BACK_VOWELS)


def _cuts(word: str, min_stem: int, loan: bool = True) -> list[tuple[str, str]]:
    """(stem, chain) pairs, longest chain first, that fit the stem's sound and harmony.

    ``loan``: a stem without Kazakh letters may take either harmony (Kazakh
    says «банкті», «банкке» after the back vowel of банк).
    """
    out = []
    for n in range(min(MAX_CHAIN, len(word) - min_stem), 0, -1):
        chain = word[-n:]
        allowed = CHAINS.get(chain)
        if allowed is None:
            continue
        stem = word[:-n]
        if sound_class(stem[-1]) not in allowed:
            continue
        if (loan and KK_LETTERS.isdisjoint(stem)) or _harmony_ok(stem, chain):
            out.append((stem, chain))
    return out


def _undo_alternation(stem: str) -> str:
    if stem[-1:] in _DEVOICE:
        return stem[:-1] + _DEVOICE[stem[-1]]
    return stem


def kk_stem(word: str) -> str:
    """A Kazakh word without its inflection chain («паспорттарымызды» -> паспорт).

    The longest chain that fits is cut, then a stem-final vowel + м/ң (a
    possessive or the stem's own: «төлемді» is төлем+ді or төле+мді),
    then a stem-final а е ы і: where a
    vowel sits on the border, both readings give one stem («тіркеді»: тірке
    + past -ді or тірк + present -еді; «зейнетақысы»: зейнетақы + -сы,
    «зейнетақыны» -> зейнетақ).
    """
    cuts = _cuts(word, MIN_STEM)
    stem = cuts[0][0] if cuts else word
    if len(stem) > MIN_STEM + 1 and stem[-1] in "мң" and stem[-2] in _STEM_VOWELS:
        stem = stem[:-1]  # төлем+ді ~ төле+мді: drop the -м that may be "my"
    if stem[-1] in _STEM_VOWELS and len(stem) > MIN_STEM:
        stem = stem[:-1]  # тірке(ді) ~ тірк(еді), зейнетақы(сы) ~ зейнетақ(ы)
    return _undo_alternation(stem)


def _kazakh_without_letters(word: str) -> str | None:
    """The Kazakh stem of a word without Kazakh letters, or None to read it as Russian.

    Each guard names the Russian forms it keeps Russian.
    """
    for stem, chain in _cuts(word, MIN_STEM, loan=False):
        if len(stem) < MIN_STEM_LOAN and len(chain) < 3:
            continue  # a short stem only before an unmistakable chain (айт+амын)
        if _looks_russian(stem, chain):
            return None  # a shorter chain is no likelier Kazakh (тексты: not текст+ы)
        if stem[-1] == "г" or (stem[-1] == "б" and chain != "ы"):
            stem = _undo_alternation(stem)  # жауаб+ын; Russian has no -гы, but клубы
        return stem
    return None


def _looks_russian(stem: str, chain: str) -> bool:
    last, first = stem[-1], chain[0]
    if len(chain) == 1:  # налог+у, свадьб+у, портал+ы: Snowball reads these the same or better
        return not (chain == "у" and sound_class(last) == V)  # but раста+у, жаса+у
    if first == "т":  # паспорт+ты, документ+тер, банк+тен; not текс+ты, фак+те, казахс+тан
        return last != "т" and (len(chain) < 3 or last == "с")
    if sound_class(last) == V:  # справка+ны, бала+лар, раста+ймын; not стра+ны, вопро+сы
        return not (first in "лй" or stem.endswith(LOAN_FINALS))
    if first == "д" and len(chain) == 2:
        return last in "нрзж"  # команда, фонды, звезды: Russian stems in -нд, -рд, -зд, -жд
    if chain in ("дан", "ден"):
        return last in "зж"  # граждан, создан, издан
    if chain in ("ке", "ге"):  # банк+ке, номер+ге; not прописк+е, петербург+е
        return not (last == "к" if first == "к" else last in "рлмйу")
    return False


def _bench(n_words: int, path: str | None) -> None:
    """Print words per second of :func:`terms` over a text (a file, or a built-in sample)."""
    if path is not None:
        with open(path, encoding="utf-8") as f:
            text = " ".join(tokens(f.read()))
    else:
        sample = ("Сәлеметсіз бе менің паспортымды жоғалттым жаңа куәлік алу үшін қандай "
                  "анықтама керек здравствуйте мне нужна справка о пенсионных отчислениях "
                  "через eGov с ЭЦП пособиесін қашан аламын [IIN] 87015551234 ").split()
        vocab = [w + suffix for w in sample for suffix in ("", "ды", "ға", "ым", "а", "ом")]
        text = " ".join(vocab[i % len(vocab)] for i in range(10_000))
    words = len(tokens(text))
    distinct = len(set(tokens(text)))
    _term.cache_clear()
    t0 = time.perf_counter()
    terms(text)
    cold = time.perf_counter() - t0
    runs = max(1, n_words // max(words, 1))
    t0 = time.perf_counter()
    for _ in range(runs):
        terms(text)
    warm = time.perf_counter() - t0
    print(f"first pass (cache cold): {words / cold:,.0f} words/s ({words} words, "
          f"{distinct} distinct); cached: {runs * words / warm:,.0f} words/s "
          f"({runs * words} words, {warm:.2f} s)")


if __name__ == "__main__":
    _bench(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000,
           sys.argv[2] if len(sys.argv) > 2 else None)
