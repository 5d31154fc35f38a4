"""Find a scorecard's phrase in what one side of a call said (issue 16, "phrase said / not said").

A phrase criterion lists accepted variants per language; a call is matched
against EVERY language's variants (callers and agents switch language inside
a sentence), the call's own language first. Words are compared the way
search compares them (:func:`bailanys.analytics.morph.term`: «паспортыңызды»
finds «паспорт»), and with a tolerance for what a recogniser gets wrong:

* Kazakh letters flattened to their Russian look-alikes (ә->а, і->и, ң->н,
  ғ->г, қ->к, ө->о, ұ/ү->у, һ->х): a model without Kazakh letters, or
  a Kazakh word recognised as Russian;
* a word a letter or two off (dropped, added, changed or swapped letters:
  optimal-string-alignment distance), more for longer words
  (:class:`Tolerance`);
* two words merged into one («досвидания») or one split in two
  («зейнет ақы»);
* a short word of the phrase dropped («сәлеметсіз [бе]»), another word or a
  filler («э», «ну», «енді») inserted between the phrase's words.

A phrase followed by a Kazakh quotative («деп»: «сау болыңыз деп айтты ма»)
is reported speech and does not count.

Precision first (a forbidden word must not fire on a harmless similar
word): a negation («не», «жоқ», «емес») is never dropped, inserted or
fuzzed, and the Kazakh negative verb (-ма/-ме/-ба/-бе/-па/-пе: «білмеймін»)
never meets its affirmative («білемін») although search folds them into one
term, nor a Russian request («подождите») its infinitive («нужно
подождать»); numbers and masks («[IIN]») match only exactly; and ``not_said``
criteria use :data:`STRICT`, which allows one letter on long words only and
no dropped or inserted words.

Pure: no I/O. :func:`compile_phrase` and :func:`channel_words` prepare both
sides once; :func:`find` returns every :class:`Match` with its words and
times (the evidence a reviewer clicks).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Final

from bailanys.analytics.kksuffix import KK_LETTERS
from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.analytics.morph import MAX_WORD, term, tokens

#: Kazakh letters a recogniser without them writes as Russian look-alikes.
FLAT: Final = str.maketrans("әіңғқөұүһё", "аингкоуухе")
#: Words that turn a phrase into its opposite: never dropped, inserted or fuzzed.
NEGATIONS: Final = frozenset("не нет ни ничего нельзя жоқ жок емес ешқандай ешкандай "
                             "ешкім ешким not no".split())
#: Russian verb endings: imperative (-ите, -йте, -тесь) and infinitive.
_IMPERATIVE: Final = ("ите", "йте", "тесь")
_INFINITIVE: Final = ("ать", "ять", "ить", "еть", "уть", "ыть", "ться", "чь", "ти")
#: A phrase right after one of these is negated («не могу ли я помочь»).
NEGATING: Final = frozenset({"не", "ни"})
#: Letters off allowed when a phrase's stem meets the start of a longer heard
#: word: one («свидан» must not meet «ожидан»ие).
PREFIX_EDITS: Final = 1
#: Kazakh quotative verbs: a phrase right before one is reported, not said
#: («сау болыңыз деп айтты ма», «білмеймін деп айтпаймын»; «деб» as it sounds
#: before a vowel).
QUOTATIVES: Final = frozenset("деп деб деді дейді дегенде деген дейсіз дедіңіз десе".split())
#: Longest piece skipped before a quotative (a split word's tail: «ыңыз»).
SPLIT_TAIL: Final = 4
_QUOTATIVES_FLAT: Final = frozenset(w.translate(FLAT) for w in QUOTATIVES)
#: Words a speaker puts anywhere without changing what they say (Russian and
#: Kazakh hesitations and discourse particles of hotline speech).
FILLERS: Final = frozenset("э ээ эээ эм мм м а ну вот так это значит знаете "
                           "короче типа вообще собственно енді ал яғни "
                           "яни ғой гой той әлгі алги анау".split())
#: Most fillers skipped inside one match (a colloquial turn: «э ну вот»).
MAX_FILLERS: Final = 3
#: A phrase word this short (letters) may be dropped by the recogniser
#: («бе», «ли», «же», «за»): particles and prepositions, not content words.
DROPPABLE_LEN: Final = 3
#: Kazakh verb negation (-ма/-ме/-ба/-бе/-па/-пе before a tense or person
#: ending; «Қазақ грамматикасы», етістіктің болымсыз түрі): «білмеймін»,
#: «болмаңыз», «түсінбедім», «алмаймын».
_KK_NEGATIVE: Final = re.compile(r"[мбп][ае](?:й|ды|ди|ган|ген|с|п|у|низ|ныз)")
#: A match with a dropped word must still have heard two of the phrase's
#: words, or one of this many letters exactly as written: «сәлеметсіз [бе]»
#: is still a greeting; «[сау] болыңыз» heard as «болады», «хорошего [дня]»
#: heard as «хорошо», «[до] свидания» as «ожидание» are not farewells.
MIN_KEPT_LETTERS: Final = 8
#: A matched span never grows past this many transcript words beyond the
#: phrase's own (fillers, one inserted word, splits).
_SLACK: Final = MAX_FILLERS + 3


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: a cache key
class Tolerance:
    """How far a heard word may be from the phrase's word, and how many
    word-level slips one match may have."""

    #: (shortest word length in letters, letters off allowed), longest first
    letters: tuple[tuple[int, int], ...]
    #: letters off in all, over the whole phrase
    max_edits: int
    #: phrase words dropped + non-filler words inserted, over the whole phrase
    max_slips: int
    #: a phrase stem of this length may match the start of a longer heard
    #: word (an inflected word also flattened: «орталыгына»); 0: never
    prefix_stem: int
    #: words with one search term match (inflections: «орталығына»); False:
    #: only the written form counts («не знаю» must not meet «не знаете»)
    terms: bool = True

    def allowed(self, length: int) -> int:
        return next((k for n, k in self.letters if length >= n), 0)


#: ``said`` and hold phrases: the issue's "a word a letter or two off; a
#: dropped or inserted short word". Three-letter words take one letter
#: («ещё» heard «ищё»), eight-letter ones two (bench/qa_phrases.py).
LENIENT: Final = Tolerance(letters=((8, 2), (3, 1)), max_edits=3, max_slips=1, prefix_stem=5)
#: ``not_said`` (forbidden words): one letter on words of seven letters or more
#: («работа» must not meet «забота»), no dropped or inserted word, no prefix, no
#: other inflection (the card lists the forms it forbids): a false alarm fails an agent.
STRICT: Final = Tolerance(letters=((7, 1),), max_edits=1, max_slips=0, prefix_stem=0,
                          terms=False)


@dataclass(frozen=True, slots=True, eq=False)
class Token:
    """One word prepared for comparison (a phrase's or a heard one); made by
    the cached :func:`token`, so one object per word, hashed by identity
    (the cache key of :func:`word_cost`)."""

    flat: str  # lower case, Kazakh letters flattened
    term: str  # the search term (morph.term), flattened
    negative: bool  # a Kazakh negative verb form
    mood: str  # a Russian verb's imperative ("imp") or infinitive ("inf"), else ""
    exact: bool  # a number, a mask or a negation: only an exact match counts
    joined: bool = False  # two words written as one (no prefix match then)

    @property
    def droppable(self) -> bool:
        return len(self.flat) <= DROPPABLE_LEN and not self.exact


@lru_cache(maxsize=1 << 16)
def token(word: str) -> Token:
    """The comparison form of one word (cached: a hotline's vocabulary is small)."""
    low = word[:MAX_WORD].lower().replace("ё", "е")
    flat = low.translate(FLAT)
    stem = term(word).lower().translate(FLAT)
    tail = flat[max(0, len(stem) - 1):] if stem and flat.startswith(stem[:-1]) else flat
    negative = bool(_KK_NEGATIVE.search(tail)) and len(flat) > len(stem)
    exact = (any(c.isdigit() for c in low) or low.startswith("[") or flat in NEGATIONS)
    return Token(flat=flat, term=stem, negative=negative, mood=_mood(low), exact=exact)


def _mood(low: str) -> str:
    """A Russian request («подождите») and an infinitive («подождать») share
    their search term but not their meaning to a caller."""
    if not low.isalpha() or not KK_LETTERS.isdisjoint(low) or len(low) < 5:
        return ""
    if low.endswith(_IMPERATIVE):
        return "imp"
    return "inf" if low.endswith(_INFINITIVE) else ""


@dataclass(frozen=True, slots=True)
class Phrase:
    """One accepted variant, prepared: its words and where it came from."""

    text: str
    language: str
    words: tuple[Token, ...]


@lru_cache(maxsize=1 << 14)
def compile_phrase(text: str, language: str) -> Phrase:
    return Phrase(text=text, language=language,
                  words=tuple(token(w) for w in tokens(text)))


def compile_variants(variants: Mapping[str, Sequence[str]], language: str | None
                     ) -> tuple[Phrase, ...]:
    """Every language's variants, the call's ``language`` first (code-switching)."""
    langs = sorted(variants, key=lambda lang: (lang != language, lang))
    return tuple(p for lang in langs for v in variants[lang]
                 if (p := compile_phrase(v, lang)).words)


#: Words that ask the caller to wait without a verb («одну минуту»,
#: «минуточку», «бір минут»): a request like «подождите».
WAIT_WORDS: Final = frozenset("минуту минуточку минутку секунду секундочку минут секунд".split())
#: A Kazakh polite imperative, Kazakh letters flattened: «күте тұрыңыз»,
#: «күтіңіз», «қоймаңыз», «күте тұрыңызшы» (-(ы/і)ңыз/-ңіз, with -шы/-ші).
_KK_POLITE_IMPERATIVE: Final = re.compile(r"н[ыи]з(?:ш[ыи])?$")


def is_request(phrase: Phrase) -> bool:
    """The phrase asks the listener to do something (wait, stay, not hang up):
    a Russian imperative («подождите», «оставайтесь», «не кладите»), a
    Kazakh polite imperative, or a wait formula («одну минуту»); not a
    statement of what the speaker will do («сейчас посмотрю», «нақтылап
    берейін»). Issue 16, hold etiquette: see :data:`bailanys.qa.criteria.HOLD_TAIL_S`."""
    return any(t.mood == "imp" or t.flat in WAIT_WORDS
               or (phrase.language == "kk" and _KK_POLITE_IMPERATIVE.search(t.flat))
               for t in phrase.words)


@dataclass(frozen=True, slots=True)
class Heard:
    """One side's words in time order, prepared once per call."""

    channel: Channel
    words: tuple[Word, ...]
    tokens: tuple[Token, ...]
    starts: tuple[float, ...]  # each word's start, for bisect


def channel_words(utterances: Iterable[Utterance], channel: Channel) -> Heard:
    words = sorted((w for u in utterances if u.channel is channel for w in u.words
                    if w.text.strip()), key=lambda w: (w.start, w.end))
    return Heard(channel=channel, words=tuple(words),
                 tokens=tuple(token(w.text) for w in words),
                 starts=tuple(w.start for w in words))


@dataclass(frozen=True, slots=True)
class Match:
    """A phrase found: the heard words (masked transcript text) and their times."""

    phrase: Phrase
    first: int  # index of the first heard word
    last: int  # index of the last heard word (inclusive)
    text: str
    start: float
    end: float
    edits: int  # letters off plus slips: 0 is a clean match


@lru_cache(maxsize=1 << 18)
def distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit),
    or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if (i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]):
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=1 << 18)
def word_cost(p: Token, h: Token, tol: Tolerance) -> int | None:
    """Letters off between a phrase word and a heard word, or None: no match."""
    if p.flat == h.flat:
        return 0
    if p.exact or h.exact or p.negative != h.negative or p.mood and h.mood and p.mood != h.mood:
        return None
    if tol.terms and p.term == h.term and len(p.term) >= 3 and p.mood == h.mood:
        return 0
    limit = tol.allowed(min(len(p.flat), len(h.flat)))
    if limit == 0:
        return None
    d = distance(p.flat, h.flat, limit)
    if tol.prefix_stem and not (p.joined or h.joined) and p.mood == h.mood:
        for stem in (p.term, p.flat):  # «орталыгына», «тұрыңызшы»: an ending added
            if len(stem) >= tol.prefix_stem and len(h.flat) > len(stem):
                pd = distance(stem, h.flat[:len(stem)], PREFIX_EDITS)
                d = min(d, pd) if pd <= PREFIX_EDITS else d
    return d if d <= limit else None


