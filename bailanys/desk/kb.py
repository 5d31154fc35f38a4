"""The knowledge base on the operators' desktop: the robot's FAQ, searched the robot's way.

Issue 19, "Knowledge base: the FAQ entries searchable with the robot's
matcher, so operator answers match the robot's" (KPI 2 of the requirements'
Appendix 1: accurate, complete information; the profile's "50 most popular
questions" the robot answers are the reference the operator reads too). The
entries are the voice robot's (``[robot] faq``, :mod:`bailanys.robot.faq`);
nothing is copied: :meth:`KnowledgeBase.load` builds the robot's own
:class:`~bailanys.robot.matcher.Matcher` over the same file and the same
embedding cache (``[robot] faq_cache``), and an engine that already runs the
robot passes its matcher to :class:`KnowledgeBase` instead (no second model).

How a query is ranked (measured on 116 operator-style queries, kk and ru:
``tests/desk/data/kb_queries.yaml``; ``bench/desk_kb.py`` prints the figures,
``tests/desk/test_kb.py`` holds floors under them):

* **the robot's score** (:meth:`Matcher.match` over every entry): the e5
  embedding of the query against each entry's phrasings, plus the robot's
  own stem overlap. Alone it ranks short keyword queries well, but a typo in
  the one word that matters ("элетронная подпись", "куалик" typed without
  Kazakh letters) or a query worded like an entry's title rather than like
  a caller ("выписка из реестра недвижимости") can put the entry second.
* **a desk lexical score** ``L`` in [0, 1]: the IDF-weighted share of the
  query's words found in the entry's titles, "about" phrases and short
  phrasings (:data:`LEXICAL_PHRASING_WORDS`), both languages. A word's keys are its stems from
  :func:`bailanys.robot.text.stem` taken the Kazakh and the Russian way,
  with the Kazakh letters folded to the Russian keyboard's (ә→а, қ→к, і→и
  ...: operators often type Kazakh on a Russian layout). A word with no
  exact key counts :data:`FUZZY_CREDIT` where a key of its, of at least
  :data:`FUZZY_MIN_LEN` letters, is one deletion (each side) from a known
  key: one wrong, missing or extra letter.

``combined = robot score + LEX_WEIGHT * L``: top-1 98.3 %, top-3 99.1 % on
the 116 queries, against 94.8 % and 99.1 % for the robot's matcher alone
(every short keyword query first either way; the gain is on typos, Kazakh
typed without its letters, and titles). The hit's ``score`` is the
softmax of the combined scores at the robot's fitted temperature (how sure,
among all entries). An entry is shown only when some word of the query is
found in it (``L > 0``) or the robot's score alone reaches
:data:`SURE_SCORE` with a :data:`SURE_SHARE` of the softmax at least: a
query of unknown words ("бла бла трактор") finds nothing rather than the least unlikely entries.

Searching is CPU work (about 10 ms, the query's embedding): blocking, run it
in a thread (``kbweb.py`` does).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bailanys.config import RobotConfig
from bailanys.errors import ConfigError, InputError
from bailanys.robot.faq import LANGS, Entry, load_kb
from bailanys.robot.matcher import Matcher, MatcherConfig, softmax
from bailanys.robot.text import FILLERS, STOP_WORDS, flatten, normalize, stem

log = logging.getLogger(__name__)

#: Longest query searched: a spoken question is under 150 characters (the
#: FAQ's longest phrasing is 89); twice that leaves room for a pasted note.
MAX_QUERY_CHARS = 300
#: Hits shown by default and at most (the desktop's list fits five).
DEFAULT_LIMIT = 5
MAX_LIMIT = 20
#: Weight of the desk lexical share ``L``: the robot's scores of the right
#: entry and the next one differ by 0.01-0.05 on short queries (e5 cosines
#: sit in a narrow band), so a whole query found in one entry's words
#: (L = 1) outweighs that, and a half-found one about matches it. Measured on
#: the query set: top-1 is the same for every weight from 0.05 to 0.3 (at 0.02,
#: two fewer), so the weight sits inside that plateau.
LEX_WEIGHT = 0.1
#: The lexical share reads an entry's phrasings of at most this many words:
#: the long caller turns (issue 18: "завтра хотела в цон записаться ...")
#: carry context words that would make a query with them ("погода завтра")
#: find the entry; the robot's score still reads them all.
LEXICAL_PHRASING_WORDS = 8
#: What a word found only within one letter counts, against 1 for an exact
#: stem: less, so that a correctly spelt word elsewhere still ranks first.
FUZZY_CREDIT = 0.7
#: Shortest key matched within one letter: in shorter ones one letter makes
#: another word ("прив" of привет is one from "прав" of права, "матч" from
#: "мат"), and abbreviations ("ип", "жк", "цон") are typed right or not at all.
FUZZY_MIN_LEN = 5
#: The robot's combined score above which an entry is shown even with no
#: word of the query in it: a paraphrase ("жениться": 0.95 for
#: marriage_registration, whose phrasings say "пожениться"). Queries of
#: nonsense measured 0.83-0.90 (two "small talk" ones, 0.93, share a word anyway).
SURE_SCORE = 0.93
#: ... and the entry must hold this much of the softmax: the robot's score
#: counts the caller's key entities (issue 18), so that "жениться" (#marriage)
#: lifts divorce's score too, yet leaves it no share beside marriage_registration.
SURE_SHARE = 0.01
#: Kazakh letters as typed on a Russian keyboard (the nearest Russian letter).
_FOLD = str.maketrans("әғқңөұүһі", "агкноуухи")


@dataclass(frozen=True)
class KbHit:
    """One entry found, in the page's language (the fields of the JSON answer)."""

    faq_id: str
    topic: str | None
    title: str
    question: str  # the entry's first phrasing: what the caller asks
    answer: str  # what the robot says: the operator says the same
    sms: str | None  # the text the robot would send, if the entry has one
    score: float  # 0..1: how sure, among all entries

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def word_keys(word: str) -> frozenset[str]:
    """The keys of a normalised word: its stem the Kazakh and the Russian way, folded."""
    return frozenset(stem(word, kazakh).translate(_FOLD) for kazakh in (True, False))


