"""A hit's snippet and offset: the words around the first matched word, hits marked.

Issue 15 ("Results: call, snippet with the hit highlighted, offset in
seconds"). Pure: it reads one stored utterance. Word ``i`` of the masked
``text`` (:func:`bailanys.analytics.morph.tokens`) has term ``i`` of
``terms`` and entry ``i`` of the ``words`` JSON (schema v3 keeps them one
to one, :mod:`bailanys.analytics.transcripts`), so a matched term gives the
word to mark and the time to jump to.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Final

from bailanys.analytics import morph
from bailanys.analytics.searchtypes import Fragment

#: Words kept before and after the first hit: a result line of the page
#: (about 25 words) with the hit in its first third, as search engines show.
BEFORE: Final = 8
AFTER: Final = 16
ELLIPSIS: Final = "…"


def first_hit(terms: list[str], wanted: Collection[str]) -> int | None:
    """Index of the first term in ``wanted`` (None when no word matched)."""
    for i, t in enumerate(terms):
        if t in wanted:
            return i
    return None


def word_start(words_json: str, index: int, default: float) -> float:
    """Start time of word ``index`` from the ``words`` JSON ([[w, start, end, conf], ...])."""
    try:
        return float(json.loads(words_json)[index][1])
    except (ValueError, TypeError, IndexError, KeyError):
        return default


def fragments(tokens: list[str], terms: list[str], wanted: Collection[str],
              center: int) -> tuple[Fragment, ...]:
    """The words around ``center`` as fragments; matched words are ``hit`` fragments."""
    lo, hi = max(0, center - BEFORE), min(len(tokens), center + AFTER + 1)
    out: list[Fragment] = []
    plain = ELLIPSIS if lo > 0 else ""  # the plain text since the last hit
    for i in range(lo, hi):
        sep = " " if (i > lo or lo > 0) else ""
        if i < len(terms) and terms[i] in wanted:
            if plain + sep:
                out.append(Fragment(plain + sep))
            plain = ""
            out.append(Fragment(tokens[i], hit=True))
        else:
            plain += sep + tokens[i]
    if hi < len(tokens):
        plain += " " + ELLIPSIS
    if plain:
        out.append(Fragment(plain))
    return tuple(out)


def snippet(text: str, terms: str, words_json: str, wanted: Collection[str],
            start: float) -> tuple[tuple[Fragment, ...], float]:
    """(fragments, offset) of one utterance; ``start`` is its start (the fallback offset)."""
    toks = morph.tokens(text)
    term_list = terms.split()
    center = first_hit(term_list, wanted)
    if center is None:  # e.g. only a NOT or a term the tokenizer split: show the start
        return fragments(toks, term_list, wanted, 0), start
    return fragments(toks, term_list, wanted, center), word_start(words_json, center, start)
