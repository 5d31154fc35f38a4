"""The TTS lexicon: how espeak-ng must say words it would read wrongly.

Applied to the spoken text only, just before synthesis
(:class:`bailanys.voice.tts.PromptRenderer`); the written text (SMS, the
console, transcripts, events) keeps the acronym. Language review 2026-12,
item 36: espeak-ng reads acronyms as words, ЭЦП ['Etsp], ИИН ['Iin], ИП
['Ip], kk ЭЦҚ ['etsq], ЖСН [Z@s@n'@], where callers say them letter by letter.
The replacement spells the letters as separate words, which espeak-ng says
one by one (``espeak-ng -v ru -x "э цэ пэ"`` -> ['e ts'E p'E]; the hyphenated
"э-цэ-пэ" fuses into ['ets'Ep'E]).

Letter names: Russian э, цэ, пэ, и, эн; Kazakh е, це, қа, же, эс, эн (as ҚР is
said "қа-эр"). Acronyms said as words stay: ЦОН [ts'on], ЗАГС [z'Aks], АХАЖ
[Ax'AZ] match how people say them.

Pure: no I/O. Only whole upper-case words are replaced, so "ип" inside a
word or a lower-case "ип" is left alone; a Kazakh case ending after a hyphen
("ЭЦҚ-ны") stays attached to the spelled form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

#: Language -> written acronym -> what espeak-ng is given to say.
LEXICON: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType({
    "ru": MappingProxyType({
        "ЭЦП": "э цэ пэ",
        "ИИН": "и и эн",
        "ИП": "и пэ",
    }),
    "kk": MappingProxyType({
        "ЭЦҚ": "е це қа",
        "ЖСН": "же эс эн",
    }),
})


def _pattern(words: Mapping[str, str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)({alternatives})(?!\w)")


_PATTERNS: Final[Mapping[str, re.Pattern[str]]] = {
    lang: _pattern(words) for lang, words in LEXICON.items()
}


def spoken(lang: str, text: str) -> str:
    """``text`` as espeak-ng should be given it in ``lang``: "получение ЭЦП" ->
    "получение э цэ пэ". A language without a lexicon comes back unchanged."""
    pattern = _PATTERNS.get(lang)
    if pattern is None:
        return text
    words = LEXICON[lang]
    return pattern.sub(lambda m: words[m.group(1)], text)