def is_content_word(word: str) -> bool:
    """A normalised word that may tell a topic apart: not a stop word or a
    greeting (:data:`~bailanys.robot.matcher.FILLERS`), and not one with a
    Kazakh ending on a stop word's stem ("қалайсың": how are you)."""
    if word in STOP_WORDS or word in FILLERS:
        return False
    return flatten(stem(word, True)) not in STOP_WORDS


def query_words(text: str) -> list[str]:
    """The words of ``text`` that tell a topic apart (normalised, no stop words)."""
    return [w for w in normalize(text).split() if is_content_word(w)]


def _deletions(key: str) -> Iterator[str]:
    for i in range(len(key)):
        yield key[:i] + key[i + 1:]


class LexicalIndex:
    """The desk lexical share ``L`` (module docstring): pure, built once per FAQ."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.size = len(entries)
        self._where: dict[str, set[int]] = {}
        for i, entry in enumerate(entries):
            for text in _entry_texts(entry):
                for word in query_words(text):
                    for key in word_keys(word):
                        self._where.setdefault(key, set()).add(i)
        self._idf = {k: math.log1p(self.size / len(v)) for k, v in self._where.items()}
        self._unknown_idf = math.log1p(self.size)  # an unknown word: as rare as can be
        self._near: dict[str, set[str]] = {}  # a key, and each of its deletions -> keys
        for key in self._where:
            if len(key) >= FUZZY_MIN_LEN:
                for variant in (key, *_deletions(key)):
                    self._near.setdefault(variant, set()).add(key)

    def near(self, key: str) -> set[str]:
        """Known keys one deletion (on either side) from ``key``, itself excluded."""
        if len(key) < FUZZY_MIN_LEN:
            return set()
        found = set(self._near.get(key, ()))
        for variant in _deletions(key):
            found |= self._near.get(variant, set())
            if variant in self._where and len(variant) >= FUZZY_MIN_LEN - 1:
                found.add(variant)
        found.discard(key)
        return found

    def share(self, text: str) -> npt.NDArray[np.float64]:
        """Per entry, the IDF-weighted share of the query's words found in it."""
        found = np.zeros(self.size, dtype=np.float64)
        total = 0.0
        for word in dict.fromkeys(query_words(text)):
            keys = word_keys(word)
            exact = [k for k in keys if k in self._where]
            credit = 1.0
            if not exact:
                exact = sorted({n for k in keys for n in self.near(k)})
                credit = FUZZY_CREDIT
            if not exact:
                total += self._unknown_idf
                continue
            weight = max(self._idf[k] for k in exact)
            total += weight
            hit = set().union(*(self._where[k] for k in exact))
            found[sorted(hit)] += weight * credit
        return found / total if total > 0.0 else found