def _written(p: Token, h: Token) -> int:
    """Letters of ``p`` heard exactly as written (flattened), else 0."""
    return len(p.flat) if p.flat == h.flat else 0


@lru_cache(maxsize=1 << 16)
def _joined(parts: tuple[Token, ...]) -> Token:
    """Words written as one: a negation or a number in them must then match exactly
    («не знаю» heard «незнаю», «14 14» heard «1414»)."""
    flat = "".join(t.flat for t in parts)
    return Token(flat=flat, term=flat, negative=any(t.negative for t in parts),
                 mood=parts[-1].mood, exact=any(t.exact for t in parts), joined=True)


@dataclass(frozen=True, slots=True)
class _State:
    i: int  # phrase words consumed
    j: int  # heard words consumed
    edits: int
    slips: int
    fillers: int
    kept: int = 0  # letters of the phrase's words heard as written (not by stem)
    words: int = 0  # the phrase's words heard
    dropped: bool = False


def _align(phrase: Phrase, heard: Heard, hi: int, start: int,
           tol: Tolerance) -> tuple[int, int] | None:
    """(end index exclusive, cost) of the cheapest alignment of the whole
    phrase starting at heard word ``start`` (before ``hi``), or None: a small
    depth-first search, the clean step tried first, pruned by the best cost."""
    pw, hw = phrase.words, heard.tokens
    n, limit = len(pw), min(hi, start + len(pw) + _SLACK)
    best: tuple[int, int] | None = None
    stack = [_State(0, start, 0, 0, 0)]
    while stack:
        s = stack.pop()
        cost = s.edits + s.slips
        if best is not None and cost >= best[1]:
            continue
        if s.i == n:
            if not s.dropped or s.words >= 2 or s.kept >= MIN_KEPT_LETTERS:
                best = (s.j, cost)
            continue
        if (pw[s.i].droppable and s.slips < tol.max_slips and n > 1
                and (s.i > 0 or s.j == start)):
            stack.append(replace(s, i=s.i + 1, slips=s.slips + 1, dropped=True))
        if s.j >= limit:
            continue
        if s.j > start and hw[s.j].flat in FILLERS and s.fillers < MAX_FILLERS:
            stack.append(replace(s, j=s.j + 1, fillers=s.fillers + 1))
        elif s.j > start and s.slips < tol.max_slips and not hw[s.j].exact:
            stack.append(replace(s, j=s.j + 1, slips=s.slips + 1))
        _merges(pw, hw, s, tol, limit, stack)
        c = word_cost(pw[s.i], hw[s.j], tol)
        if c is not None and s.edits + c <= tol.max_edits:
            stack.append(replace(s, i=s.i + 1, j=s.j + 1, edits=s.edits + c,
                                 kept=s.kept + _written(pw[s.i], hw[s.j]),
                                 words=s.words + 1))
    if best is None or best[0] == start:
        return None
    return best


