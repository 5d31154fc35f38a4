"""Search terms of Kazakh and Russian text, the same at index and at query time.

PLACEHOLDER (issue 15): lower-cases and splits only; the real normaliser
(Russian Snowball stems, Kazakh suffix stripping) replaces the bodies, not
the signatures.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\\[[A-Z]+\\]|[^\\W_]+", re.UNICODE)


def tokens(text: str) -> list[str]:
    """The words of ``text`` in order (a mask such as ``[IIN]`` is one word)."""
    return _WORD.findall(text)


def term(word: str) -> str:
    """The search term of one word."""
    return word.lower().replace("ё", "е")


def terms(text: str) -> list[str]:
    """One search term per word of :func:`tokens`, in order."""
    return [term(w) for w in tokens(text)]