def _entry_texts(entry: Entry) -> Iterable[str]:
    for lang in LANGS:
        yield from (entry.title.get(lang, ""), entry.about.get(lang, ""))
        yield from (q for q in entry.questions.get(lang, ())
                    if len(q.split()) <= LEXICAL_PHRASING_WORDS)


def _hit(entry: Entry, lang: str, score: float) -> KbHit:
    questions = entry.questions.get(lang) or ("",)
    return KbHit(faq_id=entry.id, topic=entry.topic or None, title=entry.title_or_id(lang),
                 question=questions[0], answer=entry.answer.get(lang, ""),
                 sms=(entry.sms or {}).get(lang), score=round(score, 4))


class KnowledgeBase:
    """The robot's FAQ and matcher, searched for the desktop (blocking, thread-safe)."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self.entries = matcher.kb.entries
        self.lexical = LexicalIndex(self.entries)
        self._position: Mapping[str, int] = {e.id: i for i, e in enumerate(self.entries)}

    @classmethod
    def load(cls, robot: RobotConfig) -> KnowledgeBase | None:
        """The robot's FAQ with its matcher (seconds without the embedding cache:
        run in a thread); None, logged, when there is no FAQ or it has problems."""
        if not robot.faq:
            log.info("knowledge base: no FAQ (robot.faq is empty)")
            return None
        try:
            faq = load_kb(robot.faq)
        except (ConfigError, OSError) as exc:
            log.error("knowledge base not loaded: %s", exc)
            return None
        return cls(Matcher(faq, MatcherConfig(cache=Path(robot.faq_cache))))

    def search(self, query: str, lang: str, limit: int = DEFAULT_LIMIT) -> list[KbHit]:
        """The entries that answer ``query`` (either language), best first, in ``lang``.

        Raises :class:`~bailanys.errors.InputError` for a language other than
        kk/ru or a query over :data:`MAX_QUERY_CHARS`; a query with no words
        finds nothing, and so does one with no content word (only greetings
        and question words: "сәлем қалайсың")."""
        if lang not in LANGS:
            raise InputError(f"language must be one of {', '.join(LANGS)}, not {lang[:8]!r}")
        if len(query) > MAX_QUERY_CHARS:
            raise InputError(f"a query of at most {MAX_QUERY_CHARS} characters")
        if not query_words(query) or not self.entries:
            return []
        limit = max(1, min(limit, MAX_LIMIT))
        robot = self._robot_scores(query)
        lexical = self.lexical.share(query)
        combined = robot + LEX_WEIGHT * lexical
        sure = softmax(combined, self.matcher.temperature)
        shown = (lexical > 0.0) | ((robot >= SURE_SCORE) & (sure >= SURE_SHARE))
        order = [int(i) for i in np.argsort(-combined, kind="stable") if shown[i]][:limit]
        return [_hit(self.entries[i], lang, float(sure[i])) for i in order]

    def _robot_scores(self, query: str) -> npt.NDArray[np.float64]:
        """The robot's combined score of every entry, in the FAQ's order."""
        result = self.matcher.match(query, top=len(self.entries))
        scores = np.full(len(self.entries), -math.inf)
        for cand in result.candidates:
            scores[self._position[cand.entry.id]] = cand.score
        return scores