def _merges(pw: Sequence[Token], hw: Sequence[Token], s: _State, tol: Tolerance,
            limit: int, stack: list[_State]) -> None:
    """Two phrase words heard as one, or one phrase word heard as two."""
    if s.i + 1 < len(pw):
        joined = _joined(tuple(pw[s.i:s.i + 2]))
        c = word_cost(joined, hw[s.j], tol)
        if c is not None and s.edits + c <= tol.max_edits:
            stack.append(replace(s, i=s.i + 2, j=s.j + 1, edits=s.edits + c,
                                 kept=s.kept + len(joined.flat), words=s.words + 2))
    if s.j + 1 < limit:
        c = word_cost(pw[s.i], _joined(tuple(hw[s.j:s.j + 2])), tol)
        if c is not None and s.edits + c <= tol.max_edits:
            stack.append(replace(s, i=s.i + 1, j=s.j + 2, edits=s.edits + c,
                                 kept=s.kept + len(pw[s.i].flat), words=s.words + 1))


def _could_start(p: Phrase, h: Token, tol: Tolerance) -> bool:
    """A cheap filter before the search: the phrase's first word (or two
    words merged, or a split) could begin at ``h``."""
    first = p.words[0]
    if first.droppable or first.flat[:2] == h.flat[:2]:
        return True
    return word_cost(first, h, tol) is not None


def find(phrases: Sequence[Phrase], heard: Heard, tol: Tolerance = LENIENT, *,
         start: float = 0.0, end: float | None = None, first_only: bool = False
         ) -> list[Match]:
    """Every non-overlapping match of any of ``phrases`` whose first word
    starts within ``start``..``end`` seconds, in time order (the first one
    only with ``first_only``)."""
    words = heard.words
    lo = bisect_left(heard.starts, start)
    hi = len(words)
    found: list[Match] = []
    k = lo
    while k < hi and (end is None or words[k].start <= end):
        hit = _best_at(phrases, heard, hi, k, tol)
        if hit is None:
            k += 1
            continue
        found.append(hit)
        if first_only:
            break
        k = hit.last + 1
    return found


def _quoted(heard: Heard, after: int) -> bool:
    """A quotative verb follows the match: next, after fillers, or after one
    short piece (the tail of a word the recogniser split: «бол ыңыз деп»)."""
    pieces = 0
    for t in heard.tokens[after:after + 2 + MAX_FILLERS]:
        if t.flat in _QUOTATIVES_FLAT:
            return True
        if t.flat in FILLERS:
            continue
        pieces += 1
        if pieces > 1 or len(t.flat) > SPLIT_TAIL:
            return False
    return False


def _best_at(phrases: Sequence[Phrase], heard: Heard, hi: int, k: int,
             tol: Tolerance) -> Match | None:
    best: Match | None = None
    negated = k > 0 and heard.tokens[k - 1].flat in NEGATING
    for p in phrases:
        if not _could_start(p, heard.tokens[k], tol) or (negated and not p.words[0].exact):
            continue
        got = _align(p, heard, hi, k, tol)
        if (got is None or (best is not None and got[1] >= best.edits)
                or _quoted(heard, got[0])):
            continue
        span = heard.words[k:got[0]]
        best = Match(phrase=p, first=k, last=got[0] - 1,
                     text=" ".join(w.text for w in span), start=span[0].start,
                     end=span[-1].end, edits=got[1])
        if got[1] == 0:
            break
    return best
